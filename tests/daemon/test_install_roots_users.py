"""Install roots through omgd, by two real Linux users (generations/installroots.py).

omgd installs for its peer, so the root is the peer's (``gcroots/<peer>/installs/``,
written by the daemon): A and B install the same node (one store path), B's
`omg uninstall` drops B's root alone, B can drop A's neither through omgd nor by
hand, root's gc keeps the path while A's root holds it and frees it once A
uninstalls too. Users and the daemon as in test_users.py; skipped when not root.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.conftest import daemon_env
from tests.daemon.test_profile_users import World, world_over
from tests.daemon.test_users import GC_GROUP, User, users  # noqa: F401 (fixtures)
from tests.providers.conftest import FAST_NET
from tests.providers.mirrors import MirrorServer, build_node

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def world(users: tuple[User, User]) -> Iterator[World]:  # noqa: F811
    """A root omgd on a fresh shared home that downloads from a local Node mirror."""
    root = Path(tempfile.mkdtemp(prefix="omgd-installs-"))
    os.chmod(root, 0o755)
    with MirrorServer(root / "mirror") as server:
        node = build_node(root / "mirror", server.url)["OMG_NODE_MIRROR"]
        env = daemon_env(root / "d", f'[daemon]\ngc_group = "{GC_GROUP}"\n')
        env.env.update({**FAST_NET, "OMG_NODE_MIRROR": node, "OMG_ENDOFLIFE_MIRROR":
                        node.removesuffix("/dist") + "/endoflife/api/v1"})
        with world_over(env, root, users) as w:
            yield w
    shutil.rmtree(root, ignore_errors=True)


def _kept(world: World, user: User) -> dict[str, bool]:
    rows = world.ok(user, lambda s: s.installed("node"))
    return {r["version"]: r["kept"] for r in rows}


def test_each_user_keeps_and_uninstalls_only_their_own(world: World) -> None:
    a, b, home = world.a, world.b, world.home
    [mine] = world.ok(a, lambda s: s.install(["node@22"]))
    [theirs] = world.ok(b, lambda s: s.install(["node@22"]))
    name = mine["record"]["path"]
    assert theirs["record"]["path"] == name  # one copy in the store
    for user in (a, b):
        link = home / "gcroots" / user.name / "installs" / "node@22.2.0"
        assert os.readlink(link) == str(home / "store" / name)
        st = os.lstat(link.parent)
        assert (st.st_uid, st.st_mode & 0o777) == (0, 0o755)  # omgd's, readable by all
        assert _kept(world, user) == {"22.2.0": True}
    # B cannot drop A's root: not by naming A to omgd, not through roots.remove, not by hand.
    assert world.run(b, lambda s: s.call("profile.uninstall",
                                         {"specs": ["node"], "user": a.name}))[0] == 9
    assert world.run(b, lambda s: s.call("roots.remove", {"name": "installs"}))[0] == 2

    def unlink_by_hand() -> int:
        try:
            os.unlink(home / "gcroots" / a.name / "installs" / "node@22.2.0")
        except PermissionError:
            return 9
        return 0

    assert world.ok(b, lambda s: unlink_by_hand()) == 9
    gone = world.ok(b, lambda s: s.uninstall(["node"]))
    assert (gone["generation"], gone["unrooted"]) == (None, ["node@22.2.0"])
    assert _kept(world, b) == {"22.2.0": False} and _kept(world, a) == {"22.2.0": True}
    assert world.ok(None, lambda s: s.gc())["dead"] == []  # A's root holds it
    assert world.run(b, lambda s: s.uninstall(["node"]))[0] == 3  # B has nothing left
    world.ok(a, lambda s: s.uninstall(["node@22"]))
    assert world.ok(None, lambda s: s.gc())["dead"] == [name]
    assert not (home / "store" / name).exists()
