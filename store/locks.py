"""flock(2)-based locks with a timeout, shared or exclusive.

The GC lock protocol (after Nix): every operation that may create a link to a
store path (ingest, a new generation, a root) holds `gc.lock` *shared* from the
moment it picks a path until the path is reachable from a root; `gc` holds it
*exclusive* while it marks and sweeps. So gc never sees a path that someone is
about to link but has not rooted yet (invariant 3).

A class rather than a contextlib generator, and no pathlib: the lean tier of
`omg use` takes these locks, and contextlib alone costs it milliseconds.
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
        import errno
        import fcntl
        import time

        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
        try:
            self.fd = os.open(self.path, flags, 0o644)
        except FileNotFoundError:  # the lock's directory is made on first use
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self.fd = os.open(self.path, flags, 0o644)
        op = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        try:
            while True:
                try:
                    fcntl.flock(self.fd, op | fcntl.LOCK_NB)
                    return self.fd
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
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


def flock(path: StrPath, *, shared: bool = False, timeout: float = DEFAULT_TIMEOUT,
          what: str = "") -> FileLock:
    """Hold a lock on `path` (created if needed) for a ``with`` block."""
    return FileLock(path, shared=shared, timeout=timeout, what=what)
