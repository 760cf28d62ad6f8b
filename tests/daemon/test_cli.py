"""`omg daemon --foreground` and `omg daemon status` as a user runs them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.daemon.conftest import Daemon, daemon_env, wait_for_socket
from tests.schema import check


@pytest.mark.slow
def test_foreground_serves_and_status_reports(tmp_path: Path) -> None:
    env = daemon_env(tmp_path / "d")
    sock = tmp_path / "d" / "omgd.sock"
    proc = subprocess.Popen([sys.executable, "-m", "omg", "daemon", "--foreground"],
                            env=env.env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_socket(sock, proc)
        out = env.run("daemon", "status", "--json", check=True)
        data = check("daemon-status", out.stdout)
        assert data["server"].startswith("omgd/") and data["socket"] == str(sock)
        text = env.run("daemon", "status", check=True).stdout
        assert "up (" in text and "uid" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    gone = env.run("daemon", "status")
    assert (gone.returncode, gone.stderr) == (10, (
        f"error: cannot reach omgd at {sock}: No such file or directory\n"
        "hint: start it with `omg daemon --foreground` or `systemctl start omgd`\n"))


def test_status_against_a_fixture_daemon(daemon: Daemon) -> None:
    t0 = time.monotonic()
    out = daemon.env.run("daemon", "status", "--socket", str(daemon.socket), check=True)
    assert "gc allowed" in out.stdout and time.monotonic() - t0 < 30
