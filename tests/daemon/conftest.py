"""A real omgd subprocess on a temporary OMG_HOME and socket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from omg.backends.daemon import DaemonBackend
from omg.daemon.client import Client
from store.errors import DaemonUnavailable
from tests.conftest import OmgEnv, make_env

# Short limits so misbehaving-client tests finish quickly.
CONFIG = """
[daemon]
handshake_timeout = 2.0
frame_timeout = 1.0
idle_timeout = 30.0
send_timeout = 2.0
"""


@dataclass
class Daemon:
    env: OmgEnv
    socket: Path
    proc: subprocess.Popen[str] | None = None

    @property
    def log(self) -> Path:
        """omgd's stderr: a file, since a pipe nobody reads would stall its logging."""
        return self.env.root / "omgd.log"

    def log_lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def start(self, wait: bool = True) -> subprocess.Popen[str]:
        self.proc = spawn(self.env, self.socket, self.log)
        if wait:
            wait_for_socket(self.socket, self.proc, self.log)
        return self.proc

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(10)


def remote(socket: Path, home: Path | None = None) -> DaemonBackend:
    """A `DaemonBackend` on `socket` (what `omg` uses in the shared mode), as this process's
    user; `home` is where it reads the files (reads need no daemon)."""
    from omg import config, locate
    from omg.backends.daemon import DaemonBackend

    where = str(home or socket.parent / "omg")
    return DaemonBackend(str(socket), where, locate.current_user(),
                         lambda: config.load({"OMG_HOME": where}))


def daemon_env(root: Path, config: str = CONFIG) -> OmgEnv:
    env = make_env(root)
    cfg = root / "omg.toml"
    cfg.write_text(config)
    env.env["OMG_CONFIG"] = str(cfg)
    env.env["OMG_SOCKET"] = str(root / "omgd.sock")
    return env


def command(socket: Path) -> list[str]:
    return [sys.executable, "-m", "omg.daemon", "--socket", str(socket)]


def spawn(env: OmgEnv, socket: Path, log: Path) -> subprocess.Popen[str]:
    with open(log, "a") as err:
        return subprocess.Popen(command(socket), env=env.env, stdout=subprocess.DEVNULL,
                                stderr=err, text=True)


def wait_for_socket(path: Path, proc: subprocess.Popen[str], log: Path | None = None,
                    timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            try:  # a SIGKILLed daemon leaves its socket file: wait for a live answer
                with Client(path, connect_timeout=1) as c:
                    c.call("ping", timeout=5)
                return
            except DaemonUnavailable:
                pass
        if proc.poll() is not None:
            err = log.read_text() if log else proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"omgd exited {proc.returncode}: {err}")
        time.sleep(0.02)
    raise AssertionError("omgd did not create its socket")


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    """A daemon of one's own, for tests that kill or stop it."""
    d = Daemon(daemon_env(tmp_path / "d"), tmp_path / "d" / "omgd.sock")
    d.start()
    yield d
    if d.proc is not None and d.proc.poll() is None:
        d.proc.kill()
        d.proc.wait()


@pytest.fixture(scope="module")
def shared_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon for a whole module of tests that leave it serving."""
    root = tmp_path_factory.mktemp("omgd")
    d = Daemon(daemon_env(root / "d"), root / "d" / "omgd.sock")
    d.start()
    yield d
    assert d.stop() == 0


def make_archive(dest: Path, files: dict[str, bytes], top: str = "pkg-1.0") -> Path:
    src = dest.parent / (dest.name + ".src")
    for rel, data in files.items():
        path = src / top / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if rel.startswith("bin/"):
            os.chmod(path, 0o755)
    mode = "w:gz" if dest.name.endswith(".gz") else "w"
    with tarfile.open(dest, mode) as tar:
        tar.add(src / top, arcname=top)
    return dest


def big_archive(dest: Path, mib: int = 48) -> Path:
    """An uncompressed tar large enough that its ingest takes a noticeable time."""
    block = os.urandom(1 << 20)
    files = {f"data/f{i:03d}": block[i:] + block[:i] for i in range(mib)}
    return make_archive(dest, files)
