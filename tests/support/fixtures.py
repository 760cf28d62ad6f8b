"""Pytest fixtures over realbin, for test areas that want real Node binaries.

Use them from a conftest.py or a test module:

    from tests.support import fixtures
    node_mirror = fixtures.node_mirror  # makes the fixture visible in this module

    @pytest.mark.slow
    def test_use_real_node(node_mirror, omg_env):
        env = {"OMG_NODE_MIRROR": node_mirror.url}
        ...

`node_mirror` is session-scoped: one nodejs.org/dist mirror of DEFAULT_NODE_PAIR
(20.10.0 and 22.11.0) served on 127.0.0.1 for the whole run. The artifacts come from
the realbin cache (~/.cache/omg), so only the first run on a machine downloads. If the
npm registry cannot be reached and nothing is cached, tests using it skip with the
reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import realbin


@dataclass(frozen=True)
class NodeMirror:
    url: str  # the mirror base, "http://127.0.0.1:PORT/dist" (what nodejs.org/dist is)
    dist: Path  # the served dist/ directory
    versions: tuple[str, ...]  # "20.10.0", ... oldest first

    def tarball(self, version: str) -> Path:
        v = version.removeprefix("v")
        return self.dist / f"v{v}" / f"node-v{v}-linux-x64.tar.xz"


@pytest.fixture(scope="session")
def node_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeMirror]:
    root = tmp_path_factory.mktemp("node-mirror")
    versions = realbin.DEFAULT_NODE_PAIR
    try:
        dist = realbin.build_node_dist_mirror(root, list(versions))
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot build the Node mirror from the npm registry: {exc}")
    with realbin.serve(root) as base:
        yield NodeMirror(url=f"{base}/dist", dist=dist, versions=tuple(versions))
