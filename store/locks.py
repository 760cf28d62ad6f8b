"""flock(2)-based locks with a timeout, shared or exclusive.

The GC lock protocol (after Nix): every operation that may create a link to a
store path (ingest, a new generation, a root) holds `gc.lock` *shared* from the
moment it picks a path until the path is reachable from a root; `gc` holds it
*exclusive* while it marks and sweeps. So gc never sees a path that someone is
about to link but has not rooted yet (invariant 3).
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.errors import Busy

DEFAULT_TIMEOUT = 60.0


@contextmanager
def flock(path: Path, *, shared: bool = False, timeout: float = DEFAULT_TIMEOUT,
          what: str = "") -> Iterator[int]:
    """Hold a lock on `path` (created if needed) for the block; raise Busy on timeout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    op = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    try:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, op | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise Busy(
                        f"{what or path.name} is locked by another omg process",
                        hint=f"waited {timeout:.0f}s for {path}",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        yield fd
    finally:
        os.close(fd)
