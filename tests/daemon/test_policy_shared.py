"""`[policy]` in the shared mode: omgd's config decides, whatever the user's says.

A root omgd (its config: end-of-life versions denied, outdated and unsigned ones
allowed) serves a root-owned OMG_HOME; a real Linux user whose own config says the
opposite runs the real `omg`. The check runs inside the use case on omgd's side, so
the user's file changes nothing either way. Skipped when not root.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.conftest import Daemon, daemon_env
from tests.daemon.test_shared_cli import Shared
from tests.daemon.test_users import GC_GROUP, User, users  # noqa: F401 (fixture)
from tests.providers.conftest import FAST_NET
from tests.providers.mirrors import MirrorServer, build_node, supported

pytestmark = pytest.mark.root

DAEMON_POLICY = '[policy]\neol = "deny"\noutdated = "allow"\nunsigned = "allow"\n'
USER_POLICY = '[policy]\neol = "allow"\noutdated = "deny"\nunsigned = "deny"\n'


@pytest.fixture(scope="module")
def shared(users: tuple[User, User]) -> Iterator[Shared]:  # noqa: F811
    root = Path(tempfile.mkdtemp(prefix="omgd-policy-"))
    os.chmod(root, 0o755)
    (root / "mirror").mkdir()
    with MirrorServer(root / "mirror") as mirror:
        env = daemon_env(root / "d", f'[daemon]\ngc_group = "{GC_GROUP}"\n' + DAEMON_POLICY)
        env.env.update({**FAST_NET, **build_node(root / "mirror", mirror.url)})
        os.chmod(root / "d", 0o755)
        daemon = Daemon(env, root / "d" / "omgd.sock")
        daemon.start()
        os.chmod(env.home, 0o755)
        work = root / "work"
        work.mkdir(mode=0o777)
        os.chmod(work, 0o777)
        try:
            yield Shared(daemon, users[0], users[1], work)
        finally:
            assert daemon.stop() == 0
            shutil.rmtree(root, ignore_errors=True)


def user_config(s: Shared, user: User, text: str) -> None:
    """`user`'s own config file (XDG_CONFIG_HOME of `Shared.omg`)."""
    d = s.work / user.name / ".config" / "omg"
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.toml").write_text(text)
    for p in (d.parent.parent, d.parent, d, d / "config.toml"):
        os.chown(p, user.uid, user.gid)


def test_the_daemons_policy_wins_over_the_users(shared: Shared) -> None:
    s = shared
    user_config(s, s.a, USER_POLICY)
    for args in (["install", "node@20.10.0"], ["use", "node@20.10.0"]):
        proc = s.omg(s.a, *args)
        assert proc.returncode == 11, proc.stderr
        [error, hint] = proc.stderr.splitlines()
        assert error.startswith("error: policy eol = deny: node@20.10.0: the node 20 line "
                                "is end-of-life since 2026-04-30")
        assert hint.startswith("hint: omg install node@")
    # Nothing written: no store path of node, no profile of the user's.
    assert not [n for n in os.listdir(s.home / "store") if "-node-" in n]
    assert not (s.profile_dir(s.a) / "default").exists()
    if not supported("node", "22.2.0"):
        return  # its line ended too on this date: nothing the user's policy could deny
    # The user's file would deny 22.2.0 (unsigned: this mirror has no signatures); omgd's
    # allows it, and omgd's decides.
    used = s.ok(s.a, "use", "node@22.2.0", "--json")
    assert [t["version"] for t in used["tools"]] == ["22.2.0"]
