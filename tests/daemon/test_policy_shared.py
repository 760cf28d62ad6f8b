"""`[policy]` in the shared mode: omgd's config decides, whatever the user's says.

A root omgd (its config: end-of-life versions denied, outdated and unsigned ones
allowed) serves a root-owned OMG_HOME; a real Linux user whose own config says the
opposite runs the real `omg`. The check runs inside the use case on omgd's side, so
the user's file changes nothing either way. Skipped when not root.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.daemon.test_shared_cli import Shared, serve_shared
from tests.daemon.test_users import User, users  # noqa: F401 (fixture)
from tests.providers.mirrors import supported

pytestmark = pytest.mark.root

DAEMON_POLICY = '[policy]\neol = "deny"\noutdated = "allow"\nunsigned = "allow"\n'
USER_POLICY = '[policy]\neol = "allow"\noutdated = "deny"\nunsigned = "deny"\n'


@pytest.fixture(scope="module")
def shared(users: tuple[User, User]) -> Iterator[Shared]:  # noqa: F811
    yield from serve_shared(users, DAEMON_POLICY)


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
