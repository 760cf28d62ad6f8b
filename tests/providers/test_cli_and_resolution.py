"""The CLI surface of runtime commands, and properties of spec resolution."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from omg.providers import get
from omg.providers.base import Release
from omg.spec import matches, version_key
from tests.conftest import OmgEnv
from tests.providers.mirrors import MirrorServer


def test_install_several_then_offline(omg_env: OmgEnv, mirror: MirrorServer,
                                      mirror_env: dict[str, str]) -> None:
    proc = omg_env.run("install", "node@lts", "python@3.11", "java@17", extra_env=mirror_env,
                       check=True)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("node@20.12.0 installed: ")
    assert lines[1].startswith("python@3.11.9 installed: ")
    assert lines[2].startswith("java@17.0.11+9 installed: ")
    proc = omg_env.run("list", extra_env=mirror_env, check=True)
    assert [line.split()[:2] for line in proc.stdout.splitlines()] == [
        ["java", "17.0.11+9"], ["node", "20.12.0"], ["python", "3.11.9"]]
    # Offline: the cached index answers partial specs, the store answers exact ones.
    dead = {**mirror_env, "OMG_NODE_MIRROR": "http://127.0.0.1:9/dist"}
    proc = omg_env.run("install", "--offline", "node@20", extra_env=dead, check=True)
    assert "already installed" in proc.stdout
    proc = omg_env.run("list", "node", "--remote", "--offline", extra_env=mirror_env,
                       check=True)
    assert "20.12.0" in proc.stdout and "installed" in proc.stdout


def test_remote_text_listing(omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    proc = omg_env.run("list", "node", "--remote", extra_env=mirror_env, check=True)
    first, *_rest = proc.stdout.splitlines()
    assert first.split()[0] == "22.2.0"
    assert "lts:Iron security" in proc.stdout
    proc = omg_env.run("list", "ruby", "--remote", "--json", extra_env=mirror_env, check=True)
    assert [d["version"] for d in json.loads(proc.stdout)] == ["3.3.4", "3.3.1", "3.2.9"]


def test_remote_needs_tool(omg_env: OmgEnv) -> None:
    proc = omg_env.run("list", "--remote")
    assert proc.returncode == 2 and proc.stderr.startswith("error:")


versions = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30)),
                    min_size=1, max_size=30, unique=True)


@given(versions, st.integers(0, 30), st.one_of(st.none(), st.integers(0, 30)))
def test_resolve_picks_the_newest_match(vs: list[tuple[int, int, int]], major: int,
                                        minor: int | None) -> None:
    provider = get("go")
    releases = [Release(f"{a}.{b}.{c}") for a, b, c in vs]
    spec = f"{major}" if minor is None else f"{major}.{minor}"
    found = provider.select(spec, releases)
    hits = [r.version for r in releases if matches(spec, r.version)]
    if not hits:
        assert found is None
    else:
        assert found is not None and found.version == max(hits, key=version_key)


@given(versions)
def test_latest_and_exact(vs: list[tuple[int, int, int]]) -> None:
    provider = get("node")
    releases = [Release(f"{a}.{b}.{c}") for a, b, c in vs]
    latest = provider.select("latest", releases)
    assert latest is not None
    assert latest.version == max((r.version for r in releases), key=version_key)
    for r in releases:
        picked = provider.select(r.version, releases)
        assert picked is not None and picked.version == r.version
