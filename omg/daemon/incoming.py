"""Archives passed by descriptor, copied into ``daemon/incoming`` before they are read.

The daemon hashes its own copy, so the content registered is exactly the
content hashed, whatever the client does to its file meanwhile. What a client
can make the daemon write here is bounded before anything is copied: a
descriptor that is not a regular file, or does not start like an archive we
read, is refused; the size may not pass the store's per-archive limit; holes
are skipped (SEEK_DATA/SEEK_HOLE), so a sparse file stays sparse, and its data
bytes are reserved against the uploader's `Quota` (``[daemon]
max_incoming_bytes``, summed over that uid's concurrent requests).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from store.archive import FORMATS_HINT, sniff
from store.errors import Busy, OmgError, UnsafeInput, UsageError
from store.fsutil import write_all

#: What `store.archive.sniff` needs to see of a file.
HEAD = 512
CHUNK = 1 << 20
DEFAULT_MAX_INCOMING = 8 << 30


class Quota:
    """Bytes each uid holds in ``daemon/incoming`` right now, across its requests."""

    def __init__(self, limit: int = DEFAULT_MAX_INCOMING) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}

    def held(self) -> dict[int, int]:
        with self._lock:
            return dict(self._held)

    @contextlib.contextmanager
    def reserve(self, uid: int) -> Iterator[Reservation]:
        """One request's share, given back when the block ends (its copy is gone)."""
        mine = Reservation(self, uid)
        try:
            yield mine
        finally:
            self._give_back(uid, mine.bytes)

    def take(self, uid: int, n: int, mine: int) -> None:
        """Add `n` to what `uid` holds (`mine` of it by this request), or refuse."""
        with self._lock:
            held = self._held.get(uid, 0)
            if held + n > self.limit:
                if mine + n > self.limit:
                    raise UnsafeInput(
                        f"store.add: archive data exceeds the upload quota of "
                        f"{self.limit} bytes", hint="[daemon] max_incoming_bytes of omgd")
                raise Busy(f"store.add: your uploads in progress already hold {held} of "
                           f"{self.limit} bytes", hint="retry when they have finished")
            self._held[uid] = held + n

    def _give_back(self, uid: int, n: int) -> None:
        with self._lock:
            left = self._held.get(uid, 0) - n
            if left > 0:
                self._held[uid] = left
            else:
                self._held.pop(uid, None)


class Reservation:
    """The bytes one request has taken from its uid's quota."""

    def __init__(self, quota: Quota, uid: int) -> None:
        self.quota, self.uid, self.bytes = quota, uid, 0

    def take(self, n: int) -> None:
        self.quota.take(self.uid, n, self.bytes)
        self.bytes += n


def copy_in(fd: int, dest_dir: Path, filename: str, *, max_bytes: int,
            reservation: Reservation) -> Path:
    """A daemon-private copy of what `fd` reads; the client can change it no more."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeInput("store.add: the descriptor passed is not a regular file",
                          hint="pass an archive; the client packs directories itself")
    if sniff(_pread(fd, HEAD, 0), st.st_size) is None:
        raise UsageError(f"store.add: {filename}: not a supported archive", hint=FORMATS_HINT)
    # Holes cost no disk but every reader's time (the ingest reads them as
    # zeros): the size is bounded as a whole, the data also by the quota.
    if st.st_size > max_bytes:
        raise UnsafeInput(f"store.add: archive larger than {max_bytes} bytes",
                          hint="[store] max_unpacked_bytes of omgd")
    # Reserve the data before copying any: an upload over a limit writes nothing.
    _count(data_ranges(fd, st.st_size), reservation)
    try:
        return _copy(fd, dest_dir, filename, st.st_size, reservation)
    except OSError as exc:  # our side: a full disk, say (the client's reads raise UsageError)
        raise OmgError(f"store.add: cannot copy the archive into {dest_dir}: "
                       f"{exc.strerror or exc}") from exc


def _copy(fd: int, dest_dir: Path, filename: str, size: int,
          reservation: Reservation) -> Path:
    """``dest_dir/<random>/<filename>``: a directory of its own, so the copy keeps the
    name the user gave (the ingest's errors name it) and two uploads never meet."""
    dest_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = dest_dir / secrets.token_hex(8)
    private.mkdir(mode=0o700)
    dest = private / filename
    try:
        out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except BaseException:
        private.rmdir()
        raise
    try:
        _copy_data(fd, out, size, reservation)
    except BaseException:
        os.close(out)
        discard(dest)
        raise
    os.close(out)
    return dest


def discard(copy: Path) -> None:
    """Remove a copy `copy_in` made, and its directory."""
    copy.unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):
        copy.parent.rmdir()


def _count(ranges: Iterator[tuple[int, int]], reservation: Reservation) -> None:
    """Take the data bytes of `ranges` from the quota (walking no further than it)."""
    total = 0
    for start, stop in ranges:
        total += stop - start
        if total > reservation.quota.limit:
            break
    reservation.take(total)


def _copy_data(fd: int, out: int, size: int, reservation: Reservation) -> None:
    """Copy the data ranges of `fd` to the same offsets of `out`; holes stay holes.

    The size is the one fstat gave before copying: a file the client grows
    meanwhile is cut there, one it shrinks ends where its data ends. Data the
    client adds after `_count` is reserved as it is copied.
    """
    copied = 0
    end = size
    for start, stop in data_ranges(fd, size):
        os.lseek(out, start, os.SEEK_SET)
        pos = start
        while pos < stop:
            chunk = _pread(fd, min(CHUNK, stop - pos), pos)
            if not chunk:
                end = pos  # shrunk under us
                break
            copied += len(chunk)
            if copied > reservation.bytes:
                reservation.take(copied - reservation.bytes)
            write_all(out, chunk)  # a short write must not leave a truncated copy
            pos += len(chunk)
        if end < size:
            break
    os.ftruncate(out, end)  # a trailing hole, as a hole


def data_ranges(fd: int, size: int) -> Iterator[tuple[int, int]]:
    """[start, stop) of each data extent of `fd` below `size` (all of it without
    SEEK_DATA support). Moves `fd`'s offset, which the copy never relies on."""
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
            stop = os.lseek(fd, start, os.SEEK_HOLE)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # nothing but a hole from here on
                return
            if exc.errno != errno.EINVAL:
                raise _unreadable(exc) from exc
            start, stop = offset, size
        if start >= size:
            return
        stop = min(stop, size)
        yield start, stop
        offset = stop


def _pread(fd: int, n: int, offset: int) -> bytes:
    try:
        return os.pread(fd, n, offset)
    except OSError as exc:
        raise _unreadable(exc) from exc


def _unreadable(exc: OSError) -> UsageError:
    return UsageError(f"store.add: cannot read the descriptor passed: {exc.strerror}",
                      hint="pass a descriptor opened for reading")
