"""The omgd wire protocol: framing, handshake and message schemas (docs/protocol.md).

Pure functions and one small incremental decoder, no I/O, so every rule here
is tested directly and with hypothesis. Frames are a 4-byte big-endian length
followed by that many bytes of msgpack holding one map. Whatever a peer sends,
the decoder either yields well-formed maps or raises `ProtocolError` with a
one-line reason: it never crashes and never buffers more than one frame
(invariant 5 for "messages to the daemon").

The daemon's side: `omg.daemon.client` reads replies itself and imports this
module on an error path only (`ProtocolError`, `error_from_wire`).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# What the client needs too lives in `wire` (which the client imports, not this).
from omg.daemon.wire import DEFAULT_MAX_FRAME as DEFAULT_MAX_FRAME
from omg.daemon.wire import DEFAULT_MAX_REPLY as DEFAULT_MAX_REPLY
from omg.daemon.wire import PROTO_VERSION as PROTO_VERSION
from omg.daemon.wire import client_hello as client_hello
from omg.daemon.wire import request as request
from store.errors import OmgError, UnsafeInput

HEADER = struct.Struct(">I")
MAX_ID = (1 << 63) - 1


class ProtocolError(UnsafeInput):
    """A peer broke the wire protocol: bad frame, bad message, wrong version."""


#: A request's parameters once `check_params` has passed them: each has the type its
#: method's `ParamSpec` declares. Any, because that type is per parameter and per
#: method, which one signature shared by every handler cannot say.
Params = dict[str, Any]


# Frames ---------------------------------------------------------------------


def _plain(value: object, depth: int = 0) -> bool:
    """Only the msgpack types we use: no ext types, no bytes-as-keys, bounded depth."""
    if depth > 32:
        return False
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return True
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


def encode_frame(message: Mapping[str, object], max_size: int = DEFAULT_MAX_FRAME) -> bytes:
    import msgpack

    body: bytes = msgpack.packb(dict(message), use_bin_type=True)
    if len(body) > max_size:
        raise ProtocolError(f"message of {len(body)} bytes exceeds the frame limit "
                            f"of {max_size} bytes")
    return HEADER.pack(len(body)) + body


def decode_body(body: bytes) -> dict[str, object]:
    """One frame's payload as a map, or ProtocolError."""
    import msgpack

    try:
        value = msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True)
    except Exception as exc:  # msgpack raises many types on garbage; all mean the same
        raise ProtocolError(f"undecodable frame: {type(exc).__name__}") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"a frame must hold a map, not {type(value).__name__}")
    if not _plain(value):
        raise ProtocolError("a frame holds unsupported types or nests too deep")
    return value


class FrameDecoder:
    """Incremental: `feed` bytes as they arrive, get whole messages back."""

    def __init__(self, max_size: int = DEFAULT_MAX_FRAME) -> None:
        self.max_size = max_size
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held (non-zero means "mid-frame")."""
        return len(self._buf)

    def wanted(self) -> int:
        """How many more bytes the current frame needs (at least 1)."""
        if len(self._buf) < HEADER.size:
            return HEADER.size - len(self._buf)
        (length,) = HEADER.unpack_from(self._buf)
        return max(1, HEADER.size + int(length) - len(self._buf))

    def feed(self, data: bytes) -> list[dict[str, object]]:
        self._buf += data
        out = []
        while len(self._buf) >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buf)
            if length > self.max_size:
                raise ProtocolError(f"frame of {length} bytes exceeds the limit of "
                                    f"{self.max_size} bytes")
            if len(self._buf) < HEADER.size + length:
                break
            body = bytes(self._buf[HEADER.size:HEADER.size + length])
            del self._buf[:HEADER.size + length]
            out.append(decode_body(body))
        return out


# Handshake ------------------------------------------------------------------


def check_client_hello(msg: Mapping[str, object]) -> str:
    """The client's name if its hello is acceptable, else ProtocolError."""
    extra = set(msg) - {"proto", "client"}
    if extra:
        raise ProtocolError(f"unknown hello fields: {', '.join(sorted(extra))}")
    proto, client = msg.get("proto"), msg.get("client")
    if not isinstance(proto, int) or isinstance(proto, bool):
        raise ProtocolError("hello: 'proto' must be an integer")
    if not isinstance(client, str) or len(client) > 200:
        raise ProtocolError("hello: 'client' must be a short string")
    if proto != PROTO_VERSION:
        raise ProtocolError(f"protocol version {proto} is not supported "
                            f"(this omgd speaks {PROTO_VERSION})",
                            hint="use an omg and omgd of the same release")
    return client


def server_hello(server: str, peer: Mapping[str, object]) -> dict[str, object]:
    return {"proto": PROTO_VERSION, "server": server, "peer": dict(peer)}


# Requests and replies ---------------------------------------------------------


@dataclass(frozen=True)
class Request:
    id: int
    method: str
    params: dict[str, object]  # unchecked: `check_params` checks them for the method


#: Parameter types a method may declare: (python type, required).
ParamSpec = Mapping[str, tuple[str, bool]]

_TYPES: dict[str, Callable[[object], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "map": lambda v: isinstance(v, dict),
    "list[str]": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "list[int]": lambda v: isinstance(v, list) and all(
        isinstance(x, int) and not isinstance(x, bool) for x in v),
    "str?": lambda v: v is None or isinstance(v, str),
    "int?": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)),
    "list[str]?": lambda v: v is None or (isinstance(v, list)
                                          and all(isinstance(x, str) for x in v)),
    "map?": lambda v: v is None or isinstance(v, dict),
    "bool?": lambda v: v is None or isinstance(v, bool),
    "list[int]?": lambda v: v is None or _TYPES["list[int]"](v),
    # Seconds and the like: a finite number, int or float, never a bool.
    "float?": lambda v: v is None or (isinstance(v, int | float) and not isinstance(v, bool)
                                      and math.isfinite(v)),
}


def parse_request(msg: Mapping[str, object]) -> Request:
    extra = set(msg) - {"id", "method", "params"}
    if extra:
        raise ProtocolError(f"unknown request fields: {', '.join(sorted(extra))}")
    rid, method, params = msg.get("id"), msg.get("method"), msg.get("params", {})
    if not isinstance(rid, int) or isinstance(rid, bool) or not 0 <= rid <= MAX_ID:
        raise ProtocolError("request 'id' must be a non-negative integer")
    if not isinstance(method, str) or not method or len(method) > 64:
        raise ProtocolError("request 'method' must be a short string")
    if not isinstance(params, dict):
        raise ProtocolError("request 'params' must be a map")
    return Request(rid, method, params)


def check_params(method: str, params: Mapping[str, object], spec: ParamSpec) -> Params:
    """Exactly the declared parameters, of the declared types: extras are refused.

    Refusing extras is part of invariant 7: no parameter can smuggle in a hash
    or a path for the daemon to trust.
    """
    extra = set(params) - set(spec)
    if extra:
        raise ProtocolError(f"{method}: unknown parameter(s) {', '.join(sorted(extra))}")
    out: Params = {}
    for name, (type_name, required) in spec.items():
        if name not in params:
            if required:
                raise ProtocolError(f"{method}: missing parameter {name!r}")
            continue
        if not _TYPES[type_name](params[name]):
            raise ProtocolError(f"{method}: parameter {name!r} must be {type_name}")
        out[name] = params[name]
    return out


def ok_reply(rid: int, result: object) -> dict[str, object]:
    return {"id": rid, "ok": result}


def error_to_wire(exc: BaseException) -> dict[str, object]:
    if isinstance(exc, OmgError):
        return {"code": exc.exit_code, "type": type(exc).__name__, "message": exc.message,
                "hint": exc.hint}
    return {"code": 1, "type": "InternalError",
            "message": f"omgd internal error: {type(exc).__name__}",
            "hint": "see the omgd log"}


def error_reply(rid: int | None, exc: BaseException) -> dict[str, object]:
    return {"id": rid, "error": error_to_wire(exc)}


def _error_classes() -> dict[str, type[OmgError]]:
    found: dict[str, type[OmgError]] = {}
    todo: list[type[OmgError]] = [OmgError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.__name__, cls)
        todo.extend(cls.__subclasses__())
    found[ProtocolError.__name__] = ProtocolError
    return found


def error_from_wire(data: object) -> OmgError:
    """The same error class the daemon raised, re-created client-side."""
    if not isinstance(data, dict):
        return ProtocolError("malformed error reply")
    message = str(data.get("message") or "omgd reported an error")
    hint = data.get("hint") if isinstance(data.get("hint"), str) else None
    cls = _error_classes().get(str(data.get("type")))
    if cls is None or not issubclass(cls, OmgError):
        err = OmgError(message, hint=hint)
        code = data.get("code")
        if isinstance(code, int) and not isinstance(code, bool) and 0 < code < 256:
            err.exit_code = code
        return err
    try:
        return cls(message, hint=hint)
    except TypeError:
        return OmgError(message, hint=hint)
