"""End to end with a real Node: installed from a local upstream mirror in one OMG_HOME,
pushed, then `omg use node@VERSION` in an empty OMG_HOME with upstream unreachable."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from omg.cache import keys, storage, substitute
from omg.cache import manifest as mf
from store.local import LocalStore
from tests.cache.subst_support import Counting, push_path
from tests.cache.test_substitute import closed_port
from tests.conftest import OmgEnv, make_env

pytestmark = pytest.mark.slow

PAIR = ("20.20.1", "20.20.2")  # two patch versions: the delta


@pytest.fixture(scope="module")
def patch_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.support import realbin

    root = tmp_path_factory.mktemp("node-patch-mirror")
    try:
        realbin.build_node_dist_mirror(root, list(PAIR))
    except Exception as exc:  # no registry reachable and nothing cached
        pytest.skip(f"cannot fetch real Node binaries: {exc}")
    with realbin.serve(root) as url:
        yield f"{url}/dist"


def node_via_profile(env: OmgEnv, extra: dict[str, str]) -> str:
    cur = json.loads(env.run("current", "--json", extra_env=extra, check=True).stdout)
    return subprocess.run([str(Path(cur["bin"]) / "node"), "--version"], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_use_an_exact_version_from_the_cache_with_upstream_down(
        tmp_path: Path, patch_mirror: str, s3_cache: str) -> None:
    first = make_env(tmp_path / "first")
    up = {"OMG_NODE_MIRROR": patch_mirror}
    installed = {}
    for v in PAIR:
        [r] = json.loads(first.run("install", f"node@{v}", "--json", extra_env=up,
                                   check=True).stdout)
        installed[v] = r["store_path"]["name"]
    secret_file = tmp_path / "team.secret"
    public = first.run("cache", "keygen", "team", "--secret-file", str(secret_file),
                       check=True).stdout.strip()
    cache = s3_cache
    first.run("cache", "push", cache, *(f"node@{v}" for v in PAIR), "--secret-file",
              str(secret_file), check=True)
    secret = keys.load_secret(secret_file)
    assert secret.public().text == public

    second = make_env(tmp_path / "second")
    closed = f"http://127.0.0.1:{closed_port()}"
    env = {"OMG_NODE_MIRROR": f"{closed}/dist", "OMG_ENDOFLIFE_MIRROR": closed,
           "OMG_SUBSTITUTERS": cache, "OMG_TRUSTED_KEYS": secret.public().text}
    proc = second.run("use", f"node@{PAIR[0]}", extra_env=env, check=True)
    assert "falling back" not in proc.stderr, proc.stderr
    assert node_via_profile(second, env) == f"v{PAIR[0]}"
    rec = json.loads(second.run("store", "info", installed[PAIR[0]], "--json",
                                extra_env=env, check=True).stdout)
    assert rec["origin"]["url"].endswith(f"node-v{PAIR[0]}-linux-x64.tar.xz")
    assert any(c["kind"] == "cache" for c in rec["claims"])

    # The second patch version moves only what changed: the objects it shares with
    # the first come from the pool.
    counting = Counting(storage.open_storage(cache))
    store = LocalStore(second.layout)
    got = substitute.pull(store, counting, installed[PAIR[1]],
                          [secret.public()], "root")
    store.close()
    assert got is not None and got.record.path == installed[PAIR[1]]
    m = mf.decode(storage.open_storage(cache).get(mf.manifest_key(got.record.path)) or b"",
                  "m")
    m0 = mf.decode(storage.open_storage(cache).get(mf.manifest_key(installed[PAIR[0]]))
                   or b"", "m0")
    changed = {o.digest for o in mf.objects(m)} - {o.digest for o in mf.objects(m0)}
    assert sorted(counting.objects()) == sorted(mf.object_key(d) for d in changed)
    assert 0 < len(changed) < len(mf.objects(m)) // 2
    proc = second.run("install", f"node@{PAIR[1]}", "--json", extra_env=env, check=True)
    [r] = json.loads(proc.stdout)
    assert r["store_path"]["name"] == installed[PAIR[1]] and not r["created"]
    assert second.run("store", "verify", extra_env=env).returncode == 0


def test_an_untrusted_cache_falls_back_to_upstream_with_one_warning(
        tmp_path: Path, patch_mirror: str, http_cache: tuple[Path, str]) -> None:
    first = make_env(tmp_path / "first")
    up = {"OMG_NODE_MIRROR": patch_mirror}
    [r] = json.loads(first.run("install", f"node@{PAIR[0]}", "--json", extra_env=up,
                               check=True).stdout)
    directory, cache = http_cache
    push_path(first.layout, directory.as_uri(), r["store_path"]["name"],
              keys.generate("team"))
    second = make_env(tmp_path / "second")
    other = keys.generate("team").public().text
    env = {**up, "OMG_SUBSTITUTERS": cache, "OMG_TRUSTED_KEYS": other}
    proc = second.run("install", f"node@{PAIR[0]}", extra_env=env, check=True)
    warnings = [ln for ln in proc.stderr.splitlines() if "falling back" in ln]
    name = r["store_path"]["name"]
    assert warnings == [f"warning: {cache}: paths/{name}.json: not signed by a trusted key "
                        "(signed by team); falling back to upstream"]
    info = json.loads(second.run("store", "info", name, "--json", check=True).stdout)
    assert [c["kind"] for c in info["claims"]] == ["upstream"]
