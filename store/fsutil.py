"""Small filesystem primitives the store is built from: durable writes and removal.

Replacing a file or symlink is always "write a temporary name, fsync, rename
over", so readers see the old or the new version and never a torn one.
Paths are strings or path objects. Only `os` at import time (no pathlib,
contextlib or typing; ctypes and shutil where they are used): the lean tier of
`omg use` writes its generation through this module and is timed whole-process.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    StrPath = str | os.PathLike[str]

_libc: Any = None


def _temporary(path: StrPath) -> str:
    """``.<name>.tmp-<pid>`` beside `path`: the name debris cleaners look for."""
    head, name = os.path.split(os.fspath(path))
    return os.path.join(head, f".{name}.tmp-{os.getpid()}")


def _unlink_quietly(path: str) -> None:
    try:  # noqa: SIM105 (contextlib.suppress costs an import on the hot path)
        os.unlink(path)
    except OSError:
        pass


def write_all(fd: int, data: bytes | memoryview) -> None:
    """os.write until all of `data` is written (a nearly full disk writes short, then
    raises ENOSPC)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def syncfs(path: StrPath) -> None:
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


def fsync_dir(path: StrPath) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: StrPath, data: bytes, mode: int = 0o444, *,
                 durable: bool = True) -> None:
    """Replace `path` with `data`; `durable=False` skips the fsync (caches only)."""
    tmp = _temporary(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        try:
            write_all(fd, data)
            os.fchmod(fd, mode)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)  # no stray temporary beside the store paths
        raise


def atomic_symlink(target: str, path: StrPath) -> None:
    """Point `path` at `target` with one rename(2): never absent, never half made."""
    tmp = _temporary(path)
    _unlink_quietly(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, path)


def _chmod_quietly(path: StrPath, mode: int) -> None:
    try:  # noqa: SIM105
        os.chmod(path, mode)
    except OSError:
        pass


def force_remove(path: StrPath) -> None:
    """Remove a file or a read-only tree (store paths are 0555 directories)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    import shutil

    _chmod_quietly(path, 0o700)
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if not os.path.islink(full):
                _chmod_quietly(full, 0o700)
    shutil.rmtree(path)
