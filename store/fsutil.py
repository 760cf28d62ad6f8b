"""Small filesystem primitives the store is built from: durable writes and removal.

Replacing a file or symlink is always "write a temporary name, fsync, rename
over", so readers see the old or the new version and never a torn one.
ctypes and shutil are imported where they are used: `omg use` writes its
generation through this module and is timed whole-process.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Any

_libc: Any = None


def syncfs(path: Path) -> None:
    """Flush the whole filesystem holding `path`: one syscall instead of an fsync per file."""
    import ctypes
    import ctypes.util

    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _libc.syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(path))
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o444, *, durable: bool = True) -> None:
    """Replace `path` with `data`; `durable=False` skips the fsync (caches only)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:  # os.write may write less than asked
                view = view[os.write(fd, view):]
            os.fchmod(fd, mode)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # no stray temporary beside the store paths
        raise


def atomic_symlink(target: str, path: Path) -> None:
    """Point `path` at `target` with one rename(2): never absent, never half made."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, path)


def force_remove(path: Path) -> None:
    """Remove a file or a read-only tree (store paths are 0555 directories)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        path.unlink()
        return
    import shutil

    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if not os.path.islink(full):
                with contextlib.suppress(OSError):
                    os.chmod(full, 0o700)
    shutil.rmtree(path)
