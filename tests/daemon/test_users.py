"""Real Linux users against one root-owned shared store (invariant 7).

Created with useradd by the fixture; skipped with the reason when not root.
Each client runs in a forked child that drops to the user with setuid, so it
is that user the daemon sees through SO_PEERCRED.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.daemon.conftest import Daemon, daemon_env, make_archive
from tests.support import sysusers

pytestmark = pytest.mark.root

USER_A, USER_B, GC_GROUP = "omgd-ta", "omgd-tb", "omgd-tgc"


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int


def _ensure_users() -> tuple[User, User]:
    sysusers.ensure_group(GC_GROUP)
    a = sysusers.ensure_user(USER_A, groups=(GC_GROUP,))
    b = sysusers.ensure_user(USER_B)
    return User(a.pw_name, a.pw_uid, a.pw_gid), User(b.pw_name, b.pw_uid, b.pw_gid)


@pytest.fixture(scope="module")
def users() -> tuple[User, User]:
    if os.geteuid() != 0:
        pytest.skip("real-user tests need root (useradd, setuid)")
    if not shutil.which("useradd"):
        pytest.skip("useradd is not installed")
    return _ensure_users()


@pytest.fixture(scope="module")
def shared(users: tuple[User, User]) -> Iterator[Daemon]:
    """A root-owned OMG_HOME that every user can traverse, served by a root omgd."""
    root = Path(tempfile.mkdtemp(prefix="omgd-shared-"))
    os.chmod(root, 0o755)
    env = daemon_env(root / "d", f'[daemon]\ngc_group = "{GC_GROUP}"\nframe_timeout = 2.0\n')
    os.chmod(root / "d", 0o755)
    d = Daemon(env, root / "d" / "omgd.sock")
    d.start()
    os.chmod(env.home, 0o755)
    yield d
    assert d.stop() == 0
    shutil.rmtree(root, ignore_errors=True)


def as_user(user: User, fn: Callable[[], int], env: dict[str, str] | None = None) -> int:
    """Run `fn` in a forked child as `user`; its return value is the exit status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 99
        try:
            os.setgroups(os.getgrouplist(user.name, user.gid))
            os.setgid(user.gid)
            os.setuid(user.uid)
            os.environ.update(env or {})
            code = fn()
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _call(d: Daemon, method: str, params: dict[str, object] | None = None) -> int:
    from omg.daemon.client import Client
    from store.errors import OmgError

    try:
        with Client(d.socket) as c:
            c.call(method, params or {})
    except OmgError as exc:
        return exc.exit_code
    return 0


def test_peer_is_the_real_user(shared: Daemon, users: tuple[User, User]) -> None:
    from omg.daemon.client import Client

    a, b = users
    for user in (a, b):
        def check(user: User = user) -> int:
            with Client(shared.socket) as c:
                me = c.call("whoami")
            return 0 if (me["uid"], me["user"]) == (user.uid, user.name) else 1
        assert as_user(user, check) == 0


def test_only_root_and_the_gc_group_may_collect(shared: Daemon,
                                                 users: tuple[User, User]) -> None:
    a, b = users
    assert as_user(b, lambda: _call(shared, "gc", {"dry_run": True})) == 9  # PermissionDenied
    assert as_user(a, lambda: _call(shared, "gc", {"dry_run": True})) == 0
    assert _call(shared, "gc", {"dry_run": True}) == 0


def test_users_share_store_paths_and_cannot_write_the_store(
        shared: Daemon, users: tuple[User, User]) -> None:
    a, b = users
    work = Path(tempfile.mkdtemp(prefix="omgd-arch-"))
    os.chmod(work, 0o755)
    archive = make_archive(work / "node-1.0.tar.gz", {"bin/node": b"#!/bin/sh\n"})
    os.chmod(archive, 0o644)
    home = shared.env.home
    user_env = {"OMG_HOME": str(home), "OMG_SOCKET": str(shared.socket), "HOME": str(work),
                "XDG_CONFIG_HOME": str(work / "cfg")}
    out = work / "paths"
    out.mkdir(mode=0o777)
    os.chmod(out, 0o777)

    def add_as(user: User) -> Callable[[], int]:
        def go() -> int:
            from omg import config
            from omg.backends import for_settings
            from omg.backends.daemon import DaemonBackend

            store = for_settings(config.load())
            if not isinstance(store, DaemonBackend):
                return 2
            result = store.store_add(archive, "node", "1.0")
            (out / user.name).write_text(f"{result.record.path} {int(result.created)}")
            return 0
        return go

    assert as_user(a, add_as(a), user_env) == 0
    assert as_user(b, add_as(b), user_env) == 0
    path_a, created_a = (out / a.name).read_text().split()
    path_b, created_b = (out / b.name).read_text().split()
    assert path_a == path_b and (created_a, created_b) == ("1", "0")
    store_path = home / "store" / path_a
    assert store_path.stat().st_uid == 0

    def try_write() -> int:
        failures = 0
        for attempt in (lambda: (home / "store" / "evil").mkdir(),
                        lambda: (store_path / "bin" / "node").open("w"),
                        lambda: (store_path / "new").write_text("x"),
                        lambda: (home / "db" / "x").write_text("x")):
            try:
                attempt()
            except PermissionError as exc:
                failures += exc.errno == errno.EACCES
        return 0 if failures == 4 else 1

    assert as_user(b, try_write) == 0
    shutil.rmtree(work, ignore_errors=True)


def test_users_cannot_write_or_truncate_the_audit_log(shared: Daemon,
                                                      users: tuple[User, User]) -> None:
    a, _ = users
    assert as_user(a, lambda: _call(shared, "gc", {"dry_run": True})) == 0  # audited
    log = shared.env.home / "daemon" / "audit.log"
    before = log.read_bytes()
    record = json.loads(before.splitlines()[-1])
    assert (record["method"], record["uid"], record["user"]) == ("gc", a.uid, a.name)
    assert log.stat().st_uid == 0 and stat.S_IMODE(log.stat().st_mode) == 0o640

    def tamper() -> int:
        refused = 0
        for attempt in (lambda: os.open(log, os.O_WRONLY | os.O_APPEND),
                        lambda: os.open(log, os.O_RDWR),
                        lambda: os.truncate(log, 0), lambda: log.unlink(),
                        lambda: log.rename(log.with_name("gone")),
                        lambda: (log.parent / "audit.log.new").write_text("{}"),
                        lambda: os.chmod(log, 0o666), lambda: log.read_bytes()):
            try:
                attempt()
            except PermissionError:
                refused += 1
        return 0 if refused == 8 else 1

    assert as_user(a, tamper) == 0
    assert log.read_bytes() == before
