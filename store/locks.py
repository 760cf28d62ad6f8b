"""flock(2)-based locks with a timeout, shared or exclusive.

Lock files live under ``locks/`` (mode 0700, files 0600): see `private_dirs`.

The GC lock protocol (after Nix): every operation that may create a link to a
store path (ingest, a new generation, a root) holds `gc.lock` *shared* from the
moment it picks a path until the path is reachable from a root; `gc` holds it
*exclusive* while it marks and sweeps. So gc never sees a path that someone is
about to link but has not rooted yet (invariant 3).

A class rather than a contextlib generator, and no pathlib: `omg use` takes these
locks on its hot path, and contextlib alone costs it milliseconds.
"""

from __future__ import annotations

import os

from store.errors import Busy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from store.fsutil import StrPath

DEFAULT_TIMEOUT = 60.0


class FileLock:
    """``with FileLock(path) as fd:`` holds the lock for the block; Busy on timeout."""

    __slots__ = ("fd", "path", "shared", "timeout", "what")

    def __init__(self, path: StrPath, *, shared: bool = False,
                 timeout: float = DEFAULT_TIMEOUT, what: str = "") -> None:
        self.path = os.fspath(path)
        self.shared, self.timeout, self.what = shared, timeout, what
        self.fd = -1

    def __enter__(self) -> int:
        import fcntl
        import time

        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
        try:
            self.fd = os.open(self.path, flags, 0o600)
        except FileNotFoundError:  # the lock's directory is made on first use
            private_dirs(os.path.dirname(self.path))
            self.fd = os.open(self.path, flags, 0o600)
        op = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        try:
            while True:
                try:
                    fcntl.flock(self.fd, op | fcntl.LOCK_NB)
                    return self.fd
                except (BlockingIOError, PermissionError):  # EWOULDBLOCK, EACCES: held
                    if time.monotonic() >= deadline:
                        raise Busy(
                            f"{self.what or os.path.basename(self.path)} is locked by "
                            "another omg process",
                            hint=f"waited {self.timeout:.0f}s for {self.path}",
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.05)
        except BaseException:
            os.close(self.fd)
            raise

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def gc_lock(home: StrPath, *, exclusive: bool = False,
            timeout: float = DEFAULT_TIMEOUT) -> FileLock:
    """The gc lock of the store under OMG_HOME `home` (the protocol above): shared
    while choosing and linking store paths, exclusive while collecting."""
    return FileLock(os.path.join(os.fspath(home), "locks", "gc.lock"), shared=not exclusive,
                    timeout=timeout, what="the garbage collector lock")


def private_dirs(directory: str) -> None:
    """Make `directory` and its missing parents mode 0700.

    flock(2) works on a descriptor opened read-only, so anyone who can open a lock
    file can hold it: in a shared store a user could stop every other user's `use`.
    Lock files therefore live in directories only their owner can enter
    (``locks/``, invariant 7); os.makedirs would give the parents the umask's mode.
    """
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for d in reversed(missing):
        try:  # noqa: SIM105 (contextlib costs an import on the hot path)
            os.mkdir(d, 0o700)
        except FileExistsError:
            pass


def flock(path: StrPath, *, shared: bool = False, timeout: float = DEFAULT_TIMEOUT,
          what: str = "") -> FileLock:
    """Hold a lock on `path` (created if needed) for a ``with`` block."""
    return FileLock(path, shared=shared, timeout=timeout, what=what)
