"""`omg search` in the shared mode: ask omgd, which holds the search index in memory.

The whole exchange is the protocol of docs/protocol.md (hello, then one ``search``
request), written here with `_socket` and msgpack: omg.daemon.client imports the
protocol module (dataclasses, socket, enum), which costs more than the search it
would save. Any
failure (no daemon, a hang-up, a timeout, an error reply, an answer for other
settings) returns None and the caller searches locally, silently: the daemon is a
cache here, never a requirement.
"""

from __future__ import annotations

import os

# Not `from typing import ...` (start-up cost); type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from omg.arch.fastconfig import SearchSettings

#: omg.daemon.protocol.PROTO_VERSION and omg.daemon.client.CLIENT_NAME (tested equal).
PROTO_VERSION = 1
CLIENT_NAME = "omg/0.1.0"
MAX_REPLY = 64 << 20  # omg.daemon.protocol.DEFAULT_MAX_REPLY
#: A cold daemon may rebuild an index or ask the AUR (10 s) before it answers.
TIMEOUT = 30.0


def source_of(settings: Any) -> dict[str, Any]:
    """What a search answer depends on, compared between the client and the daemon."""
    return {"home": os.path.abspath(settings.home),
            "pacman_conf": os.path.abspath(settings.pacman_conf),
            "dbpath": os.path.abspath(settings.dbpath) if settings.dbpath else None,
            "aur_url": settings.aur_url}


def _frame(message: dict[str, Any]) -> bytes:
    import msgpack

    body: bytes = msgpack.packb(message, use_bin_type=True)
    return len(body).to_bytes(4, "big") + body


def _read(sock: Any) -> dict[str, Any]:
    def exactly(n: int) -> bytes:
        parts, got = [], 0
        while got < n:
            chunk = sock.recv(min(n - got, 1 << 20))
            if not chunk:
                raise OSError("omgd closed the connection")
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    size = int.from_bytes(exactly(4), "big")
    if size > MAX_REPLY:
        raise ValueError("reply too large")
    import msgpack

    value = msgpack.unpackb(exactly(size), raw=False, strict_map_key=True)
    if not isinstance(value, dict):
        raise ValueError("a frame must hold a map")
    return value


def call(socket_path: str, params: dict[str, Any], timeout: float = TIMEOUT) -> Any:
    """The ``search`` method's result; raises on any failure (OSError, ValueError, ...)."""
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(socket_path)
        sock.sendall(_frame({"proto": PROTO_VERSION, "client": CLIENT_NAME}))
        hello = _read(sock)
        if hello.get("proto") != PROTO_VERSION or "error" in hello:
            raise ValueError("omgd refused the hello")
        sock.sendall(_frame({"id": 1, "method": "search", "params": params}))
        reply = _read(sock)
    finally:
        sock.close()
    if reply.get("id") != 1 or "ok" not in reply:
        error = reply.get("error")
        raise ValueError(str(error.get("message") if isinstance(error, dict) else error))
    return reply["ok"]


def ask(socket_path: str, settings: SearchSettings, terms: list[str], *,
        repos_only: bool = False, hits: bool = False) -> dict[str, Any] | None:
    """The daemon's answer ({text or hits, count, warnings}) or None: search locally."""
    try:
        answer = call(socket_path, {"terms": terms, "repos_only": repos_only, "hits": hits})
    except Exception:  # any failure means: search locally
        return None
    if not isinstance(answer, dict) or answer.get("source") != source_of(settings):
        return None  # another store or other pacman settings than this user's
    body = answer.get("hits") if hits else answer.get("text")
    warnings = answer.get("warnings")
    if (not isinstance(body, list if hits else str) or not isinstance(answer.get("count"), int)
            or not isinstance(warnings, list)
            or not all(isinstance(w, str) for w in warnings)):
        return None
    return answer
