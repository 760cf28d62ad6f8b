"""A stale omgd socket in the shared mode: every command says the same one line, exit 10.

The shared mode as a user meets it (a root-owned OMG_HOME the user cannot write,
omgd's socket path present), but nobody listens on the socket: a daemon that
died and left its file, or a plain file in its place. Each command runs in its
own `python -m omg` process as a real unprivileged user. The fast paths (`use`,
`rollback`) and the typer commands (`generations list`, `install`, `store add`)
must print the same error and hint and exit 10 (`DaemonUnavailable`), touching
nothing; `search` must search locally without a word, as without a daemon.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from omg.daemon.client import HINT
from tests.daemon.test_users import User, users  # noqa: F401 (fixture)

pytestmark = [pytest.mark.root, pytest.mark.slow]

COMMANDS = [("use", "node@20"), ("rollback",), ("generations", "list"),
            ("install", "node@20"), ("store", "add", "{work}/tree", "--name", "tool",
                                     "--version", "1")]


def _stale(path: Path, kind: str) -> None:
    if kind == "socket":  # bound, then closed without listening: a dead daemon's file
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(path))
        s.close()
    else:
        path.write_text("")
    os.chmod(path, 0o666)


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="omgd-stale-"))
    os.chmod(root, 0o755)
    (root / "home").mkdir(mode=0o755)  # root's: the user cannot write it
    (root / "run").mkdir(mode=0o755)
    work = root / "work"
    (work / "tree" / "bin").mkdir(parents=True)
    (work / "tree" / "bin" / "tool").write_text("#!/bin/sh\n")
    for d in (work, work / "tree", work / "tree" / "bin"):
        os.chmod(d, 0o777)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def omg(root: Path, user: User, socket_path: Path, *args: str) -> tuple[int, str, str]:
    env = {"PATH": os.environ["PATH"], "OMG_HOME": str(root / "home"),
           "OMG_SOCKET": str(socket_path), "HOME": str(root / "work"),
           "XDG_CONFIG_HOME": str(root / "work" / "cfg"),
           "XDG_CACHE_HOME": str(root / "work" / "cache"), "LANG": "C.UTF-8"}
    proc = subprocess.run([sys.executable, "-m", "omg",
                           *(a.format(work=root / "work") for a in args)],
                          env=env, cwd=root / "work", capture_output=True, text=True,
                          timeout=120, user=user.uid, group=user.gid, extra_groups=[])
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("kind", ["socket", "file"])
def test_every_command_says_the_same_line_and_exits_10(
        root: Path, users: tuple[User, User], kind: str) -> None:  # noqa: F811
    user = users[1]
    stale = root / "run" / f"omgd-{kind}.sock"
    _stale(stale, kind)
    before = sorted(os.listdir(root / "home"))
    expected = (10, "", f"error: cannot reach omgd at {stale}: Connection refused\n"
                        f"hint: {HINT}\n")
    for args in COMMANDS:
        assert omg(root, user, stale, *args) == expected, args
    assert sorted(os.listdir(root / "home")) == before


def test_search_falls_back_to_a_local_search_without_a_word(
        root: Path, users: tuple[User, User]) -> None:  # noqa: F811
    user = users[1]
    stale = root / "run" / "omgd-search.sock"
    _stale(stale, "socket")
    with_stale = omg(root, user, stale, "search", "python", "--repo")
    without = omg(root, user, root / "run" / "absent.sock", "search", "python", "--repo")
    assert with_stale == without and "omgd" not in with_stale[2]
