"""The CLI's edges, each through the real `omg` process: unknown tools, empty searches,
permission errors, Ctrl-C, --version, group commands without a subcommand and a
stdout whose reader has gone.
"""

from __future__ import annotations

import functools
import http.server
import importlib.metadata
import os
import pwd
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omg.cli.output import BROKEN_PIPE
from tests.conftest import OmgEnv, sigint_as_from_a_terminal
from tests.providers.conftest import FAST_NET
from tests.providers.mirrors import build_node


def omg(env: dict[str, str], *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "omg", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=sigint_as_from_a_terminal, **kwargs)


def interrupt(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """SIGINT, as Ctrl-C sends it; (exit code, stderr)."""
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def wait_until(ready: Any, what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = ready()
        if got:
            return got
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_list_of_an_unknown_tool_is_not_found(omg_env: OmgEnv) -> None:
    proc = omg_env.run("list", "unknowntool")
    assert proc.returncode == 3
    assert proc.stderr.splitlines()[0] == "error: unknown tool 'unknowntool'"
    assert "node" in proc.stderr and "java" in proc.stderr  # the ones omg knows
    assert omg_env.run("list", "nodejs").returncode == 0  # an alias is known


@pytest.mark.parametrize("args", [("search", ""), ("search", " ", "--json"),
                                  ("search", "", "--config", "/nonexistent/pacman.conf")])
def test_search_needs_a_term(omg_env: OmgEnv, args: tuple[str, ...]) -> None:
    """The fast path (first two) and the typer command (an option it does not parse)."""
    proc = omg_env.run(*args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[0] == "error: search needs a term"


# Permissions ---------------------------------------------------------------------------


@pytest.fixture
def nobody() -> pwd.struct_passwd:
    if os.geteuid() != 0:
        pytest.skip("needs root to run omg as another user")
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' on this machine")


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory every user can traverse (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="omg-cli-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def user_env(root: Path) -> dict[str, str]:
    """An environment for another user; OMG_SOCKET names no socket: never the shared mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMG_", "XDG_"))}
    env.update({"OMG_HOME": str(root / "home"), "HOME": str(root), "OMG_SOCKET":
                str(root / "no.sock"), "XDG_CONFIG_HOME": str(root / "config"),
                "XDG_DATA_HOME": str(root / "data"), "XDG_CACHE_HOME": str(root / "cache")})
    return env


def as_user(user: pwd.struct_passwd, env: dict[str, str], *args: str,
            **kwargs: Any) -> subprocess.Popen[str]:
    return omg(env, *args, user=user.pw_uid, group=user.pw_gid, extra_groups=[], cwd="/",
               **kwargs)


@pytest.mark.root
def test_a_read_only_home_is_permission_denied(nobody: pwd.struct_passwd,
                                               open_dir: Path) -> None:
    env = user_env(open_dir)
    home = Path(env["OMG_HOME"])
    home.mkdir(mode=0o555)
    os.chmod(home, 0o555)
    src = open_dir / "src"
    src.mkdir()
    (src / "f").write_text("x")
    proc = as_user(nobody, env, "store", "add", "-n", "t", "-v", "1", str(src))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 9, err
    assert err.startswith("error: Permission denied (") and len(err.splitlines()) == 1
    assert os.listdir(home) == []


def test_other_os_errors_keep_exit_1(omg_env: OmgEnv, tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    proc = omg_env.run("store", "add", "-n", "t", "-v", "1", str(tmp_path),
                       extra_env={"OMG_HOME": str(not_a_dir)})
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: Not a directory (")


# Ctrl-C --------------------------------------------------------------------------------


def test_ctrl_c_in_a_typer_command(omg_env: OmgEnv, tmp_path: Path) -> None:
    """`store add` waiting for the gc lock, which the test holds as a collector would."""
    import fcntl

    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    locks = omg_env.home / "locks"
    locks.mkdir(parents=True, mode=0o700)
    fd = os.open(locks / "gc.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        proc = omg(omg_env.env, "store", "add", "-n", "t", "-v", "1", str(src))
        time.sleep(1.0)  # long enough to be in its lock loop (it waits up to 60 s)
        assert proc.poll() is None, proc.communicate()
        code, err = interrupt(proc)
    finally:
        os.close(fd)
    assert (code, err) == (130, "error: interrupted\n")


class _StallingMirror(http.server.SimpleHTTPRequestHandler):
    """Serves the mirror's files, but stalls every tarball after its first bytes."""

    stalled: list[str]
    release: threading.Event

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if not self.path.endswith(".tar.xz"):
            super().do_GET()
            return
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        self.wfile.write(b"\0" * 10)
        self.wfile.flush()
        self.stalled.append(self.path)
        self.release.wait(60)


@pytest.fixture
def stalling_mirror(tmp_path: Path) -> Iterator[tuple[dict[str, str], list[str]]]:
    root = tmp_path / "mirror"
    release, stalled = threading.Event(), list[str]()
    handler = type("Handler", (_StallingMirror,), {"stalled": stalled, "release": release})

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    httpd = Server(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    env = build_node(root, f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield env, stalled
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_ctrl_c_during_parallel_downloads(omg_env: OmgEnv, stalling_mirror: tuple[
        dict[str, str], list[str]]) -> None:
    """Two stalled downloads (timeout x retries would be minutes): Ctrl-C ends it now."""
    mirror, stalled = stalling_mirror
    env = {**omg_env.env, **mirror, **FAST_NET, "OMG_NET_TIMEOUT": "60"}
    proc = omg(env, "install", "node@20", "node@22")
    wait_until(lambda: len(stalled) == 2 or proc.poll() is not None, "both downloads")
    assert proc.poll() is None, proc.communicate()
    started = time.monotonic()
    code, err = interrupt(proc)
    assert (code, err) == (130, "error: interrupted\n")
    assert time.monotonic() - started < 10
    assert not any(omg_env.layout.store.glob("*-node-*"))


@pytest.mark.root
def test_ctrl_c_in_the_search_fast_path(nobody: pwd.struct_passwd, open_dir: Path) -> None:
    """The shared mode: the fast path waits on an omgd that never answers."""
    env = user_env(open_dir)
    Path(env["OMG_HOME"]).mkdir()  # root's: the shared mode for nobody
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(env["OMG_SOCKET"])
    os.chmod(env["OMG_SOCKET"], 0o666)
    listener.listen(4)
    listener.settimeout(20)
    try:
        proc = as_user(nobody, env, "search", "python")
        conn, _ = listener.accept()  # the fast path is asking the "daemon" now
        try:
            code, err = interrupt(proc)
        finally:
            conn.close()
    finally:
        listener.close()
    assert (code, err) == (130, "error: interrupted\n")


# --version, help, closed pipes -----------------------------------------------------------


def test_version(omg_env: OmgEnv) -> None:
    proc = omg_env.run("--version")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0, f"omg {importlib.metadata.version('omg')}\n", "")
    assert "--version" in omg_env.run("--help").stdout


@pytest.mark.parametrize("args", [(), ("store",), ("aur",), ("daemon",), ("cache",)])
def test_a_group_without_its_command_prints_help_and_exits_2(omg_env: OmgEnv,
                                                             args: tuple[str, ...]) -> None:
    """Like click's missing command (and `omg daemon`), without an empty `error:` line."""
    proc = omg_env.run(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Usage: omg" in proc.stdout
    assert proc.stderr == ""


def closed_pipe_run(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run omg with a stdout whose reader has already gone (`omg ... | head -0`)."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "omg", *args], env=env, stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    return proc.returncode, proc.stderr


def test_a_closed_stdout_ends_quietly(omg_env: OmgEnv, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    omg_env.run("store", "add", "-n", "t", "-v", "1", str(src), check=True)
    for args in (("current",), ("store", "ls"), ("store", "ls", "--json"), ("--version",),
                 ("--help",), ("store", "--help"), ("store",)):
        assert closed_pipe_run(omg_env.env, *args) == (BROKEN_PIPE, ""), args
