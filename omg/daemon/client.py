"""omgd's client: one framing, one error translation, for a connection or one request.

`Client` keeps a connection for many requests and passes file descriptors (not
thread-safe: one per thread; connections are cheap). `call` is one request on a
connection of its own, for the fast paths (`omg use`/`rollback` in the shared
mode, `omg search`). Both are this module alone: it imports `_socket`, `time`
and msgpack when a connection opens and nothing heavier at all (no typing,
dataclasses, struct or socket: they cost a fast path more than its whole
answer; check with ``python -X importtime -c 'import omg.daemon.client'``).

Every transport failure (no socket, nobody listening, a timeout, a hang-up, a
garbled, malformed or too large reply) is `DaemonUnavailable` (exit code 10),
``cannot reach omgd at PATH: WHY`` with one hint, whichever way omg asked.
An error the daemon answers with is re-raised as the same `OmgError` subclass.
"""

from __future__ import annotations

from omg.daemon.wire import (
    CLIENT_NAME,
    DEFAULT_MAX_FRAME,
    DEFAULT_MAX_REPLY,
    PROTO_VERSION,
    TIMEOUT,
    client_hello,
    request,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _socket import socket
    from collections.abc import Mapping
    from pathlib import Path
    from types import TracebackType
    from typing import TypedDict, TypeGuard

    from store.errors import DaemonUnavailable, OmgError

    class ServerHello(TypedDict):
        proto: int
        server: str
        peer: dict[str, object]

HINT = "start it with `omg daemon --foreground` or `systemctl start omgd`"
#: How long connecting and the hello may take (a live daemon answers at once).
CONNECT_TIMEOUT = 5.0


def unavailable(socket_path: Path | str, why: str) -> DaemonUnavailable:
    """The one error for "omgd did not answer properly", whatever the cause."""
    from store.errors import DaemonUnavailable

    return DaemonUnavailable(f"cannot reach omgd at {socket_path}: {why}", hint=HINT)


def call(socket_path: Path | str, method: str, params: Mapping[str, object] | None = None,
         timeout: float = TIMEOUT) -> object:
    """One request on a connection of its own: the method's result (as msgpack gave it).

    Raises `DaemonUnavailable` when the exchange fails and the daemon's
    `OmgError` when it answers with one.
    """
    with Client(socket_path, timeout=timeout,
                connect_timeout=min(CONNECT_TIMEOUT, timeout)) as client:
        return client.call(method, params)


class Client:
    def __init__(self, socket_path: Path | str, *, timeout: float = TIMEOUT,
                 connect_timeout: float = CONNECT_TIMEOUT,
                 max_frame: int = DEFAULT_MAX_FRAME,
                 max_reply: int = DEFAULT_MAX_REPLY) -> None:
        import time

        self.socket_path = socket_path
        self.timeout = timeout
        self.max_frame = max_frame
        self.max_reply = max_reply
        self._clock = time.monotonic
        self._next_id = 1
        deadline = self._clock() + connect_timeout
        self.sock = self._connect(deadline)
        try:
            self._send(client_hello(CLIENT_NAME), deadline=deadline)
            self.hello = self._check_hello(self._read(deadline))
        except BaseException:
            self.close()
            raise

    @property
    def peer(self) -> dict[str, object]:
        """Who the daemon saw connect (its SO_PEERCRED view of us)."""
        return dict(self.hello["peer"])

    def close(self) -> None:
        try:  # noqa: SIM105 (contextlib is an import the fast paths do not pay for)
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> Client:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def call(self, method: str, params: Mapping[str, object] | None = None, *,
             fd: int | None = None, timeout: float | None = None) -> object:
        """The method's result, as msgpack gave it (the caller checks its shape); `fd`
        rides along (SCM_RIGHTS) for ``store.add``."""
        rid = self._next_id
        self._next_id += 1
        deadline = self._clock() + (timeout or self.timeout)
        self._send(request(rid, method, params or {}), fd, deadline)
        reply = self._read(deadline)
        if reply.get("id") == rid and "ok" in reply:
            return reply["ok"]
        if reply.get("id") in (rid, None) and isinstance(reply.get("error"), dict):
            raise _from_wire(reply["error"])  # id None: the connection's error
        raise unavailable(self.socket_path, "omgd sent a malformed reply")

    # Transport: every OSError becomes `unavailable` here ------------------------------

    def _connect(self, deadline: float) -> socket:
        """A connected socket. A Unix socket whose backlog is full refuses at once
        (EAGAIN) instead of waiting: a burst of clients retries until the deadline."""
        import _socket

        while True:
            try:
                sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            except OSError as exc:  # out of descriptors
                raise self._lost(exc) from exc
            try:
                sock.settimeout(max(0.0, deadline - self._clock()) or 0.001)
                sock.connect(str(self.socket_path))
                return sock
            except OSError as exc:
                sock.close()
                if not isinstance(exc, BlockingIOError) or self._clock() >= deadline:
                    raise self._lost(exc) from exc
            import time

            time.sleep(0.01)

    def _send(self, message: dict[str, object], fd: int | None = None,
              deadline: float | None = None) -> None:
        import msgpack

        body: bytes = msgpack.packb(message, use_bin_type=True)
        if len(body) > self.max_frame:
            from omg.daemon.protocol import ProtocolError

            raise ProtocolError(f"message of {len(body)} bytes exceeds the frame limit "
                                f"of {self.max_frame} bytes")
        frame = len(body).to_bytes(4, "big") + body
        try:
            self._wait(deadline)
            if fd is not None:
                import _socket
                import array

                # The descriptor rides on the frame's first bytes.
                sent = self.sock.sendmsg([frame], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS,
                                                    array.array("i", [fd]).tobytes())])
                frame = frame[sent:]
            if frame:
                self.sock.sendall(frame)
        except OSError as exc:
            raise self._lost(exc) from exc

    def _read(self, deadline: float) -> dict[str, object]:
        size = int.from_bytes(self._exactly(4, deadline), "big")
        if size > self.max_reply:
            raise unavailable(self.socket_path, f"omgd's reply of {size} bytes exceeds the "
                                                f"limit of {self.max_reply} bytes")
        body = self._exactly(size, deadline)
        import msgpack

        try:
            value = msgpack.unpackb(body, raw=False, strict_map_key=True)
        except Exception:  # msgpack raises many types on garbage; all mean the same
            raise unavailable(self.socket_path, "omgd sent an undecodable reply") from None
        if not isinstance(value, dict):
            raise unavailable(self.socket_path, "omgd sent a malformed reply")
        return value

    def _exactly(self, n: int, deadline: float) -> bytes:
        parts, got = [], 0
        try:
            while got < n:
                self._wait(deadline)
                chunk = self.sock.recv(min(n - got, 1 << 20))
                if not chunk:
                    raise unavailable(self.socket_path, "omgd closed the connection")
                parts.append(chunk)
                got += len(chunk)
        except OSError as exc:
            raise self._lost(exc) from exc
        return b"".join(parts)

    def _wait(self, deadline: float | None) -> None:
        """The socket's timeout: what is left of `deadline` (TimeoutError when none is)."""
        if deadline is None:
            deadline = self._clock() + self.timeout
        left = deadline - self._clock()
        if left <= 0:
            raise TimeoutError("timed out")
        self.sock.settimeout(left)

    def _lost(self, exc: OSError) -> DaemonUnavailable:
        return unavailable(self.socket_path, exc.strerror or str(exc) or type(exc).__name__)

    def _check_hello(self, hello: dict[str, object]) -> ServerHello:
        if isinstance(hello.get("error"), dict):  # e.g. Busy: too many clients
            raise _from_wire(hello["error"])
        if hello.get("proto") != PROTO_VERSION:
            from omg.daemon.protocol import ProtocolError

            raise ProtocolError(f"omgd speaks protocol {hello.get('proto')!r}, this omg "
                                f"{PROTO_VERSION}", hint="use an omg and omgd of the same release")
        if not _is_hello(hello):
            raise unavailable(self.socket_path, "omgd sent a malformed hello")
        return hello


def _is_hello(hello: dict[str, object]) -> TypeGuard[ServerHello]:
    return isinstance(hello.get("peer"), dict) and isinstance(hello.get("server"), str)


def _from_wire(data: object) -> OmgError:
    from omg.daemon.protocol import error_from_wire  # on the error path only

    return error_from_wire(data)
