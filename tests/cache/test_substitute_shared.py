"""Substitution through omgd, by real Linux users: omgd substitutes with its own
trusted keys and substituters; a client's OMG_TRUSTED_KEYS and OMG_SUBSTITUTERS are
never sent to it, so they change nothing (as in Nix, a user cannot add a trusted key).
Users and the daemon as in tests/daemon/test_users.py; skipped when not root."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from omg.cache import keys
from tests.cache.subst_support import push_path
from tests.conftest import make_env
from tests.daemon.conftest import daemon_env
from tests.daemon.test_profile_users import World, world_over
from tests.daemon.test_users import GC_GROUP, User, users  # noqa: F401 (fixtures)
from tests.providers.conftest import FAST_NET
from tests.providers.mirrors import MirrorServer, build_node

pytestmark = pytest.mark.root


@dataclass
class Shared:
    world: World
    server: MirrorServer
    cache: str
    names: dict[str, str]
    daemons_key: keys.SecretKey
    users_key: keys.SecretKey


@pytest.fixture(scope="module")
def shared(users: tuple[User, User]) -> Iterator[Shared]:  # noqa: F811
    """A cache with node 22.2.0 signed by omgd's trusted key and 20.12.0 signed by a key
    only a user trusts; a root omgd over a fresh shared home, with a local Node mirror."""
    root = Path(tempfile.mkdtemp(prefix="omgd-subst-"))
    os.chmod(root, 0o755)
    with MirrorServer(root / "mirror") as server:
        up = {**FAST_NET, **build_node(root / "mirror", server.url)}
        daemons_key, users_key = keys.generate("omgd-team"), keys.generate("mine")
        cache = f"file://{root}/cache"
        seed = make_env(root / "seed")
        names = {}
        for v, key in (("22.2.0", daemons_key), ("20.12.0", users_key)):
            [r] = json.loads(seed.run("install", f"node@{v}", "--json", extra_env=up,
                                      check=True).stdout)
            names[v] = r["store_path"]["name"]
            push_path(seed.layout, cache, names[v], key)
        for d in (root / "cache", *(root / "cache").rglob("*")):
            os.chmod(d, 0o755 if d.is_dir() else 0o644)
        env = daemon_env(root / "d", f'[daemon]\ngc_group = "{GC_GROUP}"\n'
                                     f"[cache]\nsubstituters = ['{cache}']\n"
                                     f"trusted_keys = ['{daemons_key.public().text}']\n")
        env.env.update(up)
        with world_over(env, root, users) as w:
            yield Shared(w, server, cache, names, daemons_key, users_key)
    shutil.rmtree(root, ignore_errors=True)


def claims(s: Shared, name: str) -> list[str]:
    from store.claims import read
    from store.layout import Layout

    return [str(c["kind"]) for c in read(Layout(s.world.home), name)]


def test_omgd_substitutes_with_its_own_trusted_keys(shared: Shared) -> None:
    s = shared
    s.server.requests.clear()
    [r] = s.world.ok(s.world.a, lambda b: b.install(["node@22.2.0"]))
    assert r["record"]["path"] == s.names["22.2.0"]
    assert not [p for p, _ in s.server.requests if p.startswith("/dist")]
    assert claims(s, s.names["22.2.0"]) == ["cache"]


def test_a_users_trusted_key_and_substituters_change_nothing(shared: Shared) -> None:
    s = shared
    world = s.world
    # B trusts the key that signed 20.12.0, and names the cache: omgd never hears of it.
    world.env = {**world.env, "OMG_TRUSTED_KEYS": s.users_key.public().text,
                 "OMG_SUBSTITUTERS": s.cache}
    try:
        [r] = world.ok(world.b, lambda b: b.install(["node@20.12.0"]))
    finally:
        world.env = {k: v for k, v in world.env.items()
                     if k not in ("OMG_TRUSTED_KEYS", "OMG_SUBSTITUTERS")}
    assert r["record"]["path"] == s.names["20.12.0"]  # the same content, from upstream
    assert any("not signed by a trusted key (signed by mine); falling back to upstream"
               in w for w in r["warnings"]), r["warnings"]
    assert claims(s, s.names["20.12.0"]) == ["upstream"]
    assert any(p.endswith("node-v20.12.0-linux-x64.tar.xz") for p, _ in s.server.requests)


def test_cache_pull_through_omgd_uses_its_keys_and_its_substituters_only(
        shared: Shared) -> None:
    s = shared
    world = s.world
    got = world.ok(world.a, lambda b: b.cache_pull(s.cache, ["node@22.2.0"]))
    assert (got["pulled"] + got["present"]) == [s.names["22.2.0"]]
    # Another URL (even one holding the same cache) is not omgd's to fetch from.
    other = s.cache + "/"
    assert world.run(world.a, lambda b: b.cache_pull(other, ["node@22.2.0"]))[0] == 9
    # Signed by a key only the user trusts: refused by omgd (integrity, exit 5).
    world.env = {**world.env, "OMG_TRUSTED_KEYS": s.users_key.public().text}
    try:
        code, _ = world.run(world.b, lambda b: b.cache_pull(s.cache, [s.names["20.12.0"]]))
    finally:
        world.env.pop("OMG_TRUSTED_KEYS")
    assert code == 5
