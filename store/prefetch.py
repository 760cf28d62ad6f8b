"""Decompress ahead in a background thread, so inflating overlaps writing files.

`tar -x` gets this for free by piping through a separate gzip/xz/zstd process;
omg reads archives in-process, and the decompressors (zlib, lzma, bz2,
zstandard) release the GIL while they work, so one reader thread gives the same
overlap. Memory stays bounded: at most `depth` chunks wait in the queue. An
error in the thread (a corrupt or truncated stream) is raised, unchanged, by
the `read` that reaches it, so callers see the decompressor's own exception.
"""

from __future__ import annotations

import queue
import threading
from typing import IO

CHUNK = 1 << 20


class Prefetch:
    """A read-only, forward-only stream over `source`, filled by a daemon thread."""

    def __init__(self, source: IO[bytes], *, chunk: int = CHUNK, depth: int = 8) -> None:
        self._source = source
        self._chunk = chunk
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._item = b""
        self._pos = 0
        self._done = False
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

    def read(self, size: int = -1) -> bytes:
        if self._pos >= len(self._item):
            if self._done:
                return b""
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            if not item:
                self._done = True
                return b""
            self._item, self._pos = item, 0
        if self._pos == 0 and (size < 0 or size >= len(self._item)):
            self._pos = len(self._item)
            return self._item  # the whole chunk: no copy
        end = len(self._item) if size < 0 else self._pos + size
        out = self._item[self._pos:end]
        self._pos += len(out)
        return out

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        """Stop the thread (it may be blocked on a full queue) and wait for it."""
        self._stop.set()
        self._thread.join()


class XzStream:
    """xz decoding with large input reads (LZMAFile feeds the decoder 8 KiB at a time).

    Handles concatenated streams like `xz -d`; a stream that ends early raises
    EOFError, as LZMAFile does.
    """

    def __init__(self, raw: IO[bytes], *, input_chunk: int = 1 << 18) -> None:
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
