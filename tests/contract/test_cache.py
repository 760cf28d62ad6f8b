"""The contract of substitution and `omg cache pull`: the same on both backends, omgd
using its own `[cache]` (the config file each backend reads: conftest.py's
`extra_config`). The cache holds node 22.2.0 and 20.12.0, pushed from another home."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from omg.backend import Backend
from omg.cache import keys
from omg.cache.substitute import PullResult, Substituted
from store.claims import CACHE
from tests.cache.subst_support import push_path
from tests.conftest import make_env
from tests.contract.conftest import Failure, Kit, _mirrors


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, node_mirror: str
           ) -> tuple[str, str, dict[str, str]]:
    """(cache URL, trusted public key, version -> store path name)."""
    seed = make_env(tmp_path_factory.mktemp("seed"))
    secret = keys.generate("contract")
    cache = f"file://{tmp_path_factory.mktemp('cache')}/c"
    names = {}
    for v in ("22.2.0", "20.12.0"):
        out = subprocess.run([sys.executable, "-m", "omg", "install", f"node@{v}", "--json"],
                             env={**seed.env, **_mirrors(node_mirror)}, capture_output=True,
                             text=True, check=True).stdout
        names[v] = json.loads(out)[0]["store_path"]["name"]
        push_path(seed.layout, cache, names[v], secret)
    return cache, secret.public().text, names


@pytest.fixture
def extra_config(seeded: tuple[str, str, dict[str, str]]) -> str:
    cache, public, _ = seeded
    return f"[cache]\nsubstituters = ['{cache}']\ntrusted_keys = ['{public}']\n"


def test_install_substitutes_and_pull_pulls(backend: Backend, kit: Kit,
                                            seeded: tuple[str, str, dict[str, str]]) -> None:
    cache, _, names = seeded
    [result] = backend.install(["node@22.2.0"])
    assert (result.record.path, result.created, result.urls) == (names["22.2.0"], True, ())
    info = backend.store_info(names["22.2.0"])
    assert [c["kind"] for c in info.claims] == [CACHE]
    pulled = backend.cache_pull(cache, ["node@20.12.0", names["22.2.0"]])
    assert isinstance(pulled, PullResult)
    assert (pulled.pulled, pulled.present) == ([names["20.12.0"]], [names["22.2.0"]])
    assert pulled.objects == 1  # bin/node differs; npm-cli.js and node.h are shared
    assert Path(kit.store_path(names["20.12.0"])).is_dir()


def test_substitute_names_what_the_caches_have(backend: Backend,
                                               seeded: tuple[str, str, dict[str, str]]
                                               ) -> None:
    cache, _, names = seeded
    # Arch's own words are asked as they are: an epoch, a name holding '@'.
    got = backend.cache_substitute(["node@20.12.0", "node@9.9.9", "aur/none@1-1",
                                    "aur/lib@32@1:2.0-1"])
    assert isinstance(got, Substituted)
    assert got.found == {"node@20.12.0": names["20.12.0"]}
    assert got.caches == {"node@20.12.0": cache}
    assert got.warnings == []


@pytest.mark.parametrize(("item", "message"), [
    ("../x@1", "malformed package spec '../x@1': expected aur/NAME or REPO/NAME, e.g. "
               "aur/yay@12.3.5-1"),
    ("node@../../x", "malformed version in 'node@../../x': expected a version, a prefix "
                     "such as 20 or 20.10, a range such as ^20, or 'latest'"),
    ("node@^20", "'node@^20': expected TOOL@VERSION naming one version (no range)"),
])
def test_a_malformed_item_is_the_usage_error_use_gives(backend: Backend, kit: Kit,
                                                       seeded: tuple[str, str, dict[str, str]],
                                                       item: str, message: str) -> None:
    """Items are parsed by omg.spec as every spec is: `../x@1` was a cache key refused as
    unsafe (exit 7) and `node@^20` "not in this cache" (exit 3), where `omg use` says
    the spec is malformed (exit 2)."""
    cache, _, _ = seeded
    expected = Failure("UsageError", message, None, 2)
    assert kit.fails(lambda: backend.cache_pull(cache, [item])) == expected
    assert kit.fails(lambda: backend.cache_substitute([item])) == expected
    if item != "node@^20":  # a range is a spec `use` takes
        assert kit.fails(lambda: backend.use([item])) == expected
