"""Fixtures: a local mirror of every upstream, and an in-process omg environment on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from omg.config import Settings
from tests.conftest import OmgEnv
from tests.providers.mirrors import BUILDERS, MirrorServer

FAST_NET = {"OMG_NET_RETRIES": "2", "OMG_NET_BACKOFF": "0.01", "OMG_NET_TIMEOUT": "5"}


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[MirrorServer]:
    root = tmp_path / "mirror"
    root.mkdir()
    with MirrorServer(root) as server:
        yield server


@pytest.fixture
def mirror_env(mirror: MirrorServer) -> dict[str, str]:
    """Every upstream built into the mirror; the env vars that point omg at it."""
    env = dict(FAST_NET)
    for build in BUILDERS.values():
        env.update(build(mirror.root, mirror.url))
    return env


@pytest.fixture
def settings(omg_env: OmgEnv, mirror_env: dict[str, str],
             monkeypatch: pytest.MonkeyPatch) -> Settings:
    for k, v in {**omg_env.env, **mirror_env}.items():
        monkeypatch.setenv(k, v)
    for k in ("OMG_OFFLINE", "OMG_INDEX_TTL"):
        monkeypatch.delenv(k, raising=False)
    return omg_env.settings()


@pytest.fixture
def real_node_mirror(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(v20, v22, mirror URL): real Node binaries (npm registry, cached) served in the
    nodejs.org/dist layout; the test is skipped when neither registry nor cache has them."""
    try:
        from tests.support import realbin
    except ImportError as exc:  # pragma: no cover
        pytest.skip(f"tests.support.realbin unavailable: {exc}")
    v20, v22 = realbin.DEFAULT_NODE_PAIR
    try:
        realbin.build_node_dist_mirror(tmp_path / "m", [v20, v22])
    except Exception as exc:  # no registry reachable and nothing cached
        pytest.skip(f"cannot fetch real Node binaries: {exc}")
    with realbin.serve(tmp_path / "m") as url:
        yield v20, v22, url
