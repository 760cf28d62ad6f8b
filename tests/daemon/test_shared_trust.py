"""One user must never reach another through the shared store (the hardening issue).

Real Linux users against a root omgd whose Node mirror is a local HTTP server,
through the real `omg` entry point, as in test_shared_cli.py: a user's `store
add` under a runtime's name resolves for nobody else (root included); profile
names that are the profile directory's own files are refused; a profile
directory that is a symlink is never written through; the store's locks are out
of every user's reach. Skipped when not root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.daemon.conftest import make_archive
from tests.daemon.test_shared_cli import Shared, shared_cli  # noqa: F401 (fixture)
from tests.daemon.test_users import User, users  # noqa: F401 (fixture)

pytestmark = pytest.mark.root

FAKE = b"#!/bin/sh\necho FAKE node from a user\n"


def _fake_node(s: Shared, user: User, version: str) -> str:
    """`omg store add` by `user` of a tarball whose bin/node is not Node; its store path."""
    src = s.work / f"fake-{user.name}-{version}"
    src.mkdir()
    archive = make_archive(src / "node.tar.gz", {"bin/node": FAKE}, top=f"node-v{version}")
    for p in (src, archive):
        os.chown(p, user.uid, user.gid)
    out = s.ok(user, "store", "add", str(archive), "--name", "node", "--version", version,
               "--json")
    return str(out["store_path"]["name"])


def _run_node(s: Shared, user: User | None) -> str:
    name = user.name if user else "root"
    node = s.home / "profiles" / name / "default" / "bin" / "node"
    return subprocess.run([str(node)], capture_output=True, text=True).stdout


def test_a_users_addition_never_resolves_for_another_user_or_root(shared_cli: Shared) -> None:  # noqa: F811
    s = shared_cli
    fake = _fake_node(s, s.a, "22.1.0")
    # B asks for exactly that version: omgd installs the real one from its mirror.
    used = s.ok(s.b, "use", "node@22.1.0", "--json")
    assert used["tools"][0]["store_path"]["name"] != fake
    assert "v22.1.0" in _run_node(s, s.b)
    # `install` never reports the user's addition as the installed runtime.
    installed = s.ok(s.b, "install", "node@22.1.0", "--json")
    assert installed[0]["store_path"] == used["tools"][0]["store_path"]
    # A version upstream never had: B cannot get it, root (working on the store
    # directly) does not pick it for `node@20` although it is the highest 20.x.
    s.ok(s.b, "install", "node@20.10.0")
    high = _fake_node(s, s.a, "20.99.0")
    denied = s.omg(s.b, "use", "node@20.99.0")
    assert denied.returncode == 3 and denied.stderr.startswith("error: node@20.99.0: ")
    root_use = s.ok(None, "use", "node@20", "--json")
    assert root_use["tools"][0]["version"] != "20.99.0"
    assert root_use["tools"][0]["store_path"]["name"] != high
    assert "FAKE" not in _run_node(s, None)
    # `list` shows each user what their `use` can pick.
    listed = [r["version"] for r in s.ok(s.b, "list", "node", "--json")]
    assert "20.99.0" not in listed
    assert "20.99.0" in [r["version"] for r in s.ok(s.a, "list", "node", "--json")]
    # A's own addition is A's: it resolves for A, and it is the same content for all.
    mine = s.ok(s.a, "use", "node@20.99.0", "--json")
    assert mine["tools"][0]["store_path"]["name"] == high and "FAKE" in _run_node(s, s.a)
    info = s.ok(s.b, "store", "info", high, "--json")
    assert [(c["scope"], c["kind"], c["user"]) for c in info["claims"]] == [
        ("user", "add", s.a.name)]


def test_names_of_the_profile_directorys_own_files_are_refused(shared_cli: Shared) -> None:  # noqa: F811
    s = shared_cli
    s.ok(s.a, "use", "node@20.10.0")
    base = s.home / "profiles" / s.a.name
    before = sorted(os.listdir(base))
    for name in ("projects", "default-1-link", "default-1.json", "default.lock",
                 "default.seq", ".hidden"):
        proc = s.omg(s.a, "use", "node@20.10.0", "--profile", name)
        assert proc.returncode == 2, (name, proc.stderr)
        assert proc.stderr.startswith("error: invalid profile name")
        assert "Traceback" not in proc.stderr
    assert sorted(os.listdir(base)) == before
    assert "v20.10.0" in _run_node(s, s.a)


def test_a_symlinked_profile_directory_is_never_written_through(shared_cli: Shared) -> None:  # noqa: F811
    """An older omg let a profile be named `projects`: omgd then wrote project
    generations into the env store path that link pointed at."""
    s = shared_cli
    used = s.ok(s.b, "use", "node@20.10.0", "--json")
    env = s.home / "store" / used["env"]["name"]
    planted = s.home / "profiles" / s.b.name / "projects"
    if planted.is_dir() and not planted.is_symlink():
        shutil.rmtree(planted)
    planted.symlink_to(env)
    try:
        before = sorted(os.listdir(env))
        project = s.work / "proj-planted"
        project.mkdir()
        os.chown(project, s.b.uid, s.b.gid)
        proc = s.omg(s.b, "use", "--local", "node@18", cwd=project)
        assert proc.returncode == 7, proc.stderr
        assert proc.stderr.startswith("error: refusing to write below ")
        assert sorted(os.listdir(env)) == before
        assert s.omg(s.b, "store", "verify", used["env"]["name"]).returncode == 0
    finally:
        planted.unlink()


HOLDER = r"""
import fcntl, os, sys, time
held = []
for dirpath, dirnames, filenames in os.walk(sys.argv[1]):
    for name in filenames:
        try:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            held.append(os.path.join(dirpath, name))
        except OSError:
            os.close(fd)
print(len(held), flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_user_cannot_hold_the_stores_locks(shared_cli: Shared) -> None:  # noqa: F811
    s = shared_cli
    s.ok(s.a, "use", "node@18.19.0")
    s.ok(s.a, "use", "node@20.10.0")
    # B holds a shared flock on every file of the home it can open, for 60 s.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(s.home), "60"], stdout=subprocess.PIPE, text=True,
        user=s.b.uid, group=s.b.gid, extra_groups=[])
    try:
        assert holder.stdout is not None
        int(holder.stdout.readline())  # it holds what it could before anyone goes on
        t0 = time.monotonic()
        s.ok(s.a, "use", "node@18.19.0")  # the profile lock and the gc lock, shared
        s.ok(s.a, "rollback")
        s.ok(None, "gc", "--dry-run")  # root takes the gc lock exclusive
        assert time.monotonic() - t0 < 30  # a lock wait gives up after 60 s
    finally:
        holder.kill()
        holder.wait()
    gens = s.ok(s.a, "generations", "--json")
    assert gens[-1]["current"] is False  # the rollback happened
    # Why: every lock file is under locks/, which only omgd (root) can enter.
    assert (s.home / "locks").stat().st_mode & 0o777 == 0o700
    assert not [e for e in os.listdir(s.home / "profiles" / s.a.name) if e.endswith(".lock")]


def test_a_users_origin_env_never_reaches_another_user(shared_cli: Shared) -> None:  # noqa: F811
    """A published upstream's own tarball first, by the protocol, with an `origin` whose
    `env` sets NODE_OPTIONS: B's later `omg install` verified the same bytes, added the
    trusted claim and kept A's record, so B's profile exported A's NODE_OPTIONS and B's
    node ran A's script."""
    from omg.daemon.client import Client
    from tests.daemon.test_users import as_user

    s = shared_cli
    version = "20.11.1"
    tarball = (s.work.parent / "mirror" / "dist" / f"v{version}"
               / f"node-v{version}-linux-x64.tar.xz")
    out = s.work / "out-origin"

    def publish() -> int:
        with Client(s.daemon.socket) as c:
            fd = os.open(tarball, os.O_RDONLY)
            try:
                got = c.call("store.add", {
                    "name": "node", "version": version, "filename": tarball.name,
                    "origin": {"env": {"NODE_OPTIONS": "--require /tmp/EVIL.js"}}}, fd=fd)
            finally:
                os.close(fd)
        out.write_text(got["record"]["path"])
        return 0

    assert as_user(s.a, publish) == 0
    planted = out.read_text()
    used = s.ok(s.b, "use", f"node@{version}", "--json")
    assert used["tools"][0]["store_path"]["name"] == planted  # the same bytes: one path
    env_sh = s.home / "store" / used["env"]["name"] / "env.sh"
    assert "EVIL" not in env_sh.read_text()
    info = s.ok(s.b, "store", "info", planted, "--json")
    assert "EVIL" not in str(info)
    # A's own `use` of it now gets upstream's record too: the env is the tool's.
    mine = s.ok(s.a, "use", f"node@{version}", "--json")
    assert "EVIL" not in (s.home / "store" / mine["env"]["name"] / "env.sh").read_text()
