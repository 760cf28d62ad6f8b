"""One request to omgd, for the fast paths: connect, hello, ask, read, close.

`omg.daemon.client.Client` imports the protocol module (dataclasses, typing,
struct, socket), which costs a fast path more than its whole answer. This is
the same exchange (docs/protocol.md: 4-byte big-endian length, msgpack map)
with `_socket` and msgpack alone. The protocol's constants live here, and
`omg.daemon.protocol` takes them from here, so the two cannot drift apart.
An error reply is raised as the `OmgError` the daemon raised (the protocol
module is imported then, on the error path only).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PROTO_VERSION = 1
CLIENT_NAME = "omg/0.1.0"
#: Replies come from the trusted daemon and may list a whole store (store.records).
DEFAULT_MAX_REPLY = 64 << 20
#: A cold daemon may rebuild an index, ask the AUR or install before it answers.
TIMEOUT = 600.0


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
    if size > DEFAULT_MAX_REPLY:
        raise ValueError("omgd's reply is too large")
    import msgpack

    value = msgpack.unpackb(exactly(size), raw=False, strict_map_key=True)
    if not isinstance(value, dict):
        raise ValueError("an omgd frame must hold a map")
    return value


def call(socket_path: str, method: str, params: dict[str, Any],
         timeout: float = TIMEOUT) -> Any:
    """The method's result. Raises OSError or ValueError when the exchange fails
    (no daemon, hang-up, timeout, garbage) and the daemon's `OmgError` when it
    answers with one."""
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(socket_path)
        sock.sendall(_frame({"proto": PROTO_VERSION, "client": CLIENT_NAME}))
        hello = _read(sock)
        if hello.get("proto") != PROTO_VERSION or "error" in hello:
            raise ValueError("omgd refused the hello")
        sock.sendall(_frame({"id": 1, "method": method, "params": params}))
        reply = _read(sock)
    finally:
        sock.close()
    if reply.get("id") == 1 and "ok" in reply:
        return reply["ok"]
    if reply.get("id") == 1 and "error" in reply:
        from omg.daemon.protocol import error_from_wire

        raise error_from_wire(reply["error"])
    raise ValueError("omgd sent a malformed reply")
