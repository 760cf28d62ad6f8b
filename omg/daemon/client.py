"""A blocking omgd client: connect, handshake, one request at a time.

Not thread-safe: use one `Client` per thread (connections are cheap).
Errors the daemon reports are re-raised as the same `OmgError` subclass.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from omg.daemon import protocol as P
from omg.daemon.oneshot import CLIENT_NAME as CLIENT_NAME


def default_socket(home: Path, raw: dict[str, Any] | None = None,
                   environ: dict[str, str] | None = None) -> Path:
    """OMG_SOCKET, then ``[daemon] socket``, then a default by mode (`omg.locate`)."""
    from omg import locate

    env = os.environ if environ is None else environ
    return Path(locate.default_socket(str(home), raw or {}, env))


class Client:
    def __init__(self, socket_path: Path | str, *, timeout: float = 600.0,
                 connect_timeout: float = 5.0, max_frame: int = P.DEFAULT_MAX_FRAME,
                 max_reply: int = P.DEFAULT_MAX_REPLY) -> None:
        self.socket_path = Path(socket_path)
        self.timeout = timeout
        self.max_frame = max_frame
        self._next_id = 1
        self._decoder = P.FrameDecoder(max_reply)
        self._ready: list[dict[str, Any]] = []
        try:
            self.sock = _connect(self.socket_path, connect_timeout)
        except OSError as exc:
            raise P.DaemonUnavailable(
                f"cannot reach omgd at {self.socket_path}: {exc.strerror or exc}",
                hint="start it with `omg daemon --foreground` or `systemctl start omgd`",
            ) from exc
        try:
            self._send(P.client_hello(CLIENT_NAME))
            self.hello = P.check_server_hello(self._read(time.monotonic() + connect_timeout))
        except BaseException:
            self.close()
            raise

    @property
    def peer(self) -> dict[str, Any]:
        """Who the daemon saw connect (its SO_PEERCRED view of us)."""
        return dict(self.hello["peer"])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _send(self, message: dict[str, Any], fd: int | None = None) -> None:
        frame = P.encode_frame(message, self.max_frame)
        try:
            if fd is None:
                self.sock.sendall(frame)
            else:
                # The descriptor rides on the frame's first bytes (SCM_RIGHTS).
                sent = socket.send_fds(self.sock, [frame], [fd])
                if sent < len(frame):
                    self.sock.sendall(frame[sent:])
        except OSError as exc:
            raise P.DaemonUnavailable(f"omgd hung up: {exc}") from exc

    def _read(self, deadline: float) -> dict[str, Any]:
        while not self._ready:
            left = deadline - time.monotonic()
            if left <= 0:
                raise P.DaemonUnavailable("omgd did not answer in time")
            if not readable(self.sock, left):
                continue
            try:
                data = self.sock.recv(65536)
            except OSError as exc:
                raise P.DaemonUnavailable(f"omgd hung up: {exc}") from exc
            if not data:
                raise P.DaemonUnavailable("omgd closed the connection")
            self._ready.extend(self._decoder.feed(data))
        return self._ready.pop(0)

    def call(self, method: str, params: dict[str, Any] | None = None, *,
             fd: int | None = None, timeout: float | None = None) -> Any:
        rid = self._next_id
        self._next_id += 1
        self._send(P.request(rid, method, params or {}), fd)
        reply = self._read(time.monotonic() + (timeout or self.timeout))
        if reply.get("id") is None and "error" in reply:
            raise P.error_from_wire(reply["error"])
        return P.parse_reply(reply, rid)


def readable(sock: socket.socket, timeout: float) -> bool:
    """Whether `sock` has input (or hung up) within `timeout` seconds.

    poll, not select: select cannot watch a descriptor above 1023, and a busy
    daemon's sockets get there.
    """
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(max(0.0, timeout) * 1000))


def _connect(path: Path, timeout: float) -> socket.socket:
    """A connected socket. A Unix socket whose backlog is full refuses at once
    (EAGAIN) instead of waiting: a burst of clients retries until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except BlockingIOError:
            sock.close()
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
            continue
        except OSError:
            sock.close()
            raise
        sock.settimeout(None)
        return sock


def connect(socket_path: Path | str, **kw: Any) -> Client:
    return Client(socket_path, **kw)


def send_fd_path(client: Client, method: str, params: dict[str, Any], path: Path) -> Any:
    """Open `path` read-only and pass its descriptor with the request."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return client.call(method, params, fd=fd)
    finally:
        os.close(fd)
