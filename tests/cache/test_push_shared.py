"""`omg cache push` in the shared mode, by a real Linux user: the push reads the
world-readable store in the user's own process (omgd has no push method), so the
secret key never leaves it. The daemon and the user come from tests/daemon; skipped
with the reason when not root."""

from __future__ import annotations

import json

import pytest

from omg.cache import keys
from omg.cache import manifest as M
from tests.daemon.test_fast_shared import Shared, world  # noqa: F401 (fixture)
from tests.daemon.test_users import shared, users  # noqa: F401 (fixtures)

pytestmark = pytest.mark.root


def test_a_user_pushes_what_their_profile_reaches(world: Shared) -> None:  # noqa: F811
    secret = world.work / "out" / "user.secret"
    code, public, err = world.omg("cache", "keygen", "user-1", "--secret-file", str(secret))
    assert code == 0, err
    assert secret.stat().st_uid == world.user.uid and secret.stat().st_mode & 0o777 == 0o600
    assert world.omg("use", "tool@1.0")[0] == 0
    cache = world.work / "out" / "cache"
    code, out, err = world.omg("cache", "push", cache.as_uri(), "--secret-file", str(secret),
                               "--json")
    assert code == 0, err
    name = world.paths["1.0"]
    assert [p["name"] for p in json.loads(out)["pushed"]] == [name]  # not the env
    manifest = cache / "paths" / f"{name}.json"
    assert manifest.stat().st_uid == world.user.uid  # written by the user's own process
    m = M.decode(manifest.read_bytes(), "k", expect_name=name)
    assert M.verify(m, [keys.parse_public(public)]) is not None
    code, out, err = world.omg("cache", "push", cache.as_uri(), "tool@1.0", "--secret-file",
                             str(secret))
    assert (code, err) == (0, "")
    assert out == f"{cache.as_uri()}: up to date (1 store path already there)\n"
