"""Profile envs, built: a planned forest becomes a store path (invariant 1 for envs).

`LocalStore.add` refuses symlinks that leave the tree (invariant 5 for archives),
and an env is nothing but such links into the store paths it references, so
envs are published here with the store's own pieces instead: the tree is built
under ``profiles/.build/`` (same filesystem as the store), hashed with the
canonical tree hash, sealed read-only, its record written *before* one rename(2)
to ``store/<hash>-profile-<tools>``, then indexed. A crash leaves only a build
directory, which the next build removes once its owner's flock is free.

The caller holds ``gc_guard()`` shared from resolving the tools until the new
generation link exists, so the collector never sees the env unrooted.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import time
from pathlib import Path

from generations.env import ENV_NAME, MANIFEST_NAME, EnvPlan
from store.fsutil import atomic_write, force_remove, fsync_dir
from store.hashing import Leaf, digest_name, tree_digest, walk
from store.index import Index
from store.ingest import FIXED_MTIME, index_record
from store.layout import Layout
from store.record import PathRecord, TreeEntry, encode_record
from store.scan import scan


def build_dir(layout: Layout) -> Path:
    return layout.profiles / ".build"


def build_env(layout: Layout, index: Index, plan: EnvPlan) -> str:
    """Make sure the env for `plan` is in the store; return its store path name."""
    base = build_dir(layout)
    base.mkdir(parents=True, exist_ok=True)
    _clean_builds(base)
    lock_fd, lock_path = _claim(base)
    root = base / lock_path.name.removesuffix(".lock")
    try:
        _materialise(root, plan)
        tree = scan(root)
        name = f"{digest_name(tree_digest(tree))}-{ENV_NAME}-{plan.version_label}"
        final = layout.store_path(name)
        if not final.is_dir():
            entries = _entries(tree)
            _seal(root)
            record = PathRecord(
                path=name, hash=name[:32], name=ENV_NAME, version=plan.version_label,
                size=sum(e[3] for e in entries if e[1] in "fx"),
                files=sum(1 for e in entries if e[1] in "fxl"),
                references=tuple(plan.references), origin={"kind": "profile-env"},
                created=time.time(),
            )
            layout.store.mkdir(parents=True, exist_ok=True)
            atomic_write(layout.record_path(name), encode_record(record, entries))
            try:
                os.rename(root, final)
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not final.is_dir():
                    raise
            else:
                fsync_dir(layout.store)
            index_record(index, record, entries)
        return name
    finally:
        force_remove(root)
        lock_path.unlink(missing_ok=True)
        os.close(lock_fd)


def _claim(base: Path) -> tuple[int, Path]:
    """A locked ``<id>.lock`` that is still linked (a cleaner may unlink a fresh one)."""
    while True:
        lock_path = base / f"{os.getpid()}-{secrets.token_hex(6)}.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(lock_path).st_ino == os.fstat(fd).st_ino:
                return fd, lock_path
        except FileNotFoundError:
            pass
        os.close(fd)


def _materialise(root: Path, plan: EnvPlan) -> None:
    root.mkdir()
    for d in plan.dirs:
        (root / d).mkdir(parents=True, exist_ok=True)
    for rel, target in plan.links.items():
        os.symlink(target, root / rel)
    (root / MANIFEST_NAME).write_bytes(plan.manifest_bytes())


def _seal(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for f in filenames:
            full = os.path.join(dirpath, f)
            if os.path.islink(full):
                os.utime(full, (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)
            else:
                os.chmod(full, 0o444)
                os.utime(full, (FIXED_MTIME, FIXED_MTIME))
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                os.utime(full, (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)
        os.chmod(dirpath, 0o555)
        os.utime(dirpath, (FIXED_MTIME, FIXED_MTIME))
    with open(root / MANIFEST_NAME, "rb") as manifest:
        os.fsync(manifest.fileno())


def _entries(tree: object) -> list[TreeEntry]:
    entries: list[TreeEntry] = []
    for rel, node in walk(tree):  # type: ignore[arg-type]
        rel_s = os.fsdecode(rel)
        if isinstance(node, Leaf):
            entries.append((rel_s, node.kind.value.decode(), node.digest.hex(), node.size))
        else:
            entries.append((rel_s, "d", "", 0))
    return entries


def _clean_builds(base: Path) -> None:
    """Remove build directories whose owner died (their lock is free or gone)."""
    for entry in os.listdir(base):
        if entry.endswith(".lock"):
            continue
        lock = base / f"{entry}.lock"
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                force_remove(base / entry)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        with contextlib.suppress(OSError):
            force_remove(base / entry)
            lock.unlink()
        os.close(fd)
