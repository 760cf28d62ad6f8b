"""The read-ahead thread and the xz and gzip readers: same bytes, same errors, bounded."""

from __future__ import annotations

import gzip
import io
import lzma
import os
import zlib

import pytest

from store.prefetch import GzStream, Prefetch, XzStream


def _drain(stream: Prefetch | XzStream | GzStream, size: int) -> bytes:
    out = []
    while chunk := stream.read(size):
        out.append(chunk)
    return b"".join(out)


@pytest.mark.parametrize("size", [7, 1000, 1 << 20, -1])
def test_prefetch_returns_the_same_bytes(size: int) -> None:
    data = bytes(range(256)) * 500
    ahead = Prefetch(io.BytesIO(data), chunk=4096, depth=2)
    try:
        assert _drain(ahead, size) == data
        assert ahead.read(10) == b""
    finally:
        ahead.close()


def test_prefetch_raises_the_readers_error_in_order() -> None:
    class Broken(io.RawIOBase):
        calls = 0

        def read(self, n: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise lzma.LZMAError("corrupt input")
            return b"x" * 10

    ahead = Prefetch(Broken(), chunk=10)  # type: ignore[arg-type]
    try:
        assert ahead.read(15) == b"x" * 15
        assert ahead.read(100) == b"x" * 5  # what came before the error, then the error
        with pytest.raises(lzma.LZMAError, match="corrupt"):
            ahead.read(100)
    finally:
        ahead.close()


def test_prefetch_close_stops_a_blocked_thread() -> None:
    ahead = Prefetch(io.BytesIO(b"y" * 10_000_000), chunk=1000, depth=1)
    ahead.read(10)
    ahead.close()  # the thread sits on a full queue; close must not hang


def test_xz_concatenated_streams_and_padding() -> None:
    data = lzma.compress(b"hello " * 50_000) + lzma.compress(b"world") + b"\x00" * 8
    assert _drain(XzStream(io.BytesIO(data), input_chunk=1000), 4096) == \
        b"hello " * 50_000 + b"world"


def test_xz_truncated_and_corrupt() -> None:
    data = lzma.compress(bytes(range(256)) * 2000)
    with pytest.raises(EOFError):
        _drain(XzStream(io.BytesIO(data[: len(data) // 2])), 4096)
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0xFF
    with pytest.raises(lzma.LZMAError):
        _drain(XzStream(io.BytesIO(bytes(bad))), 4096)


def test_prefetch_reads_are_full_across_chunks() -> None:
    data = os.urandom(10_000)
    ahead = Prefetch(io.BytesIO(data), chunk=1000, depth=2)
    try:
        assert ahead.read(700) == data[:700]
        assert ahead.read(512) == data[700:1212]  # a tar header straddling two chunks
        assert ahead.read(5000) == data[1212:6212]
        assert ahead.read(-1) == data[6212:]
        assert ahead.read(1) == b"" and ahead.tell() == len(data)
    finally:
        ahead.close()


def test_tar_members_through_small_chunks_with_pax_headers() -> None:
    from store.archive import MemberKind, _tar_members
    from tests.store.builders import tar_bytes

    entries = [(f"top/{'long-name-' * 12}{i}", "f", os.urandom(300 + 97 * i), 0o644)
               for i in range(40)]
    ahead = Prefetch(io.BytesIO(tar_bytes(entries)), chunk=1000, depth=2)
    try:
        got = {}
        for m in _tar_members(ahead, "t.tar"):
            assert m.kind is MemberKind.FILE and m.stream is not None
            buf = bytearray(m.size + 10)
            got[m.name] = bytes(buf[: m.stream.readinto(buf)])
    finally:
        ahead.close()
    assert got == {name: payload for name, _k, payload, _m in entries}


def test_prefetch_readinto_tell_and_forward_seek() -> None:
    data = bytes(range(256)) * 100
    ahead = Prefetch(io.BytesIO(data), chunk=1000, depth=2)
    try:
        buf = bytearray(2500)  # spans three chunks
        assert ahead.readinto(buf) == 2500 and bytes(buf) == data[:2500]
        assert ahead.tell() == 2500
        assert ahead.seek(7000) == 7000
        assert ahead.read(10) == data[7000:7010]
        with pytest.raises(io.UnsupportedOperation):
            ahead.seek(100)
        assert ahead.seek(5, io.SEEK_CUR) == 7015
        rest = bytearray(len(data))
        assert ahead.readinto(rest) == len(data) - 7015
        assert bytes(rest[: len(data) - 7015]) == data[7015:]
        assert ahead.readinto(rest) == 0 and ahead.tell() == len(data)
    finally:
        ahead.close()


def test_gz_concatenated_members_and_padding() -> None:
    data = gzip.compress(b"hello " * 50_000) + gzip.compress(b"world") + b"\x00" * 8
    assert _drain(GzStream(io.BytesIO(data), input_chunk=1000), 4096) == \
        b"hello " * 50_000 + b"world"
    assert _drain(GzStream(io.BytesIO(b"")), 4096) == b""


def test_gz_truncated_corrupt_and_trailing_garbage() -> None:
    data = gzip.compress(os.urandom(200_000))
    with pytest.raises(EOFError):
        _drain(GzStream(io.BytesIO(data[: len(data) // 2])), 4096)
    with pytest.raises(EOFError):  # the CRC and length trailer missing
        _drain(GzStream(io.BytesIO(data[:-4])), 4096)
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0xFF
    with pytest.raises(zlib.error):
        _drain(GzStream(io.BytesIO(bytes(bad))), 4096)
    with pytest.raises(zlib.error):
        _drain(GzStream(io.BytesIO(data + b"not gzip")), 4096)
