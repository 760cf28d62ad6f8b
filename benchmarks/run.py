"""Run omg's benchmarks: every `benchmarks/bench_*.py`, each in its own process.

    .venv/bin/python benchmarks/run.py                 # all of them
    .venv/bin/python benchmarks/run.py ingest gc       # those whose name contains a word
    .venv/bin/python benchmarks/run.py --list
    .venv/bin/python benchmarks/run.py ingest -- --quick   # args after -- go to each bench

Each benchmark prints its own figures beside their baselines; this runner streams that
output, then prints a summary (exit status and wall time per benchmark). It exits
non-zero if any benchmark failed. A separate process per benchmark keeps one
benchmark's imports and caches from flattering the next.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def discover() -> list[Path]:
    return sorted(HERE.glob("bench_*.py"))


def short(path: Path) -> str:
    return path.stem.removeprefix("bench_")


def select(all_benches: list[Path], names: list[str]) -> list[Path]:
    if not names:
        return all_benches
    chosen = [b for b in all_benches if any(n.removeprefix("bench_").removesuffix(".py")
                                            in short(b) for n in names)]
    return chosen


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, passthrough = argv[:i], argv[i + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only benchmarks whose name contains one")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds each benchmark may take (default 1800)")
    args = parser.parse_args(argv)

    benches = discover()
    if args.list:
        for b in benches:
            print(short(b))
        return 0
    chosen = select(benches, args.names)
    if not chosen:
        known = ", ".join(short(b) for b in benches) or "none yet"
        print(f"error: no benchmark matches {args.names} (known: {known})", file=sys.stderr)
        return 2

    env = dict(os.environ)
    # The benchmarks import omg's packages and tests.support.realbin from this checkout.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    results: list[tuple[str, int, float]] = []
    for bench in chosen:
        title = f" {short(bench)} "
        print(f"\n{title:=^78}", flush=True)
        t0 = time.perf_counter()
        try:
            rc = subprocess.run([sys.executable, str(bench), *passthrough], cwd=REPO,
                                env=env, timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            print(f"error: {short(bench)} took longer than {args.timeout:.0f} s",
                  file=sys.stderr)
            rc = 124
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        results.append((short(bench), rc, time.perf_counter() - t0))

    print(f"\n{' summary ':=^78}")
    width = max(len(n) for n, _, _ in results)
    for name, rc, secs in results:
        status = "ok" if rc == 0 else f"FAILED (exit {rc})"
        print(f"{name:<{width}}  {secs:7.1f} s  {status}")
    return 0 if all(rc == 0 for _, rc, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
