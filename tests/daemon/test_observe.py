"""A daemon one can watch: a log line per request, `daemon.stats`, the audit log."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from omg.daemon import protocol as P
from omg.daemon.client import Client
from omg.daemon.observe import MAX_ITEMS, MAX_PARAMS, MAX_TEXT, Outcome, audit_record, trim
from omg.daemon.peer import Peer
from store.errors import NotFound, UsageError
from tests.daemon.conftest import (
    Daemon,
    command,
    daemon_env,
    make_archive,
    remote,
    wait_for_socket,
)
from tests.daemon.test_server import raw_connect, read_frame
from tests.schema import check

LINE = re.compile(r"omgd: req=(\d+) pid=(\d+) uid=(\d+) user=(\S+) method=(\S+) "
                  r"result=(\S+) ms=(\d+\.\d)$")


def requests_logged(d: Daemon) -> list[dict[str, str]]:
    out = []
    for line in d.log_lines():
        m = LINE.match(line)
        if m:
            out.append(dict(zip(("req", "pid", "uid", "user", "method", "result", "ms"),
                                m.groups(), strict=True)))
    return out


def audit(d: Daemon) -> list[dict[str, Any]]:
    path = d.env.home / "daemon" / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_request_is_one_log_line_and_counted(daemon: Daemon) -> None:
    before = len(requests_logged(daemon))  # the fixture's pings while it waited
    with Client(daemon.socket) as c:
        for _ in range(3):
            c.call("ping")
        with pytest.raises(NotFound):
            c.call("store.get", {"name": "a" * 32 + "-nope-1"})
        with pytest.raises(P.ProtocolError, match="unknown method"):
            c.call("evil\nomgd: req=1 method=gc result=ok", {})
        stats = c.call("daemon.stats")
    logged = requests_logged(daemon)[before:]
    assert [(r["user"], r["method"], r["result"]) for r in logged] == [
        ("root", "ping", "ok")] * 3 + [("root", "store.get", "NotFound"),
                                       ("root", "?", "ProtocolError"),
                                       ("root", "daemon.stats", "ok")]
    assert not any("evil" in line for line in daemon.log_lines())  # no forged lines
    assert [int(r["req"]) for r in logged] == list(range(before + 1, before + 7))
    assert {r["pid"] for r in logged} == {str(os.getpid())}
    methods = stats["methods"]
    assert methods["ping"]["count"] == 3 + before and methods["ping"]["errors"] == 0
    assert methods["store.get"]["error_types"] == {"NotFound": 1}
    assert methods["?"]["error_types"] == {"ProtocolError": 1}
    # daemon.stats answers before it is itself counted
    assert stats["requests"] == before + 5 and stats["errors"] == 2
    ping = methods["ping"]
    assert 0 <= ping["p50_ms"] <= ping["p95_ms"] <= ping["max_ms"]
    assert ping["mean_ms"] <= ping["max_ms"]
    assert stats["connections"]["open"] >= 1 and stats["connections"]["accepted"] >= 1


def test_a_frame_that_is_no_request_is_logged_too(daemon: Daemon) -> None:
    before = len(requests_logged(daemon))
    with raw_connect(daemon.socket) as s:
        s.sendall(P.encode_frame(P.client_hello("t")))
        read_frame(s)
        s.sendall(b"\x00\x00\x00\x02\xc1\xc1")  # 0xc1: never valid msgpack
        assert read_frame(s)["error"]["type"] == "ProtocolError"  # type: ignore[index]
    with Client(daemon.socket) as c:
        stats = c.call("daemon.stats")
    assert stats["methods"]["-"]["error_types"] == {"ProtocolError": 1}
    assert [(r["method"], r["result"]) for r in requests_logged(daemon)[before:]] == [
        ("-", "ProtocolError"), ("daemon.stats", "ok")]


def test_changes_are_audited_with_their_outcome(daemon: Daemon, tmp_path: Path) -> None:
    b = remote(daemon.socket)
    archive = make_archive(tmp_path / "tool-1.0.tar.gz", {"bin/tool": b"#!/bin/sh\n"})
    added = b.store_add(archive, "tool", "1.0", origin={"note": "hi"})
    with pytest.raises(UsageError):
        b.store_add(archive, "evil", "1", origin={"note": "x" * 5000, "blob": b"\x00" * 10})
    b.call("ping", {})
    b.call("store.records")
    b.gc(dry_run=True)
    b.close()
    records = audit(daemon)
    assert [(r["method"], r["result"]) for r in records] == [
        ("store.add", "ok"), ("store.add", "error"), ("gc", "ok")]  # reads are not audited
    ok, failed, gc = records
    assert ok["summary"] == {"store_path": added.record.path, "created": True}
    assert (ok["uid"], ok["user"], ok["pid"]) == (0, "root", os.getpid())
    assert ok["params"] == {"name": "tool", "version": "1.0", "references": [],
                            "filename": "tool-1.0.tar.gz", "origin": {"note": "hi"}}
    assert failed["error"]["type"] == "UsageError" and "summary" not in failed
    assert failed["params"]["origin"]["blob"] == "<10 bytes>"
    assert len(failed["params"]["origin"]["note"]) < MAX_TEXT + 20
    assert gc["summary"]["dry_run"] is True and gc["params"] == {"dry_run": True}
    logged = {int(r["req"]): r["method"] for r in requests_logged(daemon)}
    assert all(logged[r["req"]] == r["method"] for r in records)  # the same request ids
    path = daemon.env.home / "daemon" / "audit.log"
    st = path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_uid == os.geteuid()
    parent = path.parent.stat()
    assert stat.S_IMODE(parent.st_mode) == 0o755 and parent.st_uid == os.geteuid()


def test_the_audit_log_survives_a_restart_and_only_grows(daemon: Daemon,
                                                         tmp_path: Path) -> None:
    b = remote(daemon.socket)
    b.gc(dry_run=True)
    b.close()
    assert daemon.stop() == 0
    path = daemon.env.home / "daemon" / "audit.log"
    os.chmod(path, 0o666)  # loosened by someone: the daemon tightens it again
    daemon.start()
    b = remote(daemon.socket)
    b.gc(dry_run=True)
    b.close()
    assert [r["method"] for r in audit(daemon)] == ["gc", "gc"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_foreign_audit_log_stops_the_daemon_from_starting(daemon: Daemon,
                                                            tmp_path: Path) -> None:
    assert daemon.stop() == 0
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    path = daemon.env.home / "daemon" / "audit.log"
    path.unlink()
    path.symlink_to(victim)  # never followed, never appended to
    proc = daemon.env.run("daemon", "--foreground")
    assert proc.returncode != 0 and "audit.log" in proc.stderr, proc.stderr
    assert victim.read_text() == "precious\n"


def test_params_are_cut_short_for_the_audit_log() -> None:
    peer = Peer(1, 1000, 1000, "alice")
    huge = {"names": [f"n{i}" * 50 for i in range(1000)], "deep": [[[[["x"]]]]],
            "nan": float("nan")}
    record = audit_record(Outcome(7, peer, "store.add", huge, UsageError("no"), None, 1.0),
                          0.0)
    assert len(json.dumps(record)) < MAX_PARAMS + 1000
    small = trim({"names": ["a"] * 40, "deep": [[[[["x"]]]]], "nan": float("nan")})
    assert len(small["names"]) == MAX_ITEMS + 1 and small["nan"] == "nan"
    assert small["deep"] == [["..."]]
    json.dumps(small, allow_nan=False)


def test_status_shows_the_stats(daemon: Daemon) -> None:
    with Client(daemon.socket) as c:
        pings = c.call("daemon.stats")["methods"]["ping"]["count"]
    out = daemon.env.run("daemon", "status", "--stats", "--socket", str(daemon.socket),
                         check=True).stdout
    lines = out.splitlines()
    assert re.match(r"\d+ requests, 0 errors in 0m\d\ds; 1 connections open", lines[2])
    assert lines[3].split()[:3] == ["method", "count", "errors"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[4:]}
    assert rows["ping"][:2] == [str(pings + 1), "0"]  # status pings once
    data = check("daemon-status", daemon.env.run("daemon", "status", "--stats", "--json",
                                                 "--socket", str(daemon.socket),
                                                 check=True).stdout)
    assert data["stats"]["methods"]["whoami"]["count"] == 2
    plain = json.loads(daemon.env.run("daemon", "status", "--json", "--socket",
                                      str(daemon.socket), check=True).stdout)
    assert plain["stats"] is None


def test_a_lost_journal_loses_lines_not_requests(tmp_path: Path) -> None:
    env = daemon_env(tmp_path / "d")
    sock = tmp_path / "d" / "omgd.sock"
    proc = subprocess.Popen(command(sock), env=env.env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for_socket(sock, proc)
        assert proc.stderr is not None
        proc.stderr.close()  # the journal went away: every log write now fails
        with Client(sock) as c:
            for _ in range(20):
                assert c.call("ping") == "pong"
            with pytest.raises(NotFound):
                c.call("store.get", {"name": "a" * 32 + "-nope-1"})
            assert c.call("daemon.stats")["methods"]["ping"]["count"] >= 20
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
