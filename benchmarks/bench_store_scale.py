"""Store scale: the cost of one `store add` must not grow with the number of store paths.

Run: ``python benchmarks/bench_store_scale.py`` (``--quick`` for fewer samples and
no whole-process figure; ``--sizes 100,1000,10000``).

One store per size is filled with small, distinct paths; then the time of one
more add is measured in each: a small directory and a small ``.tar.gz``, through
`LocalStore.add` in this process, and the whole ``omg store add`` process. The
stores take turns, sample by sample, so the machine's noise (every add ends
with a syncfs of a shared disk) hits all sizes alike; figures are medians. The
goal is a flat cost: the ratio of the largest size to the smallest beside the
goal. The largest store's fill is timed per stretch, so a 10,000-path store
built in linear time shows as the same cost per add in every stretch. (Before the fix,
every ingest listed all of ``store/`` for debris: one add cost 2.3 ms at 100
paths and 9.5 ms at 5,000.)
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store.layout import Layout
from store.local import LocalStore

GOAL = 1.25  # largest size vs smallest, per-add median
FILES = {"bin/tool": b"#!/bin/sh\necho tool\n", "lib/data": b"shared data\n" * 40,
         "README": b"read me\n"}


class Sources:
    """Distinct small inputs: each add is new content, so a new store path."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.dir = scratch / "src"
        for rel, data in FILES.items():
            (self.dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.dir / rel).write_bytes(data)
        self.serial = 0

    def directory(self) -> Path:
        self.serial += 1
        (self.dir / "serial").write_text(f"{self.serial}\n")
        return self.dir

    def tarball(self) -> Path:
        self.serial += 1
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tf:
            for rel, data in [*FILES.items(), ("serial", f"{self.serial}\n".encode())]:
                ti = tarfile.TarInfo(f"pkg/{rel}")
                ti.size, ti.mode = len(data), 0o755 if rel.startswith("bin/") else 0o644
                tf.addfile(ti, io.BytesIO(data))
        path = self.scratch / "pkg.tar.gz"
        path.write_bytes(buf.getvalue())
        return path


def fill(store: LocalStore, sources: Sources, count: int) -> list[float]:
    """Add `count` distinct directories; the seconds each add took."""
    return [timed_add(store, sources, "directory") for _ in range(count)]


def timed_add(store: LocalStore, sources: Sources, kind: str) -> float:
    """Seconds of one in-process add of a new small directory or tarball."""
    source = sources.directory() if kind == "directory" else sources.tarball()
    start = time.perf_counter()
    store.add(source, kind, str(sources.serial))
    return time.perf_counter() - start


def timed_process(home: Path, sources: Sources) -> float:
    """Seconds of a whole `omg store add` process (a new small directory)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMG_")}
    env.update(OMG_HOME=str(home), XDG_CONFIG_HOME=str(home.parent / "config"))
    source = sources.directory()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "omg", "store", "add", str(source), "-n", "cli",
                    "-v", str(sources.serial)], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="10 samples, no whole-process figure")
    parser.add_argument("--sizes", default="100,1000,10000",
                        help="store sizes to measure at, ascending (default 100,1000,10000)")
    parser.add_argument("--samples", type=int, default=40,
                        help="timed adds of each kind per size (default 40)")
    parser.add_argument("--runs", type=int, default=9,
                        help="timed `omg store add` processes per size (default 9; 0: none)")
    parser.add_argument("--scratch", type=Path, default=None, help="where the store goes")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    samples, runs = (10, 0) if args.quick else (args.samples, args.runs)
    times: dict[str, list[list[float]]] = {k: [[] for _ in sizes]
                                           for k in ("directory", "tarball", "process")}
    stretches: list[tuple[int, int, list[float]]] = []
    with tempfile.TemporaryDirectory(dir=args.scratch) as tmp:
        scratch = Path(tmp)
        sources = Sources(scratch)
        stores = [LocalStore(Layout(scratch / f"omg-{size}")) for size in sizes]
        try:
            for size, store in zip(sizes, stores, strict=True):
                have = 0
                for mark in (s for s in sizes if s <= size):  # the stretches of the largest
                    stretches.append((have, mark, fill(store, sources, mark - have)))
                    have = mark
                print(f"  filled a store with {size:,} paths", flush=True)
                for kind in ("directory", "tarball"):  # warm-up: imports, first opens
                    timed_add(store, sources, kind)
            stretches = stretches[-len(sizes):]
            for _ in range(samples):
                for kind in ("directory", "tarball"):
                    for i, store in enumerate(stores):
                        times[kind][i].append(timed_add(store, sources, kind))
            for _ in range(runs):
                for i, store in enumerate(stores):
                    times["process"][i].append(timed_process(store.layout.home, sources))
        finally:
            for store in stores:
                store.close()
    figures = {k: [statistics.median(t) for t in v] for k, v in times.items() if v[0]}
    at = " / ".join(f"{s:,}" for s in sizes)
    for kind, label, n in (("directory", "directory, in process", samples),
                           ("tarball", ".tar.gz, in process", samples),
                           ("process", "whole `omg store add` process", runs)):
        values = figures.get(kind)
        if not values:
            continue
        shown = " / ".join(f"{v * 1e3:.{0 if kind == 'process' else 2}f}" for v in values)
        print(f"store add at {at} paths ({label}): {shown} ms, ratio "
              f"{sizes[-1]:,} vs {sizes[0]:,} {values[-1] / values[0]:.2f} (goal <= {GOAL}) "
              f"[medians of {n}]", flush=True)
    total = sum(sum(t) for _, _, t in stretches)
    per = " / ".join(f"{statistics.median(t) * 1e3:.2f}" for _, _, t in stretches)
    spans = " / ".join(f"{a + 1:,}-{b:,}" for a, b, _ in stretches)
    print(f"built a {sizes[-1]:,}-path store in {total:.1f} s: {per} ms per add (median) for "
          f"paths {spans} (linear time: the same cost per add in every stretch)", flush=True)


if __name__ == "__main__":
    main()
