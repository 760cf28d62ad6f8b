"""Shell completion: the cost of one TAB (goal < 50 ms), against `python -c pass`.

    .venv/bin/python benchmarks/bench_completion.py [--runs N]

Each TAB runs `omg __complete bash WORD...` once (shims/completion.py calls it the
same way); measured whole-process on a home with two node versions, two profiles,
the command table already cached (the first TAB after an upgrade builds it from
the typer CLI: printed too) and upstream's versions kept by an earlier
`omg list --remote`. The bash line times the whole completion function in a real
bash, per call, the process included.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_profiles import OMG, _env, fake_runtime, interleaved  # noqa: E402

CASES = {
    "commands    (omg <TAB>)": ["__complete", "bash", ""],
    "versions    (omg use node@<TAB>)": ["__complete", "bash", "use", "node@"],
    "profiles    (omg use -p <TAB>)": ["__complete", "bash", "use", "-p", ""],
    "generations (omg rollback --to <TAB>)": ["__complete", "bash", "rollback", "--to", ""],
    "options     (omg use --<TAB>)": ["__complete", "bash", "use", "--"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="omg-bench-tab-") as tmp_name:
        tmp = Path(tmp_name)
        home = tmp / "omg"
        env = _env(home)
        env["XDG_CACHE_HOME"] = str(tmp / "cache")
        for v in ("20.1.0", "22.1.0"):
            src = fake_runtime(tmp, v)
            subprocess.run([*OMG, "store", "add", str(src), "--name", "node", "--version", v],
                           env=env, check=True, capture_output=True)
        for profile in ("default", "work"):
            subprocess.run([*OMG, "use", "node@20", "-p", profile], env=env, check=True,
                           capture_output=True)
        versions = tmp / "cache" / "omg" / "versions"
        versions.mkdir(parents=True)
        (versions / "node").write_text("".join(f"{m}.{n}.0\n" for m in range(25, 0, -1)
                                               for n in range(20)))
        t = time.perf_counter()
        subprocess.run([*OMG, "__complete", "bash", ""], env=env, check=True,
                       capture_output=True)
        first = (time.perf_counter() - t) * 1000
        series = {"python -c pass": [sys.executable, "-c", "pass"]}
        series.update({name: [*OMG, *words] for name, words in CASES.items()})
        medians = interleaved(series, env, args.runs)
        base = medians.pop("python -c pass")
        print(f"python -c pass                          {base:6.1f} ms")
        for name, ms in medians.items():
            print(f"TAB {name:<38} {ms:6.1f} ms = {ms / base:.2f}x python (goal < 50 ms)")
        print(f"first TAB after an upgrade (builds the command table) {first:6.1f} ms")
        bash = _bash_tab(env, args.runs)
        print(f"bash: _omg_complete for `omg use node@<TAB>`   {bash:6.1f} ms per TAB "
              "(goal < 50 ms)")


def _bash_tab(env: dict[str, str], runs: int) -> float:
    from shims.completion import completion_script

    path = f"{Path(OMG[0]).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    script = completion_script("bash") + f"""
COMP_WORDS=(omg use node@); COMP_CWORD=2
start=$EPOCHREALTIME
for ((i = 0; i < {runs}; i++)); do _omg_complete; done
end=$EPOCHREALTIME
echo "$start $end"
"""
    out = subprocess.run(["bash", "-c", script], env={**env, "PATH": path}, check=True,
                         capture_output=True, text=True).stdout.split()
    return (float(out[1]) - float(out[0])) * 1000 / runs


if __name__ == "__main__":
    main()
