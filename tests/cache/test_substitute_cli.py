"""`omg use`, `omg install` and `omg sync` asking the substituters before upstream (a small
generated Node in the nodejs.org/dist layout: tests/providers/mirrors.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from omg.cache import keys
from tests.cache.subst_support import picture, push_path
from tests.conftest import OmgEnv, make_env
from tests.providers.conftest import FAST_NET
from tests.providers.mirrors import MirrorServer, build_node, supported
from tests.schema import check


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[MirrorServer, dict[str, str]]]:
    with MirrorServer(tmp_path / "mirror") as server:
        yield server, {**FAST_NET, **build_node(tmp_path / "mirror", server.url)}


def installed(env: OmgEnv, spec: str, extra: dict[str, str]) -> str:
    [r] = json.loads(env.run("install", spec, "--json", extra_env=extra, check=True).stdout)
    return str(r["store_path"]["name"])


@dataclass
class Seeded:
    """A cache holding node versions pushed from another OMG_HOME, and an empty home
    (`second`) whose `env` asks that cache, trusting its key, then `up`stream."""

    cache: str
    secret: keys.SecretKey
    names: dict[str, str]
    second: OmgEnv
    env: dict[str, str]


def seeded(tmp_path: Path, up: dict[str, str], *versions: str) -> Seeded:
    first = make_env(tmp_path / "first")
    secret = keys.generate("team")
    cache = f"file://{tmp_path}/cache"
    names = {}
    for v in versions:
        names[v] = installed(first, f"node@{v}", up)
        push_path(first.layout, cache, names[v], secret)
    return Seeded(cache, secret, names, make_env(tmp_path / "second"),
                  {**up, "OMG_SUBSTITUTERS": cache, "OMG_TRUSTED_KEYS": secret.public().text})


def upstream_requests(server: MirrorServer) -> list[str]:
    return [p for p, _ in server.requests if p.startswith("/dist")]


def test_use_of_an_exact_version_asks_the_cache_and_no_upstream_index(
        tmp_path: Path, mirror: tuple[MirrorServer, dict[str, str]]) -> None:
    server, up = mirror
    s = seeded(tmp_path, up, "22.2.0")
    server.requests.clear()
    second, env, names = s.second, s.env, s.names
    proc = second.run("use", "node@22.2.0", extra_env=env, check=True)
    # The cache answered: no warning of its own (a fall-back, a refused signature); the
    # one left is `use`'s about the kit's mirror, which carries no SHASUMS256.txt
    # signature. Warnings are on stderr, `use`'s too: stdout holds the answer alone.
    warned = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning: ")]
    assert warned == ["warning: node 22.2.0: upstream signs it, but its signature was not "
                      "verified (missing)"], proc.stderr
    assert "warning" not in proc.stdout
    assert upstream_requests(server) == []
    cur = json.loads(second.run("current", "--json", extra_env=env, check=True).stdout)
    out = subprocess.run([str(Path(cur["bin"]) / "node")], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "v22.2.0"
    assert (second.layout.store / names["22.2.0"]).is_dir()
    info = json.loads(second.run("store", "info", names["22.2.0"], "--json",
                                 check=True).stdout)
    assert [c["kind"] for c in info["claims"]] == ["cache"]
    assert info["origin"]["url"].endswith("node-v22.2.0-linux-x64.tar.xz")
    assert second.run("store", "verify").returncode == 0


def test_a_range_reads_upstreams_index_then_asks_the_cache_for_the_version(
        tmp_path: Path, mirror: tuple[MirrorServer, dict[str, str]]) -> None:
    server, up = mirror
    s = seeded(tmp_path, up, "20.12.0")
    server.requests.clear()
    assert installed(s.second, "node@20", s.env) == s.names["20.12.0"]
    asked = upstream_requests(server)
    assert "/dist/index.json" in asked and not any(p.endswith(".tar.xz") for p in asked)


def test_sync_substitutes_the_version_files_tools(
        tmp_path: Path, mirror: tuple[MirrorServer, dict[str, str]]) -> None:
    server, up = mirror
    s = seeded(tmp_path, up, "22.2.0")
    server.requests.clear()
    project = tmp_path / "project"
    project.mkdir()
    (project / ".node-version").write_text("22.2.0\n")
    s.second.run("sync", extra_env=s.env, cwd=project, check=True)
    assert upstream_requests(server) == []
    assert (s.second.layout.store / s.names["22.2.0"]).is_dir()


def test_without_a_trusted_key_the_cache_is_refused_and_upstream_installs(
        tmp_path: Path, mirror: tuple[MirrorServer, dict[str, str]]) -> None:
    _server, up = mirror
    s = seeded(tmp_path, up, "22.2.0")
    cache, names, second = s.cache, s.names, s.second
    env = {**s.env, "OMG_TRUSTED_KEYS": keys.generate("team").public().text}
    proc = second.run("install", "node@22.2.0", extra_env=env, check=True)
    name = names["22.2.0"]
    assert [ln for ln in proc.stderr.splitlines() if "falling back" in ln] == [
        f"warning: {cache}: paths/{name}.json: not signed by a trusted key (signed by "
        "team); falling back to upstream"]
    info = json.loads(second.run("store", "info", name, "--json", check=True).stdout)
    assert [c["kind"] for c in info["claims"]] == ["upstream"]


def test_offline_asks_no_cache(tmp_path: Path,
                               mirror: tuple[MirrorServer, dict[str, str]]) -> None:
    _server, up = mirror
    s = seeded(tmp_path, up, "22.2.0")
    before = picture(s.second.layout)
    proc = s.second.run("install", "node@22.2.0", "--offline", extra_env=s.env)
    assert proc.returncode != 0
    assert picture(s.second.layout) == before


def test_a_bad_substituter_setting_is_a_usage_error(tmp_path: Path,
                                                    omg_env: OmgEnv) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "c.toml").write_text("[cache]\nsubstituters = ['ftp://x']\n")
    proc = omg_env.run("install", "node@22.2.0", extra_env={
        "OMG_CONFIG": str(tmp_path / "cfg" / "c.toml")})
    assert proc.returncode == 2
    assert "[cache] substituters: expected a list of cache URLs" in proc.stderr
    proc = omg_env.run("install", "node@22.2.0", extra_env={"OMG_SUBSTITUTERS": "ftp://x",
                                                            "OMG_TRUSTED_KEYS": "k:AAAA"})
    assert proc.returncode == 2 and "substituter 'ftp://x': not a cache URL" in proc.stderr


def test_use_between_installed_versions_imports_no_cache_module(
        tmp_path: Path, mirror: tuple[MirrorServer, dict[str, str]]) -> None:
    _server, up = mirror
    env = make_env(tmp_path / "one")
    extra = {**up, "OMG_SUBSTITUTERS": f"file://{tmp_path}/cache",
             "OMG_TRUSTED_KEYS": keys.generate("k").public().text}
    env.run("use", "node@22.2.0", extra_env=up, check=True)
    env.run("use", "node@20.12.0", extra_env=up, check=True)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "omg", "use",
                           "node@22.2.0"], env={**env.env, **extra}, capture_output=True,
                          text=True, check=True)
    assert "omg.cache" not in proc.stderr


def test_cache_pull_by_name_and_by_tool_at_version(
        tmp_path: Path, mirror: tuple[MirrorServer, dict[str, str]]) -> None:
    _, up = mirror
    s = seeded(tmp_path, up, "22.2.0", "20.12.0")
    cache, names, second = s.cache, s.names, s.second
    env = {"OMG_TRUSTED_KEYS": s.secret.public().text}
    proc = second.run("cache", "pull", cache, names["22.2.0"], "node@20.12.0",
                      extra_env=env, check=True)
    assert proc.stdout.splitlines()[:2] == [f"pulled {names['22.2.0']}",
                                            f"pulled {names['20.12.0']}"]
    again = second.run("cache", "pull", cache, "node@22.2.0", extra_env=env, check=True)
    assert again.stdout.splitlines()[0] == f"already in the store: {names['22.2.0']}"
    data = check("cache-pull", second.run("cache", "pull", cache, "node@20.12.0", "--json",
                                          extra_env=env, check=True).stdout)
    assert (data["pulled"], data["objects"]) == ([], 0)
    assert data["present"] == [{"name": names["20.12.0"],
                                "path": str(second.layout.store / names["20.12.0"])}]
    assert second.run("store", "verify").returncode == 0


def test_cache_pull_refusals_are_one_error_line_and_change_nothing(
        tmp_path: Path, mirror: tuple[MirrorServer, dict[str, str]]) -> None:
    _, up = mirror
    s = seeded(tmp_path, up, "22.2.0")
    cache, names, second = s.cache, s.names, s.second
    before = picture(second.layout)
    stranger = {"OMG_TRUSTED_KEYS": keys.generate("team").public().text}
    cases = [
        ({}, [cache, names["22.2.0"]], 2, "error: no trusted key"),
        (stranger, [cache, names["22.2.0"]], 5, "not signed by a trusted key"),
        (stranger, [cache, "node@9.9.9"], 3, "no node@9.9.9 in this cache"),
        (stranger, [cache, "nonsense"], 2, "not a store path name nor TOOL@VERSION"),
        (stranger, [f"file://{tmp_path}/nothing", "node@22.2.0"], 3, "error: "),
    ]
    for env, args, code, said in cases:
        proc = second.run("cache", "pull", *args, extra_env=env)
        assert proc.returncode == code, (args, proc.stderr)
        assert proc.stderr.startswith("error: ") and said in proc.stderr.splitlines()[0]
        assert picture(second.layout) == before


def test_a_version_the_policy_denies_is_not_pulled(
        tmp_path: Path, mirror: tuple[MirrorServer, dict[str, str]]) -> None:
    _, up = mirror
    assert not supported("node", "18.19.0")  # Hydrogen's end of life has passed
    s = seeded(tmp_path, up, "18.19.0")
    config = tmp_path / "policy.toml"
    config.write_text('[policy]\neol = "deny"\n')
    before = picture(s.second.layout)
    for spec in ("node@18.19.0", "node@18"):
        proc = s.second.run("install", spec, extra_env={**s.env, "OMG_CONFIG": str(config)})
        assert proc.returncode == 11, proc.stderr
        assert picture(s.second.layout) == before
