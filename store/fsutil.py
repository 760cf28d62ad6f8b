"""Small filesystem primitives the store is built from: durable writes, walks, removal.

Replacing a file or symlink is always "write a temporary name, fsync, rename
over", so readers see the old or the new version and never a torn one.
Paths are strings or path objects. Only `os` at import time (no pathlib,
contextlib or typing; ctypes and shutil where they are used): `omg use` writes its
generation through this module and is timed whole-process.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ctypes
    from collections.abc import Callable, Iterator

    StrPath = str | os.PathLike[str]

_libc: ctypes.CDLL | None = None


def _temporary(path: StrPath) -> str:
    """``.<name>.tmp-<pid>`` beside `path`: the name debris cleaners look for."""
    head, name = os.path.split(os.fspath(path))
    return os.path.join(head, f".{name}.tmp-{os.getpid()}")


def unlink_quietly(path: str) -> None:
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
        unlink_quietly(tmp)  # no stray temporary beside the store paths
        raise


def atomic_symlink(target: str, path: StrPath) -> None:
    """Point `path` at `target` with one rename(2): never absent, never half made."""
    tmp = _temporary(path)
    unlink_quietly(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, path)


def walk_tree(top: StrPath, onerror: Callable[[OSError], object] | None = None
              ) -> Iterator[tuple[str, list[str], list[str]]]:
    """`os.walk` (top-down, `dirnames` prunable in place) with an explicit stack.

    Python 3.11's os.walk recurses, so a tree deeper than the recursion limit
    (input decides how deep) raised RecursionError. Symlinks are never followed
    and are always among `filenames`, even those pointing at a directory (os.walk
    lists those among the directories). An error listing a directory is raised,
    or passed to `onerror` and that directory skipped.
    """
    stack = [os.fspath(top)]
    while stack:
        dirpath = stack.pop()
        dirnames: list[str] = []
        filenames: list[str] = []
        try:
            with os.scandir(dirpath) as it:
                for entry in it:
                    (dirnames if entry.is_dir(follow_symlinks=False) else filenames
                     ).append(entry.name)
        except OSError as exc:
            if onerror is None:
                raise
            onerror(exc)
            continue
        yield dirpath, dirnames, filenames
        stack.extend(os.path.join(dirpath, d) for d in reversed(dirnames))


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def force_remove(path: StrPath) -> None:
    """Remove a file, a symlink or a read-only tree (store dirs are 0555).

    Through directory descriptors, one open at a time: any depth and any path
    length, and a symlink is removed, never followed. A concurrent remover of
    the same tree is tolerated: what it removed first is simply gone, and if it
    pulls a directory out from under us the walk starts again from `path`.
    """
    for _attempt in range(64):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        try:
            if stat.S_ISDIR(st.st_mode):
                _remove_tree(path)
            else:
                os.unlink(path)
            return
        except (FileNotFoundError, _Moved):
            continue
    raise OSError(f"cannot remove {os.fspath(path)!r}: it keeps changing under us")


class _Moved(Exception):
    """``..`` is no longer the directory the walk came down from."""


def _remove_tree(path: StrPath) -> None:
    """Empty and remove the directory `path`, deepest first, holding one descriptor.

    A level keeps only its (dev, ino) and the subdirectories still to remove;
    the walk climbs back through ``..`` and checks that identity. Holding one
    descriptor per level instead (rmtree's way) runs out of descriptors at a
    thousand levels or so.
    """
    fd = _open_dir(path, None)
    try:
        # Per level: its name in its parent, its identity, subdirectories left.
        levels = [("", _identity(fd), _empty_but_directories(fd))]
        while levels:
            name, _ident, subdirs = levels[-1]
            if subdirs:
                child_name = subdirs.pop()
                child = _open_child(child_name, fd)
                if child >= 0:
                    os.close(fd)
                    fd = child
                    levels.append((child_name, _identity(fd), _empty_but_directories(fd)))
                continue
            levels.pop()
            if not levels:
                break
            parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = parent
            if _identity(fd) != levels[-1][1]:
                raise _Moved
            _rmdir_quietly_at(name, fd)
    finally:
        os.close(fd)
    os.rmdir(path)


def _open_child(name: str, dir_fd: int) -> int:
    """The subdirectory `name` opened, or -1 if it is gone or no longer a directory
    (then it is unlinked as the file or symlink it became)."""
    import errno

    try:
        return _open_dir(name, dir_fd)
    except FileNotFoundError:
        return -1
    except OSError as exc:
        if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
            raise
        _unlink_quietly_at(name, dir_fd)
        return -1


def _open_dir(name: StrPath, dir_fd: int | None) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except PermissionError:
        # A directory without read permission (non-root): make it ours to empty.
        # chmod follows a symlink, but O_NOFOLLOW below still refuses one.
        os.chmod(name, 0o700, dir_fd=dir_fd)
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)


def _identity(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def _empty_but_directories(fd: int) -> list[str]:
    """Unlink every non-directory in the directory `fd`; return its subdirectories."""
    try:  # noqa: SIM105
        os.fchmod(fd, 0o700)  # sealed 0555: entries can only go once it is writable
    except OSError:
        pass  # not ours: removing may still work (root, or a writable directory)
    subdirs = []
    with os.scandir(fd) as it:
        for entry in it:
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(entry.name)
            else:
                _unlink_quietly_at(entry.name, fd)
    return subdirs


def _unlink_quietly_at(name: str, dir_fd: int) -> None:
    try:  # noqa: SIM105
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass


def _rmdir_quietly_at(name: str, dir_fd: int) -> None:
    try:  # noqa: SIM105
        os.rmdir(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
