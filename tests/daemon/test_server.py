"""A live omgd: methods, fd passing, hostile clients, shutdown and crashes."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omg.daemon import protocol as P
from omg.daemon.client import Client
from omg.locate import shared_socket
from store.errors import Busy, DaemonUnavailable, NotFound, OmgError, UnsafeInput, UsageError
from store.layout import Layout
from store.local import LocalStore
from tests.daemon.conftest import Daemon, big_archive, command, make_archive, remote


def raw_connect(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(path))
    return s


def read_frame(s: socket.socket) -> dict[str, object] | None:
    dec = P.FrameDecoder()
    while True:
        data = s.recv(65536)
        if not data:
            return None
        msgs = dec.feed(data)
        if msgs:
            return msgs[0]


def assert_healthy(d: Daemon) -> None:
    with Client(d.socket, timeout=10) as c:
        assert c.call("ping") == "pong"


# Methods ---------------------------------------------------------------------------


def test_ping_and_whoami_use_peer_credentials(shared_daemon: Daemon) -> None:
    with Client(shared_daemon.socket) as c:
        assert c.call("ping") == "pong"
        me = c.call("whoami")
        assert me["uid"] == os.getuid() and me["gid"] == os.getgid()
        assert me["pid"] == os.getpid()
        assert c.peer["uid"] == os.getuid()
    assert (shared_daemon.socket.stat().st_mode & 0o777) == 0o666


def test_add_by_fd_gives_the_local_store_path(shared_daemon: Daemon, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "tool-1.0.tar.gz",
                           {"bin/tool": b"#!/bin/sh\necho hi\n", "README": b"read me"})
    b = remote(shared_daemon.socket)
    result = b.store_add(archive, "tool", "1.0")
    local = LocalStore(Layout(tmp_path / "local")).add(archive, "tool", "1.0")
    assert result.record.path == local.record.path
    assert result.created and result.record.origin == {"added_by": "root"}
    assert (shared_daemon.env.home / "store" / result.record.path / "bin/tool").is_file()
    assert b.store_info(result.record.path).record.hash == local.record.hash
    assert result.record.path in {r.path for r in b.store_records()}
    assert b.call("store.find", {"name": "tool", "version": "1.0"})[0]["path"] == \
        result.record.path
    assert b.call("store.closure", {"names": [result.record.path]}) == [result.record.path]
    assert b.store_verify().problems == [] and b.store_verify([result.record.path]) == (1, [])
    again = b.store_add(archive, "tool", "1.0")
    assert not again.created and again.record.path == result.record.path
    # A directory is packed client-side and hashes like the local directory ingest.
    tree = tmp_path / "tree"
    (tree / "bin").mkdir(parents=True)
    (tree / "bin" / "x").write_bytes(b"x")
    os.chmod(tree / "bin" / "x", 0o755)
    assert b.store_add(tree, "tree", "1").record.path == \
        LocalStore(Layout(tmp_path / "local")).add(tree, "tree", "1").record.path
    b.close()


def test_no_parameter_can_claim_a_hash(shared_daemon: Daemon, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "a.tar", {"f": b"content"})
    with Client(shared_daemon.socket) as c:
        for extra in ({"hash": "a" * 32}, {"path": "/etc"}, {"store_path": "x"}):
            fd = os.open(archive, os.O_RDONLY)
            try:
                with pytest.raises(P.ProtocolError, match="unknown parameter"):
                    c.call("store.add", {"name": "a", "version": "1", **extra}, fd=fd)
            finally:
                os.close(fd)
        with pytest.raises(P.ProtocolError, match="file descriptor"):
            c.call("store.add", {"name": "a", "version": "1"})
        with pytest.raises(UsageError):
            fd = os.open(archive, os.O_RDONLY)
            try:
                c.call("store.add", {"name": "../x", "version": "1"}, fd=fd)
            finally:
                os.close(fd)
        with pytest.raises(UsageError):
            fd = os.open(archive, os.O_RDONLY)
            try:
                c.call("store.add", {"name": "a", "version": "1", "filename": "../x"}, fd=fd)
            finally:
                os.close(fd)
        for not_a_file in (os.open(tmp_path, os.O_RDONLY), os.pipe()[0]):
            try:
                with pytest.raises(UnsafeInput, match="not a regular file"):
                    c.call("store.add", {"name": "a", "version": "1"}, fd=not_a_file)
            finally:
                os.close(not_a_file)
        write_only = os.open(tmp_path / "w", os.O_WRONLY | os.O_CREAT)
        try:
            with pytest.raises(UsageError, match="cannot read"):
                c.call("store.add", {"name": "a", "version": "1"}, fd=write_only)
        finally:
            os.close(write_only)
        with pytest.raises(P.ProtocolError, match="unknown method"):
            c.call("store.delete", {})
        with pytest.raises(NotFound):
            c.call("store.get", {"name": "a" * 32 + "-nope-1"})
        with pytest.raises(UsageError):
            c.call("store.get", {"name": "../../etc/passwd"})
        assert c.call("ping") == "pong"  # the connection survives refused requests
    assert not any((shared_daemon.env.home / "daemon" / "incoming").iterdir())


def test_the_local_backend_when_the_home_is_writable(shared_daemon: Daemon) -> None:
    from omg.backends import open_backend
    from omg.backends.local import LocalBackend

    settings = shared_daemon.env.settings()
    b = open_backend(str(settings.home), settings.user, settings,
                     environ=shared_daemon.env.env)
    assert isinstance(b, LocalBackend)
    b.close()
    assert shared_socket(str(settings.home), {}, shared_daemon.env.env) is None


# Hostile clients ---------------------------------------------------------------------


def test_bad_version_gets_structured_error_and_close(shared_daemon: Daemon) -> None:
    with raw_connect(shared_daemon.socket) as s:
        s.sendall(P.encode_frame({"proto": 99, "client": "x"}))
        reply = read_frame(s)
        assert reply is not None and reply["error"]["type"] == "ProtocolError"  # type: ignore[index]
        assert "version 99" in reply["error"]["message"]  # type: ignore[index]
        assert read_frame(s) is None


def test_oversized_frame_and_wrong_types(shared_daemon: Daemon) -> None:
    with raw_connect(shared_daemon.socket) as s:
        s.sendall(P.encode_frame(P.client_hello("t")))
        assert read_frame(s)["proto"] == 1  # type: ignore[index]
        s.sendall(struct.pack(">I", 1 << 30))
        reply = read_frame(s)
        assert reply is not None and "exceeds" in reply["error"]["message"]  # type: ignore[index]
    with raw_connect(shared_daemon.socket) as s:
        s.sendall(P.encode_frame(P.client_hello("t")))
        read_frame(s)
        body = msgpack.packb({"id": "one", "method": 5})
        s.sendall(struct.pack(">I", len(body)) + body)
        reply = read_frame(s)
        assert reply is not None and reply["error"]["type"] == "ProtocolError"  # type: ignore[index]
    assert_healthy(shared_daemon)


def test_stalled_half_frame_is_dropped_without_blocking_others(shared_daemon: Daemon) -> None:
    stalled = raw_connect(shared_daemon.socket)
    stalled.sendall(P.encode_frame(P.client_hello("t")))
    read_frame(stalled)
    frame = P.encode_frame(P.request(1, "ping", {}))
    stalled.sendall(frame[:5])
    silent = raw_connect(shared_daemon.socket)  # never even says hello
    t0 = time.monotonic()
    for _ in range(20):
        assert_healthy(shared_daemon)
    assert time.monotonic() - t0 < 5
    stalled.settimeout(5)
    assert read_frame(stalled) is None  # dropped after frame_timeout (1 s)
    silent.settimeout(5)
    assert silent.recv(10) == b""  # dropped after handshake_timeout (2 s)
    stalled.close()
    silent.close()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(hello=st.booleans(), junk=st.binary(max_size=200), cut=st.booleans())
def test_random_bytes_never_hurt_the_daemon(shared_daemon: Daemon, hello: bool, junk: bytes,
                                             cut: bool) -> None:
    with raw_connect(shared_daemon.socket) as s:
        try:
            if hello:
                s.sendall(P.encode_frame(P.client_hello("fuzz")))
            s.sendall(junk)
            if cut:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    assert_healthy(shared_daemon)


def test_disconnect_mid_request(shared_daemon: Daemon, tmp_path: Path) -> None:
    archive = big_archive(tmp_path / "big.tar", mib=8)
    with raw_connect(shared_daemon.socket) as s:
        s.sendall(P.encode_frame(P.client_hello("t")))
        read_frame(s)
        fd = os.open(archive, os.O_RDONLY)
        socket.send_fds(s, [P.encode_frame(P.request(1, "store.add",
                                                     {"name": "big", "version": "1"}))], [fd])
        os.close(fd)
    assert_healthy(shared_daemon)


def test_many_clients_at_once(shared_daemon: Daemon) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with Client(shared_daemon.socket) as c:
                for _ in range(30):
                    assert c.call("ping") == "pong"
                    c.call("store.records")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors


# Lifecycle ---------------------------------------------------------------------------


def test_second_daemon_on_one_store_refuses(daemon: Daemon, tmp_path: Path) -> None:
    proc = subprocess.run(command(tmp_path / "other.sock"), env=daemon.env.env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 4
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("omgd: error: another omgd") and str(daemon.proc.pid) in lines[0]  # type: ignore[union-attr]
    assert_healthy(daemon)


def test_sigterm_finishes_the_request_in_flight(daemon: Daemon, tmp_path: Path) -> None:
    archive = big_archive(tmp_path / "big.tar")
    results: list[object] = []

    def add() -> None:
        try:
            results.append(remote(daemon.socket).store_add(archive, "big", "1"))
        except BaseException as exc:
            results.append(exc)

    idle = Client(daemon.socket)
    t = threading.Thread(target=add)
    t.start()
    staging = daemon.env.layout.staging
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(p.is_dir() for p in staging.iterdir()):
        time.sleep(0.002)  # the ingest is under way: now stop the daemon
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGTERM)
    t.join(60)
    assert daemon.proc.wait(30) == 0
    assert len(results) == 1 and not isinstance(results[0], BaseException), results
    assert not daemon.socket.exists()
    with pytest.raises(DaemonUnavailable):
        idle.call("ping")
    assert LocalStore(daemon.env.layout).verify() == []


def test_sigkill_during_ingest_leaves_a_valid_store(daemon: Daemon, tmp_path: Path) -> None:
    archive = big_archive(tmp_path / "big.tar")
    c = Client(daemon.socket)
    fd = os.open(archive, os.O_RDONLY)
    c._send(P.request(1, "store.add", {"name": "big", "version": "1"}), fd)
    os.close(fd)
    staging = daemon.env.layout.staging
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(p.is_dir() for p in staging.iterdir()):
        time.sleep(0.005)
    daemon.stop(signal.SIGKILL)
    c.close()
    layout = daemon.env.layout
    store = LocalStore(layout)
    assert store.verify() == []
    assert all(not n.startswith(".pending") for n in os.listdir(layout.store)
               if not n.startswith(".")) and store.names() == []
    debris = list(staging.iterdir()) + list((layout.home / "daemon" / "incoming").iterdir())
    assert debris, "the kill should have left staging debris to clean"
    daemon.start()  # the stale socket file is replaced; debris removed at start
    assert list(staging.iterdir()) == []
    assert not list(layout.store.glob(".pending-*"))
    assert not list((layout.home / "daemon" / "incoming").iterdir())
    assert remote(daemon.socket).store_add(archive, "big", "1").created
    assert daemon.stop() == 0


def test_socket_activation(tmp_path: Path) -> None:
    """LISTEN_FDS=1 as systemd passes it: serve fd 3, leave the socket file to systemd."""
    from tests.daemon.conftest import daemon_env

    env = daemon_env(tmp_path / "d")
    path = tmp_path / "d" / "activated.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(8)
    fd = listener.fileno()
    wrapper = (f"import os, sys; fd = {fd}; fd == 3 or os.dup2(fd, 3); "
               "os.environ['LISTEN_PID'] = str(os.getpid()); "
               "os.execv(sys.executable, [sys.executable, '-m', 'omg.daemon'])")
    proc = subprocess.Popen(
        [sys.executable, "-c", wrapper], env={**env.env, "LISTEN_FDS": "1",
                                               "OMG_SOCKET": str(tmp_path / "unused.sock")},
        pass_fds=(fd,), stderr=subprocess.DEVNULL)
    listener.close()
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with Client(path, timeout=5) as c:
                    assert c.call("ping") == "pong"
                break
            except DaemonUnavailable:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        assert not (tmp_path / "unused.sock").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    assert path.exists()  # systemd's socket: not ours to remove


def test_one_uid_cannot_hold_every_connection(tmp_path: Path) -> None:
    from tests.daemon.conftest import daemon_env

    d = Daemon(daemon_env(tmp_path / "d", "[daemon]\nmax_clients_per_uid = 3\n"),
               tmp_path / "d" / "omgd.sock")
    d.start()
    try:
        hogs = [raw_connect(d.socket) for _ in range(3)]
        with raw_connect(d.socket) as s:
            reply = read_frame(s)
        assert reply is not None and reply["error"]["type"] == "Busy"  # type: ignore[index]
        for h in hogs:
            h.close()
        deadline = time.monotonic() + 5
        while True:
            try:
                assert_healthy(d)
                break
            except Busy:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        assert d.stop() == 0


def test_gc_through_the_daemon_frees_unrooted_paths(daemon: Daemon, tmp_path: Path) -> None:
    b = remote(daemon.socket)
    name = b.store_add(make_archive(tmp_path / "g.tar", {"f": b"gc me"}), "g", "1").record.path
    assert b.gc(dry_run=True).dead == [name]
    assert name in {r.path for r in b.store_records()}
    result = b.gc()
    assert result.dead == [name] and not result.dry_run
    assert b.store_records() == [] and LocalStore(daemon.env.layout).verify() == []
    b.close()


def test_parallel_adds_from_many_clients(shared_daemon: Daemon, tmp_path: Path) -> None:
    archives = [make_archive(tmp_path / f"p{i % 3}-{i}.tar", {"f": b"same %d" % (i % 3)})
                for i in range(6)]
    found: list[object] = []

    def add(archive: Path) -> None:
        try:
            store = remote(shared_daemon.socket)
            found.append(store.store_add(archive, "par", "1").record.path)
            store.close()
        except BaseException as exc:
            found.append(exc)

    threads = [threading.Thread(target=add, args=(a,)) for a in archives]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(isinstance(p, str) for p in found), found
    assert len(set(found)) == 3
    assert LocalStore(shared_daemon.env.layout).verify() == []


_vals = st.recursive(st.none() | st.booleans() | st.integers(-5, 2**64 - 1) | st.text(max_size=8)
                     | st.binary(max_size=8),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c,
                                                                           max_size=3),
                     max_leaves=10)
_methods = st.sampled_from(["ping", "whoami", "store.get", "store.add", "store.verify",
                            "store.records", "gc", "store.find", "x"]) | st.text(max_size=10)


_keys = st.sampled_from(["name", "version", "names", "dry_run", "hash", "references",
                         "filename"]) | st.text(max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(method=_methods, params=st.dictionaries(_keys, _vals, max_size=4), rid=_vals)
def test_random_requests_get_answers_not_crashes(shared_daemon: Daemon, method: str,
                                                  params: dict[str, object], rid: object) -> None:
    with raw_connect(shared_daemon.socket) as s:
        s.sendall(P.encode_frame(P.client_hello("fuzz")))
        read_frame(s)
        s.sendall(P.encode_frame({"id": rid, "method": method, "params": params}))
        reply = read_frame(s)
        assert reply is not None and ("ok" in reply or "error" in reply)
        if "error" in reply:
            assert reply["error"]["type"] != "InternalError", reply  # type: ignore[index]


def test_a_non_socket_at_the_socket_path_is_never_deleted(tmp_path: Path) -> None:
    from tests.daemon.conftest import daemon_env

    env = daemon_env(tmp_path / "d")
    precious = tmp_path / "precious"
    precious.write_text("keep")
    proc = subprocess.run(command(precious), env=env.env, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 2 and "is not a socket" in proc.stderr.splitlines()[0]
    assert precious.read_text() == "keep"


# Hardening: start-up, descriptors, garbage ------------------------------------------


def _deep_tree(parent: Path, name: str, depth: int) -> None:
    """`parent/name/d/d/...`, deeper than a path can name (made relative to each level)."""
    fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    os.mkdir(name, dir_fd=fd)
    cur = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    for _ in range(depth):
        os.mkdir("d", dir_fd=cur)
        nxt = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=cur)
        os.close(cur)
        cur = nxt
    os.close(cur)


def test_deep_debris_is_removed_at_start_up(tmp_path: Path) -> None:
    """A dead ingest's staging area 3000 levels deep (deeper than Python's recursion
    limit) once stopped omgd at start-up; now it is removed and omgd serves."""
    from tests.daemon.conftest import daemon_env

    env = daemon_env(tmp_path / "d")
    staging = env.layout.staging
    staging.mkdir(parents=True)
    work_id = "12345-0123456789ab"  # nobody holds its flock: a dead ingest's
    (staging / f"{work_id}.lock").write_text("")
    _deep_tree(staging, work_id, 3000)
    d = Daemon(env, tmp_path / "d" / "omgd.sock")
    d.start()
    try:
        assert_healthy(d)
        assert os.listdir(staging) == []
        said = [line for line in d.log_lines() if "removed 1 staging leftovers" in line]
        assert len(said) == 1
        assert not any(line.startswith("Traceback") for line in d.log_lines())
        archive = make_archive(tmp_path / "a.tar", {"f": b"still serving"})
        assert remote(d.socket).store_add(archive, "a", "1").created
    finally:
        assert d.stop() == 0
        if (staging / work_id).exists():  # only if the test failed: rm walks any depth
            subprocess.run(["rm", "-rf", str(staging / work_id)], check=True)


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_descriptors_are_closed_on_every_path(daemon: Daemon, tmp_path: Path) -> None:
    assert daemon.proc is not None
    pid = daemon.proc.pid
    zeros = tmp_path / "zeros"
    zeros.write_bytes(bytes(1 << 16))
    bad_gz = tmp_path / "bad.tar.gz"
    bad_gz.write_bytes(b"\x1f\x8b" + os.urandom(4096))
    good = make_archive(tmp_path / "ok.tar", {"f": b"x"})
    add = P.request(1, "store.add", {"name": "a", "version": "1"})

    def send(frames: list[bytes], fds: list[int], *, hello: bool = True,
             read: bool = True) -> None:
        with raw_connect(daemon.socket) as s:
            if hello:
                s.sendall(P.encode_frame(P.client_hello("t")))
                read_frame(s)
            socket.send_fds(s, frames, fds)
            if read:
                read_frame(s)

    def one_round() -> None:
        for path in (zeros, bad_gz):  # refused before the copy; failing in the ingest
            fd = os.open(path, os.O_RDONLY)
            with Client(daemon.socket) as c, pytest.raises(OmgError):
                c.call("store.add", {"name": "a", "version": "1"}, fd=fd)
            os.close(fd)
        r, w = os.pipe()
        fd = os.open(good, os.O_RDONLY)
        send([P.encode_frame(add)], [r])  # not a regular file
        send([P.encode_frame(add)], [fd, r])  # two descriptors
        send([P.encode_frame(P.request(1, "ping", {}))], [fd])  # a method that takes none
        send([P.encode_frame({"id": "x", "method": 1})], [fd])  # a bad envelope
        send([b"\x00\x00\x00\x02\xc1\xc1"], [fd])  # an undecodable frame
        send([P.encode_frame(P.client_hello("t"))], [fd], hello=False)  # with the hello
        send([P.encode_frame(add)[:6]], [fd], read=False)  # hung up mid-frame
        send([P.encode_frame(add)], [fd], read=False)  # hung up before the answer
        for x in (r, w, fd):
            os.close(x)

    one_round()  # the first round opens what stays open (LMDB, incoming, ...)
    time.sleep(0.5)
    before = _open_fds(pid)
    for _ in range(10):
        one_round()
    deadline = time.monotonic() + 10
    while _open_fds(pid) > before and time.monotonic() < deadline:
        time.sleep(0.05)  # connection threads finish after their client hangs up
    assert _open_fds(pid) <= before
    assert_healthy(daemon)


def test_a_descriptor_sent_with_the_hello_is_refused(shared_daemon: Daemon,
                                                    tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "a.tar", {"f": b"x"})
    fd = os.open(archive, os.O_RDONLY)
    with raw_connect(shared_daemon.socket) as s:
        socket.send_fds(s, [P.encode_frame(P.client_hello("t"))], [fd])
        os.close(fd)
        reply = read_frame(s)
        assert reply is not None and reply["error"]["type"] == "ProtocolError"  # type: ignore[index]
        assert "hello takes no file descriptor" in reply["error"]["message"]  # type: ignore[index]
        assert read_frame(s) is None  # and the connection is closed


def test_an_origin_the_record_cannot_hold_is_a_usage_error(shared_daemon: Daemon,
                                                           tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "o.tar", {"f": b"origin"})
    b = remote(shared_daemon.socket)
    for origin in ({"blob": b"\x00"}, {"x": float("nan")}, {"note": "x" * 5000}):
        with pytest.raises(UsageError, match="origin"):
            b.store_add(archive, "o", "1", origin=origin)
    assert b.store_add(archive, "o", "1", origin={"url": "https://example.org/o.tar"}).created
    b.close()


def test_connections_past_descriptor_1023_are_served(tmp_path: Path) -> None:
    """select() cannot watch a descriptor above 1023; a busy daemon's sockets get there."""
    import resource

    from tests.daemon.conftest import daemon_env

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is below 4096")
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    d = Daemon(daemon_env(tmp_path / "d", "[daemon]\nmax_clients = 2000\n"
                                          "max_clients_per_uid = 2000\n"),
               tmp_path / "d" / "omgd.sock")
    held: list[socket.socket] = []
    try:
        d.start()  # inherits the raised limit
        for _ in range(1100):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(str(d.socket))
            held.append(s)
        with Client(d.socket, timeout=10) as c:
            assert c.call("ping") == "pong"
    finally:
        for s in held:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        if d.proc is not None:
            assert d.stop() == 0


def test_repair_waits_for_the_daemon_to_stop(daemon: Daemon, tmp_path: Path) -> None:
    """Root's `omg doctor --repair` moved db/ aside under a running omgd, which went on
    writing its index rows into the moved-aside copy (its LMDB stays open): every
    addition after the repair was missing from the index everyone reads."""
    archive = make_archive(tmp_path / "a.tar.gz", {"bin/a": b"a"})
    daemon.env.run("store", "add", str(archive), "--name", "a", "--version", "1", check=True)
    home = daemon.env.home
    proc = daemon.env.run("doctor", "--repair")
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.startswith("error: omgd (pid "), proc.stderr
    assert "stop" in proc.stderr
    assert not [e for e in os.listdir(home) if e.startswith("db.old")]
    assert daemon.stop() == 0
    proc = daemon.env.run("doctor", "--repair", check=True)
    assert proc.stdout.startswith("index rebuilt: 1 store paths")
    daemon.start()  # a repair holds the daemon's lock only while it runs
