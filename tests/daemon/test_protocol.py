"""The wire format alone: round trips, and garbage never crashes the decoder."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omg.daemon import protocol as P
from omg.daemon.peer import Group, Peer, may_gc, may_write_profiles_of, user_name
from store.errors import NotFound, OmgError, PermissionDenied, UsageError

scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | \
    st.floats(allow_nan=False) | st.text(max_size=20) | st.binary(max_size=20)
values = st.recursive(scalars, lambda c: st.lists(c, max_size=4)
                      | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=20)
messages = st.dictionaries(st.text(max_size=10), values, max_size=6)


@given(st.lists(messages, max_size=5), st.integers(1, 64))
def test_round_trip_in_any_chunking(msgs: list[dict[str, object]], chunk: int) -> None:
    stream = b"".join(P.encode_frame(m) for m in msgs)
    dec = P.FrameDecoder()
    out: list[dict[str, object]] = []
    for i in range(0, len(stream), chunk):
        out.extend(dec.feed(stream[i:i + chunk]))
    assert out == msgs
    assert dec.pending == 0


@given(st.binary(max_size=300))
@settings(max_examples=200)
def test_garbage_gives_messages_or_protocol_error(data: bytes) -> None:
    dec = P.FrameDecoder(max_size=256)
    try:
        for msg in dec.feed(data):
            assert isinstance(msg, dict)
    except P.ProtocolError as exc:
        assert str(exc)


@given(values.filter(lambda v: not isinstance(v, dict)))
def test_non_map_frames_refused(value: object) -> None:
    body = msgpack.packb(value, use_bin_type=True)
    with pytest.raises(P.ProtocolError, match="must hold a map"):
        P.FrameDecoder().feed(struct.pack(">I", len(body)) + body)


def test_oversized_length_prefix_refused_before_buffering() -> None:
    dec = P.FrameDecoder(max_size=1024)
    with pytest.raises(P.ProtocolError, match="exceeds the limit"):
        dec.feed(struct.pack(">I", 1 << 31))


def test_encoder_refuses_oversized_messages() -> None:
    with pytest.raises(P.ProtocolError):
        P.encode_frame({"x": "y" * 2000}, max_size=1000)


def test_truncated_frame_waits() -> None:
    frame = P.encode_frame({"a": 1})
    dec = P.FrameDecoder()
    assert dec.feed(frame[:-1]) == []
    assert dec.pending == len(frame) - 1 and dec.wanted() == 1
    assert dec.feed(frame[-1:]) == [{"a": 1}]


def test_ext_types_and_deep_nesting_refused() -> None:
    body = msgpack.packb({"a": msgpack.ExtType(5, b"x")})
    with pytest.raises(P.ProtocolError):
        P.decode_body(body)
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    with pytest.raises(P.ProtocolError):
        P.decode_body(msgpack.packb({"a": deep}))
    with pytest.raises(P.ProtocolError):
        P.decode_body(msgpack.packb({1: 2}))


def test_hello() -> None:
    assert P.check_client_hello(P.client_hello("omg/x")) == "omg/x"
    for bad in ({"proto": 2, "client": "x"}, {"proto": "1", "client": "x"},
                {"proto": 1}, {"proto": 1, "client": "x", "uid": 0}, {"proto": True,
                                                                      "client": "x"}):
        with pytest.raises(P.ProtocolError):
            P.check_client_hello(bad)
    with pytest.raises(P.ProtocolError, match="version 2"):
        P.check_client_hello({"proto": 2, "client": "x"})
    assert P.server_hello("omgd/x", {"uid": 1}) == {"proto": P.PROTO_VERSION,
                                                    "server": "omgd/x", "peer": {"uid": 1}}


@given(messages)
def test_parse_request_never_crashes(msg: dict[str, object]) -> None:
    try:
        req = P.parse_request(msg)
    except P.ProtocolError:
        return
    assert isinstance(req.id, int) and isinstance(req.method, str)


def test_parse_request_and_params() -> None:
    req = P.parse_request(P.request(7, "store.get", {"name": "x"}))
    assert req == P.Request(7, "store.get", {"name": "x"})
    spec = {"name": ("str", True), "refs": ("list[str]?", False)}
    assert P.check_params("m", {"name": "a"}, spec) == {"name": "a"}
    with pytest.raises(P.ProtocolError, match="unknown parameter"):
        P.check_params("m", {"name": "a", "hash": "abc"}, spec)
    with pytest.raises(P.ProtocolError, match="missing"):
        P.check_params("m", {}, spec)
    with pytest.raises(P.ProtocolError, match="must be"):
        P.check_params("m", {"name": 3}, spec)
    with pytest.raises(P.ProtocolError, match="must be"):
        P.check_params("m", {"name": "a", "refs": ["a", 1]}, spec)
    for bad in ({"id": -1, "method": "x"}, {"id": True, "method": "x"},
                {"id": 1, "method": ""}, {"id": 1, "method": "x", "params": []},
                {"id": 1, "method": "x", "extra": 1}):
        with pytest.raises(P.ProtocolError):
            P.parse_request(bad)


@pytest.mark.parametrize("exc", [NotFound("no such"), PermissionDenied("no", hint="ask"),
                                 UsageError("bad"), P.ProtocolError("proto")])
def test_errors_cross_the_wire_as_the_same_class(exc: OmgError) -> None:
    reply = P.decode_body(P.encode_frame(P.error_reply(3, exc))[4:])
    assert reply["id"] == 3
    err = P.error_from_wire(reply["error"])
    assert type(err) is type(exc) and (err.message, err.hint) == (exc.message, exc.hint)
    assert err.exit_code == exc.exit_code


def test_unknown_error_type_keeps_code_and_internal_errors_hide_details() -> None:
    err = P.error_from_wire({"code": 42, "type": "Weird", "message": "m", "hint": None})
    assert type(err) is OmgError and err.exit_code == 42
    wire = P.error_to_wire(KeyError("secret path"))
    assert wire["type"] == "InternalError" and "secret" not in wire["message"]
    assert isinstance(P.error_from_wire("nonsense"), P.ProtocolError)


# Authorization policy (pure) -----------------------------------------------------

def _peer(uid: int, user: str, gid: int = 100) -> Peer:
    return Peer(pid=1, uid=uid, gid=gid, user=user)


def test_user_name_falls_back_to_the_number() -> None:
    def lookup(uid: int) -> str:
        raise KeyError(uid)
    assert user_name(1234, lookup) == "1234"
    assert user_name(5, lambda u: "alice") == "alice"


def test_profiles_only_of_oneself_or_root() -> None:
    assert may_write_profiles_of(_peer(1000, "alice"), "alice")
    assert not may_write_profiles_of(_peer(1000, "alice"), "bob")
    assert may_write_profiles_of(_peer(0, "root"), "bob")
    assert not may_write_profiles_of(_peer(4321, "4321"), "4321")  # no passwd entry


def test_gc_only_root_or_group() -> None:
    groups = {"omg-gc": Group(500, ("alice",))}

    def lookup(name: str) -> Group:
        return groups[name]
    assert may_gc(_peer(0, "root"), None)
    assert not may_gc(_peer(1000, "alice"), None, lookup)
    assert may_gc(_peer(1000, "alice"), "omg-gc", lookup)
    assert may_gc(_peer(1002, "carol", gid=500), "omg-gc", lookup)  # primary group
    assert not may_gc(_peer(1001, "bob"), "omg-gc", lookup)
    assert not may_gc(_peer(1001, "bob"), "missing-group", lookup)


def test_default_socket(tmp_path: Path) -> None:
    from omg.daemon.wire import default_socket

    home = tmp_path / "home"
    assert default_socket(home, {}, {"OMG_SOCKET": "/x.sock"}) == Path("/x.sock")
    assert default_socket(home, {"daemon": {"socket": "/y.sock"}}, {}) == Path("/y.sock")
    assert default_socket(home, {}, {}) == home / "omgd.sock"  # no home yet: its own
    home.mkdir()
    owned_by_me = os.getuid() != 0
    expected = home / "omgd.sock" if owned_by_me else Path("/run/omg/omgd.sock")
    assert default_socket(home, {}, {}) == expected


def test_the_daemon_backend_only_when_home_is_read_only(tmp_path: Path) -> None:
    from omg.backends import open_backend
    from omg.backends.daemon import DaemonBackend
    from omg.backends.local import LocalBackend
    from omg.config import Settings

    sock = tmp_path / "s.sock"
    settings = Settings(home=tmp_path / "home", user="u")
    settings.home.mkdir()

    def chosen() -> type:
        return type(open_backend(str(settings.home), "u", settings,
                                 environ={"OMG_SOCKET": str(sock)}))

    assert chosen() is LocalBackend
    sock.touch()
    if os.access(settings.home, os.W_OK) and os.getuid() == 0:
        assert chosen() is LocalBackend  # root can write anything: never the shared mode
        return
    os.chmod(settings.home, 0o555)
    assert chosen() is DaemonBackend
