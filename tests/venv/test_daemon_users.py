"""Venv roots through a root omgd, by real Linux users (invariant 7): a user roots only a
venv of their own uid, in their own ``gcroots/<user>/venvs/``, and only while its
``bin/python`` lands in the store. The users, daemon and world come from
tests/daemon/test_profile_users.py; skipped with the reason when not root."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.test_profile_users import World, world  # noqa: F401 (fixture)
from tests.daemon.test_users import User, as_user, shared, users  # noqa: F401 (fixtures)

pytestmark = pytest.mark.root


def _venv_of(world: World, user: User, target: str) -> Path:  # noqa: F811
    """A directory of `user`'s with what gc looks at in a venv: ``bin/python`` -> `target`."""
    base = world.work / "venvs"
    base.mkdir(exist_ok=True)
    os.chmod(base, 0o1777)
    venv = base / f"{user.name}-{os.urandom(3).hex()}"

    def make() -> int:
        (venv / "bin").mkdir(parents=True)
        (venv / "pyvenv.cfg").write_text("version = 3.11.7\n")
        os.symlink(target, venv / "bin" / "python")
        return 0

    assert as_user(user, make, world.env) == 0
    return venv


def _call(method: str, **params: Any) -> Any:
    return lambda s: s.call(method, params)


def test_a_user_roots_only_their_own_venv(world: World) -> None:  # noqa: F811
    a, b, home = world.a, world.b, world.home
    tool = world.paths["keep@1.0"]
    venv = _venv_of(world, a, f"{home}/store/{tool}/bin/keep")
    link = home / "gcroots" / a.name / "venvs" / str(venv).replace("/", "%")
    # B may neither root A's venv as B nor act as A.
    assert world.run(b, _call("venv.root", path=str(venv)))[0] == 9
    assert world.run(b, _call("venv.root", path=str(venv), user=a.name))[0] == 9
    assert not os.path.lexists(link)
    assert world.ok(a, _call("venv.root", path=str(venv))) == {
        "user": a.name, "path": str(venv), "store_path": tool}
    assert os.readlink(link) == f"{venv}/bin/python"
    assert os.lstat(link).st_uid == 0  # omgd's, in a directory only omgd writes
    assert world.run(b, _call("venv.unroot", path=str(venv), user=a.name))[0] == 9
    assert os.path.lexists(link)
    assert world.ok(a, _call("venv.unroot", path=str(venv))) == {"user": a.name,
                                                                 "path": str(venv)}
    assert not os.path.lexists(link)


def test_a_venv_whose_python_is_not_in_the_store_is_not_rooted(world: World) -> None:  # noqa: F811
    a, home = world.a, world.home
    outside = _venv_of(world, a, "/usr/bin/python3")
    gone = _venv_of(world, a, f"{home}/store/{'a' * 32}-python-3.11.7/bin/python3")
    for venv in (outside, gone):
        assert world.run(a, _call("venv.root", path=str(venv)))[0] == 3
    for bad in ("relative/.venv", f"{outside}/../x", "/"):
        assert world.run(a, _call("venv.root", path=bad))[0] == 2
    # `roots.add` cannot take the name of the venvs' directory.
    assert world.run(a, _call("roots.add", name="venvs",
                              store_path=world.paths["keep@1.0"]))[0] == 2
    assert not (home / "gcroots" / a.name / "venvs").exists() or \
        os.listdir(home / "gcroots" / a.name / "venvs") == []
