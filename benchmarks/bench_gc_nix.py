"""`omg gc` side by side with `nix-store --gc`, on equivalent stores, in one run.

    .venv/bin/python benchmarks/bench_gc_nix.py [--sizes 100,1000,5000] [--runs N]

For each N, one source tree per store path (a directory, a subdirectory and
`--files` small files of unique content, plus one file shared by all, so both
stores deduplicate) is added to an omg store and to a private Nix store
(``nix-store --store local?root=DIR --add``, ``auto-optimise-store`` on, so
Nix too keeps a ``.links`` pool and its gc scans it). Ten paths are rooted in
each; the other N are dead. Each measured run copies the prepared store
(``cp -a``, hard links kept) and times the whole process of ``omg gc`` and of
``nix-store --gc`` on its copy, interleaved so both see the same load; the
dry runs (``omg gc --dry-run``, ``nix-store --gc --print-dead``) change
nothing and run on the prepared stores. Goals (the hardening issue): omg gc
<= nix-store --gc at every N (moving each path to the trash first included),
and omg gc --dry-run <= 2x nix-store --gc --print-dead.

Needs Nix (Debian: ``apt-get install nix-bin``); without it the benchmark
says so and prints omg's figures alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

VENV_BIN = Path(sys.executable).parent
OMG = [str(VENV_BIN / "omg")] if (VENV_BIN / "omg").exists() else [sys.executable, "-m", "omg"]
LIVE = 10
GC_GOAL = 1.0
DRY_GOAL = 2.0


def sources(root: Path, count: int, files: int) -> list[Path]:
    """`count` trees: ``sub/`` with `files` unique files, and one file common to all."""
    out = []
    for i in range(count):
        d = root / f"p{i}"
        (d / "sub").mkdir(parents=True)
        for j in range(files):
            (d / "sub" / f"f{j}").write_text(f"path {i} file {j}\n" * (1 + j % 7))
        (d / "README").write_text("the same in every path\n")
        out.append(d)
    return out


def omg_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OMG_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(OMG_HOME=str(home), XDG_CONFIG_HOME=str(home.parent / "config"),
               XDG_DATA_HOME=str(home.parent / "data"))
    return env


def build_omg(base: Path, srcs: list[Path]) -> Path:
    from store.layout import Layout
    from store.local import LocalStore

    layout = Layout(base / "omg")
    store = LocalStore(layout)
    roots = layout.gcroots / "bench"
    roots.mkdir(parents=True)
    for i, src in enumerate(srcs):
        rec = store.add(src, "pkg", f"1.{i}").record
        if i < LIVE:
            # relative, so the root still holds its path in a copy of the home
            os.symlink(os.path.relpath(layout.store_path(rec.path), roots), roots / rec.path)
    store.close()
    return layout.home


def nix_env(conf: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIX_")}
    env["NIX_CONF_DIR"] = str(conf)
    return env


def build_nix(base: Path, srcs: list[Path], env: dict[str, str]) -> Path:
    root = base / "nix"
    root.mkdir()
    store = f"local?root={root}"
    added: list[str] = []
    for at in range(0, len(srcs), 400):
        chunk = [str(s) for s in srcs[at:at + 400]]
        out = subprocess.run(["nix-store", "--store", store, "--add", *chunk], env=env,
                             check=True, capture_output=True, text=True).stdout.split()
        added += out
    gcroots = root / "nix" / "var" / "nix" / "gcroots"
    gcroots.mkdir(parents=True, exist_ok=True)
    for path in added[:LIVE]:
        os.symlink(path, gcroots / Path(path).name)
    return root


def timed(cmd: list[str], env: dict[str, str], tries: int = 1) -> float:
    """Wall time of `cmd` in ms. Nix gets `tries`: its scan of /proc for runtime roots
    fails now and then on a busy machine ("reading symlink: File name too long")."""
    for attempt in range(tries):
        t = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        took = (time.perf_counter() - t) * 1000
        if proc.returncode == 0:
            return took
        if attempt + 1 == tries:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-2000:]}")
    raise AssertionError("unreachable")


def nix_timed(args: list[str], root: Path, env: dict[str, str]) -> float:
    return timed(["nix-store", "--store", f"local?root={root}", *args], env, tries=3)


def copy(src: Path, dst: Path) -> None:
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)


def remove(path: Path) -> None:
    subprocess.run(["chmod", "-R", "u+w", str(path)], check=False)
    shutil.rmtree(path, ignore_errors=True)


def check_collected(omg_home: Path, nix_root: Path | None, dead: int) -> None:
    """Both collectors kept exactly the live paths (the runs are comparable)."""
    kept = [n for n in os.listdir(omg_home / "store") if not n.startswith(".")
            and not n.endswith(".meta")]
    trash = omg_home / "store" / ".trash"
    if len(kept) != LIVE or (trash.exists() and os.listdir(trash)):
        raise SystemExit(f"omg gc kept {len(kept)} paths, expected {LIVE}")
    if nix_root is not None:
        left = [n for n in os.listdir(nix_root / "nix" / "store")
                if not n.startswith(".") and n != "trash"]
        if len(left) != LIVE:
            raise SystemExit(f"nix-store --gc kept {len(left)} of {dead + LIVE} paths")


def bench_size(tmp: Path, n: int, files: int, runs: int, nix: dict[str, str] | None) -> None:
    base = tmp / f"n{n}"
    srcs = sources(base / "src", n + LIVE, files)
    t0 = time.perf_counter()
    omg_home = build_omg(base, srcs)
    nix_root = build_nix(base, srcs, nix) if nix is not None else None
    shutil.rmtree(base / "src")
    setup = time.perf_counter() - t0
    omg_cmd, dry_cmd = [*OMG, "gc"], [*OMG, "gc", "--dry-run"]
    oenv = omg_env(omg_home)
    gc_t: dict[str, list[float]] = {"omg": [], "nix": []}
    dry_t: dict[str, list[float]] = {"omg": [], "nix": []}
    for i in range(runs + 1):  # the first round warms up
        dry_o = timed(dry_cmd, oenv)
        dry_n = nix_timed(["--gc", "--print-dead"], nix_root, nix) \
            if nix is not None and nix_root is not None else 0.0
        work, nixwork = base / "work", base / "nixwork"
        copy(omg_home, work)
        if nix is not None and nix_root is not None:
            copy(nix_root, nixwork)
        os.sync()  # no dirty copy for either collector's fsync to flush
        took_o = timed(omg_cmd, omg_env(work))
        took_n = nix_timed(["--gc"], nixwork, nix) if nix is not None else 0.0
        check_collected(work, nixwork if nix is not None else None, n)
        remove(work)
        remove(nixwork)
        if i:
            gc_t["omg"].append(took_o)
            gc_t["nix"].append(took_n)
            dry_t["omg"].append(dry_o)
            dry_t["nix"].append(dry_n)
    go, gn = statistics.median(gc_t["omg"]), statistics.median(gc_t["nix"])
    do, dn = statistics.median(dry_t["omg"]), statistics.median(dry_t["nix"])
    label = f"{n:>5} dead paths ({files + 1} files each)"
    if nix is None:
        print(f"{label}: omg gc {go:7.1f} ms, omg gc --dry-run {do:6.1f} ms "
              f"(no Nix to compare; setup {setup:.0f} s)")
        return
    print(f"{label}: omg gc {go:7.1f} ms  nix-store --gc {gn:7.1f} ms  "
          f"= {go / gn:.2f}x (goal <= {GC_GOAL:.2f}x)")
    print(f"{label}: omg gc --dry-run {do:6.1f} ms  nix-store --gc --print-dead {dn:6.1f} ms  "
          f"= {do / dn:.2f}x (goal <= {DRY_GOAL:.1f}x)")
    remove(base)


def nix_available(tmp: Path) -> dict[str, str] | None:
    if shutil.which("nix-store") is None:
        print("nix-store: not installed (Debian: apt-get install nix-bin); omg alone")
        return None
    conf = tmp / "nixconf"
    conf.mkdir()
    (conf / "nix.conf").write_text("auto-optimise-store = true\nsandbox = false\n"
                                   "build-users-group =\n")
    env = nix_env(conf)
    version = subprocess.run(["nix-store", "--version"], env=env, capture_output=True,
                             text=True).stdout.strip()
    print(f"{version}, private store (--store local?root=DIR), auto-optimise-store on")
    return env


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--runs", type=int, default=0, help="measured runs per size "
                    "(default: 7 at 100, 5 at 1,000, 3 above)")
    ap.add_argument("--files", type=int, default=10, help="unique files per store path")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="omg-bench-gc-") as d:
        tmp = Path(d)
        nix = nix_available(tmp)
        for n in (int(s) for s in args.sizes.split(",")):
            runs = args.runs or (7 if n <= 100 else 5 if n <= 1000 else 3)
            bench_size(tmp, n, args.files, runs, nix)
        subprocess.run(["chmod", "-R", "u+w", d], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
