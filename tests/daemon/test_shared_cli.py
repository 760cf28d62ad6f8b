"""The `omg` command in the shared mode, run by real Linux users (issue 6).

A root-owned OMG_HOME served by a root omgd whose Node mirror is a local
HTTP server. Users run the real `omg` entry point as themselves: changes
(install, use with installs, uninstall, rollback, generation deletion,
project profiles, store add, gc) go to the daemon, which downloads from its
own mirror; reads come from the world-readable files. Skipped when not root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.conftest import Daemon, daemon_env, make_archive
from tests.daemon.test_users import GC_GROUP, User, users  # noqa: F401 (fixture)
from tests.providers.conftest import FAST_NET
from tests.providers.mirrors import MirrorServer, build_node, supported

pytestmark = pytest.mark.root


@dataclass
class Shared:
    daemon: Daemon
    a: User
    b: User
    work: Path  # world-writable scratch: each user's HOME and projects live here

    @property
    def home(self) -> Path:
        return self.daemon.env.home

    def omg(self, user: User | None, *args: str, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
        """`omg ARGS` as `user` (None: root), through the real entry point."""
        name = user.name if user else "root"
        user_home = self.work / name
        user_home.mkdir(exist_ok=True)
        if user is not None:
            os.chown(user_home, user.uid, user.gid)
        env = {"PATH": os.environ["PATH"], "OMG_HOME": str(self.home),
               "OMG_SOCKET": str(self.daemon.socket), "HOME": str(user_home),
               "XDG_CONFIG_HOME": str(user_home / ".config"), "LANG": "C.UTF-8"}
        kwargs: dict[str, Any] = {}
        if user is not None:
            kwargs = {"user": user.uid, "group": user.gid,
                      "extra_groups": os.getgrouplist(user.name, user.gid)}
        return subprocess.run([sys.executable, "-m", "omg", *args], env=env,
                              cwd=cwd or user_home, capture_output=True, text=True,
                              timeout=120, **kwargs)

    def ok(self, user: User | None, *args: str, cwd: Path | None = None) -> Any:
        proc = self.omg(user, *args, cwd=cwd)
        assert proc.returncode == 0, f"omg {' '.join(args)}: {proc.stdout}{proc.stderr}"
        return json.loads(proc.stdout) if "--json" in args else proc.stdout

    def profile_dir(self, user: User) -> Path:
        return self.home / "profiles" / user.name


@pytest.fixture(scope="module")
def shared_cli(users: tuple[User, User]) -> Iterator[Shared]:  # noqa: F811
    yield from serve_shared(users)


def serve_shared(pair: tuple[User, User], extra_config: str = "") -> Iterator[Shared]:
    """A root omgd on a fresh root-owned home with its own Node mirror; `extra_config`
    is more of omgd's config file (TOML)."""
    root = Path(tempfile.mkdtemp(prefix="omgd-cli-"))
    os.chmod(root, 0o755)
    mirror_root = root / "mirror"
    mirror_root.mkdir()
    with MirrorServer(mirror_root) as mirror:
        mirror_env = {**FAST_NET, **build_node(mirror_root, mirror.url)}
        env = daemon_env(root / "d", f'[daemon]\ngc_group = "{GC_GROUP}"\n' + extra_config)
        env.env.update(mirror_env)  # the daemon's mirror; the users' env has none
        os.chmod(root / "d", 0o755)
        daemon = Daemon(env, root / "d" / "omgd.sock")
        daemon.start()
        os.chmod(env.home, 0o755)
        work = root / "work"
        work.mkdir(mode=0o777)
        os.chmod(work, 0o777)
        try:
            yield Shared(daemon, pair[0], pair[1], work)
        finally:
            assert daemon.stop() == 0
            shutil.rmtree(root, ignore_errors=True)


def _generations(s: Shared, user: User, *extra: str) -> list[dict[str, Any]]:
    gens: list[dict[str, Any]] = s.ok(user, "generations", "--json", *extra)
    return gens


def test_install_by_one_user_is_the_store_path_another_uses(shared_cli: Shared) -> None:
    s = shared_cli
    installed = s.ok(s.a, "install", "node@20.10", "--json")
    assert [(r["tool"], r["version"], r["created"]) for r in installed] == [
        ("node", "20.10.0", True)]
    store_path = Path(installed[0]["store_path"]["path"])
    assert store_path.parent == s.home / "store" and store_path.stat().st_uid == 0

    used = s.ok(s.b, "use", "node@20.10.0", "--json")
    assert [(t["tool"], t["store_path"]["name"]) for t in used["tools"]] == [
        ("node", store_path.name)]
    link = s.profile_dir(s.b) / "default"
    assert link.is_symlink() and link.lstat().st_uid == 0  # written by the daemon alone
    assert (link / "bin" / "node").stat().st_ino == (store_path / "bin" / "node").stat().st_ino
    current = s.ok(s.b, "current", "--json")  # read straight from the files
    assert current["generation"] == used["generation"]
    assert [t["store_path"]["name"] for t in current["tools"]] == [store_path.name]
    assert s.ok(s.b, "which", "node").strip() == str(store_path / "bin" / "node")


def test_use_installs_through_the_daemon_then_rollback_and_delete(shared_cli: Shared) -> None:
    s = shared_cli
    first = s.ok(s.a, "use", "node@20.10", "--json")
    second = s.ok(s.a, "use", "node@18", "--json")  # not installed: omgd fetches it
    assert second["tools"][0]["version"] == "18.19.0"
    assert second["generation"] == first["generation"] + 1
    node = s.profile_dir(s.a) / "default" / "bin" / "node"
    assert "v18.19.0" in subprocess.run([str(node)], capture_output=True, text=True).stdout

    back = s.ok(s.a, "rollback", "--json")
    assert (back["previous"], back["generation"]) == (second["generation"],
                                                      first["generation"])
    assert "v20.10.0" in subprocess.run([str(node)], capture_output=True, text=True).stdout

    gens = _generations(s, s.a)
    assert [g["current"] for g in gens if g["number"] == first["generation"]] == [True]
    s.ok(s.a, "generations", "delete", str(second["generation"]), "--json")
    assert second["generation"] not in [g["number"] for g in _generations(s, s.a)]

    removed = s.ok(s.a, "uninstall", "node", "--json")
    assert removed["removed"] == ["node@20.10.0"]


def test_a_user_cannot_touch_another_users_profile_or_collect(shared_cli: Shared) -> None:
    s = shared_cli
    s.ok(s.b, "use", "node@20.10.0", "--json")
    before = sorted(os.listdir(s.profile_dir(s.b)))
    # B cannot gc (not root, not in the gc group); A is in the group.
    denied = s.omg(s.b, "gc", "--dry-run")
    assert denied.returncode == 9 and denied.stderr.startswith("error: ")
    assert "Traceback" not in denied.stderr
    assert s.ok(s.a, "gc", "--dry-run", "--json")["dry_run"] is True
    # An unknown version: one error line (and its hint), exit 3, nothing changed.
    unknown = s.omg(s.b, "use", "node@99", "--json")
    assert unknown.returncode == 3
    assert unknown.stderr.startswith("error: node@99: no such version")
    assert "Traceback" not in unknown.stderr
    assert sorted(os.listdir(s.profile_dir(s.b))) == before
    # B cannot write into the store or the profiles directly either.
    proc = s.omg(s.b, "doctor", "--repair")
    assert proc.returncode == 9 and "owner" in proc.stderr


def test_project_profile_through_the_daemon(shared_cli: Shared) -> None:
    s = shared_cli
    project = s.work / "proj-b"
    project.mkdir()
    os.chown(project, s.b.uid, s.b.gid)
    result = s.ok(s.b, "use", "--local", "node@18", "--json", cwd=project)
    # The client writes the user's version file; the daemon the project profile.
    assert (project / ".node-version").read_text() == "18\n"
    assert (project / ".node-version").stat().st_uid == s.b.uid
    name = str(project).replace("/", "%")
    link = s.profile_dir(s.b) / "projects" / name
    assert link.is_symlink() and link.lstat().st_uid == 0
    assert (s.home / "gcroots" / s.b.name / "projects" / name).is_symlink()
    assert result["tools"][0]["version"] == "18.19.0"
    # A fresh clone's pins: `omg sync` builds the same profile through the daemon.
    again = s.ok(s.b, "sync", "--json", cwd=project)
    assert again["env"] == result["env"]


def test_store_add_goes_through_the_daemon(shared_cli: Shared) -> None:
    s = shared_cli
    src = s.work / "src-a"
    src.mkdir()
    archive = make_archive(src / "tool-1.0.tar.gz", {"bin/tool": b"#!/bin/sh\necho hi\n"})
    os.chmod(archive, 0o644)
    os.chmod(src, 0o755)
    out = s.ok(s.a, "store", "add", str(archive), "--name", "tool", "--version", "1.0",
               "--json")
    path = Path(out["store_path"]["path"])
    assert out["created"] is True and path.stat().st_uid == 0
    assert s.ok(s.b, "store", "info", path.name, "--json")["name"] == "tool"
    assert path.name in s.ok(s.b, "store", "ls")



def test_remote_listing_and_outdated_come_from_the_daemons_mirror(shared_cli: Shared) -> None:
    s = shared_cli
    s.ok(s.a, "install", "node@20.10", "--json")
    # The user's own environment names no mirror: these answers are the daemon's.
    listed = s.ok(s.b, "list", "node", "--remote", "--json")
    versions = [r["version"] for r in listed]
    assert versions[:2] == ["22.2.0", "22.1.0"] and "18.19.0" in versions
    assert [r["installed"] for r in listed if r["version"] == "20.10.0"] == [True]
    rows = s.ok(s.b, "outdated", "node", "--json")
    latest = "22.2.0" if supported("node", "22.2.0") else "20.10.0"  # none newer: itself
    assert {"kind": "runtime", "tool": "node", "installed": "20.10.0",
            "latest_patch": "20.12.0", "latest": latest, "eol": True,
            "eol_from": "2026-04-30", "lts": "Iron", "security": True} in rows


def test_zeros_are_one_error_line_and_changes_are_audited(shared_cli: Shared) -> None:
    s = shared_cli
    zeros = s.work / "zeros.tar.gz"
    with open(zeros, "wb") as f:
        f.truncate(4 << 30)  # sparse: a file of zeros that takes no space
    os.chmod(zeros, 0o644)
    proc = s.omg(s.a, "store", "add", str(zeros), "--name", "z", "--version", "1")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == "error: store.add: zeros.tar.gz: not a supported archive"
    assert all(line.startswith("hint: ") for line in lines[1:])
    assert list((s.home / "daemon" / "incoming").iterdir()) == []

    used = s.ok(s.b, "use", "node@20.10.0", "--json")
    log = [json.loads(line) for line in
           (s.home / "daemon" / "audit.log").read_text().splitlines()]
    refused = [r for r in log if r["user"] == s.a.name and r["method"] == "store.add"][-1]
    assert refused["result"] == "error" and refused["error"]["type"] == "UsageError"
    mine = [r for r in log if r["user"] == s.b.name][-1]
    assert (mine["method"], mine["uid"], mine["result"]) == ("profile.use", s.b.uid, "ok")
    assert mine["params"]["specs"] == ["node@20.10.0"]
    assert mine["summary"]["generation"] == used["generation"]


def test_exec_env_and_import_through_the_daemon(shared_cli: Shared) -> None:
    """The daily-shell commands by a real user of the shared store: `omg x` installs
    through omgd and runs with the user's own pid rooted (`temproots/<user>/`, written by
    omgd), `omg env` reads the user's profile, `omg import` keeps what it added."""
    s = shared_cli
    out = s.ok(s.a, "x", "node@20.10", "--", "sh", "-c", 'echo "$PATH" | cut -d: -f1; node')
    first, rest = out.split("\n", 1)
    assert first.startswith(str(s.home / "store")) and first.endswith("-profile-node-20.10.0/bin")
    assert "20.10.0" in rest  # the mirror's node ran
    roots = s.home / "temproots" / s.a.name
    assert roots.is_dir() and roots.stat().st_uid == 0  # omgd's, not the user's
    s.ok(s.b, "use", "node@20.10")
    env = s.ok(s.b, "env", "--json")
    assert env["path"] == str(s.profile_dir(s.b) / "default" / "bin")
    # An nvm-installed tree in the user's home, imported through the daemon.
    nvm = s.work / s.b.name / ".nvm" / "versions" / "node" / "v0.0.1" / "bin"
    nvm.mkdir(parents=True)
    (nvm / "node").write_text("#!/bin/sh\necho imported\n")
    (nvm / "node").chmod(0o755)
    for d in (nvm.parent.parent.parent.parent, *nvm.parents):
        if str(d).startswith(str(s.work / s.b.name)):
            os.chown(d, s.b.uid, s.b.gid)
    assert s.ok(s.b, "import", "nvm").startswith("imported node 0.0.1 from nvm")
    kept = s.home / "gcroots" / s.b.name / "installs" / "node@0.0.1"
    assert kept.is_symlink() and kept.lstat().st_uid == 0
    dead = [p["name"] for p in s.ok(None, "gc", "--dry-run", "--json")["dead"]]
    assert os.path.basename(os.readlink(kept)) not in dead
