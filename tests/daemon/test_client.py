"""omg.daemon.client against sockets that misbehave: one error, whichever way omg asks.

Each case is a real Unix socket (a stale one, a plain file, or a listener in a
thread that answers wrongly); both the one-request `call` of the fast paths and
a `Client` must raise the same `DaemonUnavailable` (exit code 10, one message,
one hint), never an OSError, a ValueError or a protocol error.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import msgpack
import pytest

from omg.daemon import client
from omg.daemon.client import HINT, Client
from omg.daemon.wire import DEFAULT_MAX_REPLY, PROTO_VERSION
from store.errors import Busy, DaemonUnavailable, NotFound

#: What a fake omgd does with one accepted connection.
Behaviour = Callable[[socket.socket], None]


def frame(message: object) -> bytes:
    body = msgpack.packb(message, use_bin_type=True)
    return len(body).to_bytes(4, "big") + body


def read_frame(conn: socket.socket) -> object:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError("client hung up")
            data += chunk
        return data

    return msgpack.unpackb(exactly(int.from_bytes(exactly(4), "big")))


HELLO = {"proto": PROTO_VERSION, "server": "omgd/test", "peer": {"uid": 0}}


def after_hello(reply: bytes) -> Behaviour:
    """A daemon that shakes hands, reads the request, then sends `reply` (raw bytes)."""
    def run(conn: socket.socket) -> None:
        read_frame(conn)
        conn.sendall(frame(HELLO))
        read_frame(conn)
        conn.sendall(reply)
    return run


def silent(conn: socket.socket) -> None:
    conn.recv(1024)
    conn.recv(1024)  # until the client gives up and closes


def hangs_up(conn: socket.socket) -> None:
    read_frame(conn)


class FakeDaemon:
    def __init__(self, path: Path, behaviour: Behaviour) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(8)
        self.behaviour = behaviour
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed: the test is over
            with conn, contextlib.suppress(OSError):
                self.behaviour(conn)

    def close(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(10)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[Callable[[Behaviour], Path]]:
    started: list[FakeDaemon] = []

    def start(behaviour: Behaviour) -> Path:
        path = tmp_path / f"fake{len(started)}.sock"
        started.append(FakeDaemon(path, behaviour))
        return path
    yield start
    for daemon in started:
        daemon.close()


def both_ways(path: Path, timeout: float = 30.0) -> list[DaemonUnavailable]:
    """The error of the fast paths' `call` and of a `Client`'s call, for the same socket."""
    errors = []
    with pytest.raises(DaemonUnavailable) as one:
        client.call(path, "ping", {}, timeout=timeout)
    errors.append(one.value)
    with pytest.raises(DaemonUnavailable) as other, Client(
            path, timeout=timeout, connect_timeout=timeout) as c:
        c.call("ping")
    errors.append(other.value)
    return errors


def assert_one_error(path: Path, why: str, timeout: float = 30.0) -> None:
    for err in both_ways(path, timeout):
        assert err.message == f"cannot reach omgd at {path}: {why}"
        assert err.hint == HINT and err.exit_code == 10


def test_no_socket_and_stale_sockets(tmp_path: Path) -> None:
    assert_one_error(tmp_path / "absent.sock", "No such file or directory")
    stale = tmp_path / "stale.sock"  # bound, never listened: a dead daemon's file
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(stale))
    s.close()
    assert_one_error(stale, "Connection refused")
    plain = tmp_path / "plain.sock"
    plain.write_text("")
    assert_one_error(plain, "Connection refused")


def test_hang_ups_and_timeouts(fake: Callable[[Behaviour], Path]) -> None:
    assert_one_error(fake(hangs_up), "omgd closed the connection")
    assert_one_error(fake(after_hello(b"")), "omgd closed the connection")
    # Mid-frame: the length said 16 bytes, 3 came.
    assert_one_error(fake(after_hello(b"\x00\x00\x00\x10abc")), "omgd closed the connection")
    assert_one_error(fake(silent), "timed out", timeout=0.3)


def test_garbled_malformed_and_too_large_replies(fake: Callable[[Behaviour], Path]) -> None:
    assert_one_error(fake(after_hello(b"\x00\x00\x00\x01\xc1")), "omgd sent an undecodable reply")
    assert_one_error(fake(after_hello(frame([1, 2]))), "omgd sent a malformed reply")
    assert_one_error(fake(after_hello(frame({"id": 99, "ok": "pong"}))),
                     "omgd sent a malformed reply")
    assert_one_error(fake(after_hello(frame({"id": 1}))), "omgd sent a malformed reply")
    assert_one_error(fake(after_hello(frame({"id": 1, "error": "nonsense"}))),
                     "omgd sent a malformed reply")
    big = (DEFAULT_MAX_REPLY + 1).to_bytes(4, "big")
    assert_one_error(fake(after_hello(big)), f"omgd's reply of {DEFAULT_MAX_REPLY + 1} bytes "
                                             f"exceeds the limit of {DEFAULT_MAX_REPLY} bytes")

    def bad_hello(conn: socket.socket) -> None:
        read_frame(conn)
        conn.sendall(frame({"proto": PROTO_VERSION}))
    assert_one_error(fake(bad_hello), "omgd sent a malformed hello")


def test_answers_are_not_transport_failures(fake: Callable[[Behaviour], Path]) -> None:
    """An error the daemon sends is its own class; an answer is the answer."""
    error = {"code": 3, "type": "NotFound", "message": "no such path", "hint": None}
    path = fake(after_hello(frame({"id": 1, "error": error})))
    with pytest.raises(NotFound, match="no such path"):
        client.call(path, "ping")
    assert client.call(fake(after_hello(frame({"id": 1, "ok": "pong"}))), "ping") == "pong"

    def too_many(conn: socket.socket) -> None:
        read_frame(conn)
        conn.sendall(frame({"error": {"code": 4, "type": "Busy", "message": "omgd: too many "
                                      "clients", "hint": "retry shortly"}}))
    with pytest.raises(Busy) as caught:
        client.call(fake(too_many), "ping")
    assert caught.value.exit_code == 4


def test_the_lean_client_imports_nothing_heavy() -> None:
    """The fast paths import this module: no typing, dataclasses, struct, socket, protocol."""
    code = ("import sys; before = set(sys.modules); import omg.daemon.client; "
            "print(' '.join(sorted(set(sys.modules) - before)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert sorted(out) == ["__future__", "omg", "omg.daemon", "omg.daemon.client",
                           "omg.daemon.wire"]


def test_a_reply_that_is_not_a_list_is_one_error(fake: Callable[[Behaviour], Path],
                                                 tmp_path: Path) -> None:
    """A list-valued method answered with something else: omgd's fault, said in one line."""
    from omg.backends.daemon import DaemonBackend
    from omg.config import Settings

    path = fake(after_hello(frame({"id": 1, "ok": 5})))
    backend = DaemonBackend(path, str(tmp_path / "home"), "u",
                            Settings(home=tmp_path / "home", user="u"))
    try:
        with pytest.raises(DaemonUnavailable,
                           match="omgd sent a malformed list of RemoteVersion: int"):
            backend.releases("node")
    finally:
        backend.close()
