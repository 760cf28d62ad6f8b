"""Fixtures for lock files: a Node mirror in upstream's layout with two platforms.

`build_node` (tests/providers/mirrors.py) writes linux-x64 tarballs; here each version
but the oldest also gets a linux-arm64 one, listed in index.json's `files` and in
SHASUMS256.txt as upstream does, so a lock covers two platforms and leaves arm64 out
where the index lacks it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import OmgEnv, make_env
from tests.providers.conftest import FAST_NET
from tests.providers.mirrors import NODE_VERSIONS, MirrorServer, build_node, script, tar_xz

#: The version with no arm64 build.
X64_ONLY = "18.19.0"


def build_two_platforms(root: Path, base: str) -> dict[str, str]:
    env = build_node(root, base)
    dist = root / "dist"
    index = json.loads((dist / "index.json").read_text())
    for item in index:
        version = item["version"].lstrip("v")
        if version == X64_ONLY:
            continue
        name = f"node-v{version}-linux-arm64"
        sha = tar_xz(dist / f"v{version}" / f"{name}.tar.xz", {
            f"{name}/bin/node": script(f"v{version} arm64")})
        sums = dist / f"v{version}" / "SHASUMS256.txt"
        sums.write_text(sums.read_text() + f"{sha}  {name}.tar.xz\n")
        item["files"] = ["linux-arm64", *item["files"]]
    (dist / "index.json").write_text(json.dumps(index))
    return {**FAST_NET, **env}


@pytest.fixture
def node_mirror(tmp_path: Path) -> Iterator[tuple[MirrorServer, dict[str, str]]]:
    root = tmp_path / "mirror"
    root.mkdir()
    with MirrorServer(root) as server:
        yield server, build_two_platforms(root, server.url)


@pytest.fixture
def lock_env(tmp_path: Path, node_mirror: tuple[MirrorServer, dict[str, str]]) -> OmgEnv:
    """An empty OMG_HOME pointed at the two-platform mirror, on x64."""
    env = make_env(tmp_path / "a")
    env.env.update({**node_mirror[1], "OMG_ARCH": "x86_64", "OMG_LIBC": "gnu"})
    return env


def project(root: Path, files: dict[str, str]) -> Path:
    d = root / "proj"
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / name).write_text(text)
    return d


__all__ = ["NODE_VERSIONS", "X64_ONLY", "build_two_platforms", "project"]
