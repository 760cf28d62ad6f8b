"""Decompress ahead in a background thread, so inflating overlaps writing files.

`tar -x` gets this for free by piping through a separate gzip/xz/zstd process;
omg reads archives in-process, and the decompressors (zlib, lzma, bz2,
zstandard) release the GIL while they work, so one reader thread gives the same
overlap. Memory stays bounded: at most `depth` chunks wait in the queue. An
error in the thread (a corrupt or truncated stream) is raised, unchanged, by
the `read` that reaches it, so callers see the decompressor's own exception.

The readers here feed their decoders large input reads (the stdlib file
wrappers feed 8-128 KiB at a time) and hand out the decoder's output chunks
without re-joining them: `Prefetch.readinto` copies straight from those chunks
into the caller's reusable buffer, so the unpacker allocates nothing per file.
"""

from __future__ import annotations

import io
import queue
import threading
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK = 1 << 20
INPUT_CHUNK = 1 << 18


class Prefetch:
    """A read-only, forward-only stream over `source`, filled by a daemon thread.

    `tell` and forward `seek` make it usable as tarfile's (non-stream) file
    object: tarfile only ever skips ahead when it reads sequentially.
    """

    def __init__(self, source: IO[bytes], *, chunk: int = CHUNK, depth: int = 8) -> None:
        self._source = source
        self._chunk = chunk
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._item = b""
        self._pos = 0
        self._offset = 0  # bytes handed out (or skipped) so far
        self._done = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._fill, name="omg-prefetch", daemon=True)
        self._thread.start()

    def _fill(self) -> None:
        item: bytes | BaseException
        try:
            while not self._stop.is_set():
                item = self._source.read(self._chunk)
                if not self._put(item) or not item:
                    return
        except BaseException as exc:  # handed over to the reading thread
            self._put(exc)

    def _put(self, item: bytes | BaseException) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _more(self, partial: int = 0) -> bool:
        """Make the next chunk current; False at the end of the stream.

        The reader's error is raised once everything before it was handed out:
        with `partial` bytes already gathered by this call, it waits for the next.
        """
        if self._error is not None and not partial:
            raise self._error
        if self._done:
            return False
        item = self._queue.get()
        if isinstance(item, BaseException):
            self._done, self._error = True, item
            if partial:
                return False
            raise item
        if not item:
            self._done = True
            return False
        self._item, self._pos = item, 0
        return True

    def read(self, size: int = -1) -> bytes:
        """`size` bytes (all, if negative), fewer only at the end, like a file.

        tarfile relies on that: a header read across two chunks must be whole.
        A read of a whole chunk returns it as is (slicing all of a bytes is free).
        """
        parts = []
        got = 0
        while size < 0 or got < size:
            if self._pos >= len(self._item) and not self._more(got):
                break
            avail = len(self._item) - self._pos
            take = avail if size < 0 else min(avail, size - got)
            parts.append(self._item[self._pos:self._pos + take])
            self._pos += take
            got += take
        out = parts[0] if len(parts) == 1 else b"".join(parts)
        self._offset += got
        return out

    def readinto(self, buffer: WriteableBuffer) -> int:
        """Fill `buffer` (a writable bytes-like object) as far as the stream goes."""
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if self._pos >= len(self._item) and not self._more(filled):
                break
            n = min(len(view) - filled, len(self._item) - self._pos)
            view[filled:filled + n] = memoryview(self._item)[self._pos:self._pos + n]
            self._pos += n
            filled += n
        self._offset += filled
        return filled

    def tell(self) -> int:
        return self._offset

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Forward only (by reading and dropping); going back is an error."""
        if whence == io.SEEK_CUR:
            offset += self._offset
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("Prefetch seeks from the start or the current offset")
        if offset < self._offset:
            raise io.UnsupportedOperation("Prefetch cannot seek backwards")
        while self._offset < offset:
            if self._pos >= len(self._item) and not self._more(1):
                break
            n = min(offset - self._offset, len(self._item) - self._pos)
            self._pos += n
            self._offset += n
        return self._offset

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        """Stop the thread (it may be blocked on a full queue) and wait for it."""
        self._stop.set()
        self._thread.join()


class XzStream:
    """xz decoding with large input reads (LZMAFile feeds the decoder 8 KiB at a time).

    Handles concatenated streams like `xz -d`; a stream that ends early raises
    EOFError, as LZMAFile does.
    """

    def __init__(self, raw: IO[bytes], *, input_chunk: int = INPUT_CHUNK) -> None:
        import lzma

        self._lzma = lzma
        self._raw = raw
        self._input_chunk = input_chunk
        self._dec = lzma.LZMADecompressor()
        self._pending = b""
        self._eof = False

    def read(self, size: int = CHUNK) -> bytes:
        size = CHUNK if size < 0 else size
        while not self._eof:
            if self._dec.eof:
                rest = self._dec.unused_data or self._raw.read(self._input_chunk)
                if not rest.strip(b"\x00"):  # stream padding, then the end
                    self._eof = True
                    break
                self._dec = self._lzma.LZMADecompressor()
                self._pending = rest
            if self._dec.needs_input and not self._pending:
                self._pending = self._raw.read(self._input_chunk)
                if not self._pending:
                    raise EOFError("compressed file ended before the end-of-stream marker")
            data, self._pending = self._pending, b""
            out = self._dec.decompress(data, max_length=size)
            if out:
                return out
        return b""

    def readable(self) -> bool:
        return True


class GzStream:
    """gzip decoding with large input reads (GzipFile reads 128 KiB and CRCs in Python).

    zlib itself parses the gzip header and checks the trailer's CRC-32 and
    length (``wbits=31``), so a damaged member raises zlib.error. Concatenated
    members are read like `gzip -d` does; zero padding after the last member is
    allowed, any other trailing bytes must be a gzip member. A stream that ends
    early raises EOFError, as GzipFile does.
    """

    def __init__(self, raw: IO[bytes], *, input_chunk: int = INPUT_CHUNK) -> None:
        import zlib

        self._zlib = zlib
        self._raw = raw
        self._input_chunk = input_chunk
        self._dec = zlib.decompressobj(31)
        self._pending = b""
        self._started = False  # a member has begun: the input is not empty
        self._eof = False

    def read(self, size: int = CHUNK) -> bytes:
        size = CHUNK if size < 0 else size
        while not self._eof:
            if self._dec.eof:
                rest = self._dec.unused_data.lstrip(b"\x00")
                while not rest:
                    more = self._raw.read(self._input_chunk)
                    if not more:
                        self._eof = True
                        return b""
                    rest = more.lstrip(b"\x00")
                self._dec = self._zlib.decompressobj(31)
                self._pending = rest
            if not self._pending:
                self._pending = self._raw.read(self._input_chunk)
                if not self._pending:
                    if not self._started:
                        self._eof = True  # an empty file, as GzipFile reads it
                        return b""
                    raise EOFError("compressed file ended before the end-of-stream marker")
            self._started = True
            out = self._dec.decompress(self._pending, size)
            self._pending = self._dec.unconsumed_tail
            if out:
                return out
        return b""

    def readable(self) -> bool:
        return True
