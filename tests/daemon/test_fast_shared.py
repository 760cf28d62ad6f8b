"""`omg use` and `omg rollback` (the fast path) in the shared mode, by a real user.

The user cannot write the root-owned OMG_HOME, so omg/fast.py sends `use` and
`rollback` to omgd instead of writing profiles/<user>/ itself, and prints what
the single-user path prints. Each command runs as a real unprivileged Linux
user (setuid in a forked child) in a fresh `python -m omg` process against a
real root omgd; the daemon and users come from test_users.py (skipped with
the reason when not root).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.conftest import Daemon, remote
from tests.daemon.test_users import User, as_user, shared, users  # noqa: F401 (fixtures)

pytestmark = pytest.mark.root


class Shared:
    """The shared daemon's home, a world-writable scratch dir, two store paths."""

    def __init__(self, daemon: Daemon, user: User, work: Path) -> None:
        self.daemon, self.user, self.work = daemon, user, work
        self.home = daemon.env.home
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "OMG_HOME": str(self.home), "OMG_SOCKET": str(daemon.socket),
                    "HOME": str(work), "XDG_CONFIG_HOME": str(work / "cfg"),
                    "XDG_DATA_HOME": str(work / "data"), "PYTHONDONTWRITEBYTECODE": "1"}
        self.paths: dict[str, str] = {}

    def omg(self, *args: str) -> tuple[int, str, str]:
        """`omg ARGS` as the user, in its own process: (exit code, stdout, stderr)."""
        out = self.work / "out" / f"{os.urandom(6).hex()}.json"

        def go() -> int:
            proc = subprocess.run([sys.executable, "-m", "omg", *args], env=self.env,
                                  capture_output=True, text=True, cwd=self.work)
            out.write_text(json.dumps([proc.returncode, proc.stdout, proc.stderr]))
            return 0

        assert as_user(self.user, go, self.env) == 0
        code, stdout, stderr = json.loads(out.read_text())
        return int(code), str(stdout), str(stderr)

    @property
    def profile(self) -> Path:
        return self.home / "profiles" / self.user.name


def _tree(root: Path, version: str) -> Path:
    src = root / f"tool-{version}"
    (src / "bin").mkdir(parents=True)
    (src / "bin" / "tool").write_text(f"#!/bin/sh\necho tool {version}\n")
    os.chmod(src / "bin" / "tool", 0o755)
    return src


@pytest.fixture(scope="module")
def world(shared: Daemon, users: tuple[User, User]) -> Iterator[Shared]:  # noqa: F811
    work = Path(tempfile.mkdtemp(prefix="omgd-fast-"))
    os.chmod(work, 0o755)
    (work / "out").mkdir()
    os.chmod(work / "out", 0o777)
    w = Shared(shared, users[1], work)
    store = remote(shared.socket)
    try:  # root adds the tools through the daemon, which hashes them
        for version in ("1.0", "2.0"):
            w.paths[version] = store.store_add(_tree(work / "src", version), "tool",
                                               version).record.path
    finally:
        store.close()
    yield w
    shutil.rmtree(work, ignore_errors=True)


def test_use_and_rollback_go_through_omgd(world: Shared) -> None:
    assert world.omg("use", "tool@1.0") == (0, "default: generation 1: tool 1.0\n", "")
    assert world.omg("use", "tool@2.0") == (0, "default: generation 2: tool 2.0\n", "")
    assert world.omg("use", "tool@2.0") == (
        0, "default: tool 2.0 already current (generation 2)\n", "")
    assert world.omg("rollback") == (
        0, "default: switched from generation 2 to 1 (tool 1.0)\n", "")
    assert world.omg("rollback", "--to", "2") == (
        0, "default: switched from generation 1 to 2 (tool 2.0)\n", "")
    # The daemon wrote the generations (root-owned), as the single-user path would have.
    link = world.profile / "default-1-link"
    assert link.lstat().st_uid == 0 and world.profile.stat().st_uid == 0
    assert os.readlink(world.profile / "default") == "default-2-link"
    record = json.loads((world.profile / "default-1.json").read_text())
    assert record["command"] == "omg use tool@1.0"
    assert (world.profile / "default" / "bin" / "tool").read_text() == "#!/bin/sh\necho tool 2.0\n"
    # Reading needs no daemon: `current` reads the world-readable profile.
    code, out, _ = world.omg("current")
    assert code == 0 and out == (f"default: generation 2\n  tool 2.0  {world.paths['2.0']}\n")


def test_other_profiles_and_errors_through_omgd(world: Shared) -> None:
    assert world.omg("use", "tool@1", "--profile", "work") == (
        0, "default: generation 1: tool 1.0\n".replace("default", "work"), "")
    code, out, err = world.omg("rollback", "--profile", "work")
    assert (code, out) == (3, "") and err.startswith("error: ") and "before 1" in err
    code, out, err = world.omg("use", "nosuch@1")
    assert (code, out) == (3, "") and err.startswith("error: ") and "nosuch" in err
    code, out, err = world.omg("use", "tool@1", "--profile", "../x")
    assert (code, out) == (2, "") and err.startswith("error: invalid profile name")
    assert not any(".tmp-" in e for e in os.listdir(world.profile))


def test_without_a_daemon_socket_it_is_one_error_line(world: Shared) -> None:
    """No daemon socket: not the shared mode, so the local path reports the denied write."""
    env = dict(world.env)
    world.env["OMG_SOCKET"] = str(world.work / "absent.sock")
    try:
        before = sorted(os.listdir(world.profile))
        code, out, err = world.omg("use", "tool@2.0")
        assert code != 0 and out == "" and err.startswith("error: ")
        assert "Traceback" not in err and sorted(os.listdir(world.profile)) == before
    finally:
        world.env = env
