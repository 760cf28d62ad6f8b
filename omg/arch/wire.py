"""Just enough msgpack for `daemonsearch` to say hello and ask one text search.

The msgpack package imports datetime and its extension types (about 2 ms: a tenth
of what the whole `omg search` may take); the text answer is a few small maps and
one string, which this reads as fast. The types of docs/protocol.md "Frames": nil,
bool, int, float, str, bin, array, map with string keys, nested at most 32 deep;
anything else (extension types) is a ValueError. tests/arch round-trips it against
msgpack itself. The `--json` answer (thousands of maps) is read with msgpack.
"""

from __future__ import annotations

# Not `from typing import ...` (start-up cost); type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_DEPTH = 32
#: tag -> byte width of the length or value that follows.
_WIDTH = {0xc4: 1, 0xc5: 2, 0xc6: 4, 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2,
          0xd2: 4, 0xd3: 8, 0xd9: 1, 0xda: 2, 0xdb: 4, 0xdc: 2, 0xdd: 4, 0xde: 2, 0xdf: 4}


def _head(out: bytearray, n: int, fix: int, limit: int, tags: tuple[int, int, int]) -> None:
    if n < limit:
        out.append(fix | n)
    elif tags[0] and n < 256:
        out += bytes((tags[0], n))
    elif n < 65536:
        out.append(tags[1])
        out += n.to_bytes(2, "big")
    else:
        out.append(tags[2])
        out += n.to_bytes(4, "big")


def _pack(value: Any, out: bytearray, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValueError("nested too deep")
    if value is None:
        out.append(0xc0)
    elif value is True or value is False:
        out.append(0xc3 if value else 0xc2)
    elif isinstance(value, int):
        if -32 <= value < 128:
            out.append(value & 0xff)
        elif 0 <= value < 1 << 64:
            out.append(0xcf)
            out += value.to_bytes(8, "big")
        else:
            out.append(0xd3)
            out += value.to_bytes(8, "big", signed=True)  # OverflowError past int64
    elif isinstance(value, str):
        data = value.encode()
        _head(out, len(data), 0xa0, 32, (0xd9, 0xda, 0xdb))
        out += data
    elif isinstance(value, list | tuple):
        _head(out, len(value), 0x90, 16, (0, 0xdc, 0xdd))
        for item in value:
            _pack(item, out, depth + 1)
    elif isinstance(value, dict):
        _head(out, len(value), 0x80, 16, (0, 0xde, 0xdf))
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError("map keys must be strings")
            _pack(key, out, depth + 1)
            _pack(item, out, depth + 1)
    else:
        raise ValueError(f"cannot pack {type(value).__name__}")


def pack(value: Any) -> bytes:
    out = bytearray()
    _pack(value, out, 0)
    return bytes(out)


def _take(data: bytes, pos: int, n: int) -> bytes:
    if pos + n > len(data):
        raise ValueError("truncated")
    return data[pos:pos + n]


def _unpack(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise ValueError("nested too deep")
    tag = _take(data, pos, 1)[0]
    pos += 1
    if tag <= 0x7f:
        return tag, pos
    if tag >= 0xe0:
        return tag - 0x100, pos
    if 0xa0 <= tag <= 0xbf:
        n = tag & 0x1f
        return _take(data, pos, n).decode(), pos + n
    if tag <= 0x9f:
        n, kind = tag & 0x0f, "map" if tag <= 0x8f else "array"
    elif tag in (0xc0, 0xc2, 0xc3):
        return (None, False, True)[(0xc0, 0xc2, 0xc3).index(tag)], pos
    elif tag in (0xca, 0xcb):
        import struct  # floats appear in --json answers only, read with msgpack

        size = 4 if tag == 0xca else 8
        return struct.unpack(">f" if size == 4 else ">d", _take(data, pos, size))[0], pos + size
    elif tag in _WIDTH:
        width = _WIDTH[tag]
        n = int.from_bytes(_take(data, pos, width), "big", signed=0xd0 <= tag <= 0xd3)
        pos += width
        if 0xcc <= tag <= 0xd3:
            return n, pos
        if tag <= 0xc6:
            return _take(data, pos, n), pos + n
        if tag <= 0xdb:
            return _take(data, pos, n).decode(), pos + n
        kind = "array" if tag <= 0xdd else "map"
    else:
        raise ValueError(f"unsupported msgpack type 0x{tag:02x}")
    if kind == "array":
        items = []
        for _ in range(n):
            item, pos = _unpack(data, pos, depth + 1)
            items.append(item)
        return items, pos
    out = {}
    for _ in range(n):
        key, pos = _unpack(data, pos, depth + 1)
        if not isinstance(key, str):
            raise ValueError("map keys must be strings")
        out[key], pos = _unpack(data, pos, depth + 1)
    return out, pos


def unpack(data: bytes) -> Any:
    """One value filling `data` exactly; ValueError (UnicodeDecodeError too) otherwise."""
    value, end = _unpack(data, 0, 0)
    if end != len(data):
        raise ValueError("extra data after the value")
    return value
