"""A checksum mismatch drops the cached checksum source and retries once; a listing
served from an expired cache (upstream unreachable) says it is stale.

A cached SHASUMS256.txt can be older than the artifact it describes (upstream
rebuilt it, a mirror resynced): before giving up, the documents the install was
read from are dropped from the cache, fetched again, and the download retried.
"""

from __future__ import annotations

import json
import time

import pytest

from omg import install
from omg.config import Settings
from omg.providers import get
from omg.providers.base import Release
from tests.conftest import OmgEnv
from tests.providers.mirrors import MirrorServer, script, tar_xz, write

SUMS = "/dist/v20.10.0/SHASUMS256.txt"


@pytest.fixture(autouse=True)
def _no_signatures(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count the mirror's requests for checksum files; a missing signature
    is asked for again on every install (tests/providers/test_signatures.py)."""
    monkeypatch.setenv("OMG_SIGNATURES", "off")
TARBALL = "dist/v20.10.0/node-v20.10.0-linux-x64.tar.xz"


def _cache_checksums(settings: Settings) -> None:
    """Read node 20.10.0's checksum file into the cache, as an earlier command would."""
    session = install.Session(settings)
    try:
        get("node").artifacts(session.ctx, Release("20.10.0"))
    finally:
        session.close()


def _rebuild(mirror: MirrorServer) -> str:
    """Upstream rebuilds the artifact: new bytes, a new checksum file."""
    name = "node-v20.10.0-linux-x64"
    sha = tar_xz(mirror.root / TARBALL, {f"{name}/bin/node": script("v20.10.0 rebuilt")})
    write(mirror.root / SUMS.lstrip("/"), f"{sha}  {name}.tar.xz\n")
    return sha


def _hits(mirror: MirrorServer, path: str) -> int:
    return sum(1 for p, _ in mirror.requests if p == path)


def test_stale_cached_checksum_is_dropped_and_fetched_again(
        settings: Settings, mirror: MirrorServer) -> None:
    _cache_checksums(settings)
    sha = _rebuild(mirror)
    [r] = install.install(settings, ["node@20.10.0"])
    assert r.created and r.record.origin and r.record.origin["sha256"] == sha
    assert (r.store_path / "bin/node").read_text().count("rebuilt") == 1
    assert _hits(mirror, SUMS) == 2  # cached once, read again after the mismatch
    # The fresh copy is what the cache holds now.
    n = len(mirror.requests)
    _cache_checksums(settings)
    assert len(mirror.requests) == n


def test_corrupt_artifact_fails_after_one_retry(omg_env: OmgEnv, mirror: MirrorServer,
                                                mirror_env: dict[str, str]) -> None:
    (mirror.root / TARBALL).write_bytes(b"not what SHASUMS256.txt says")
    proc = omg_env.run("install", "node@20.10.0", extra_env=mirror_env)
    assert proc.returncode == 5, proc.stderr
    err = proc.stderr.splitlines()
    assert err[0].startswith("error: ") and "checksum mismatch" in err[0]
    assert err[1].startswith("hint: retried once after fetching again ")
    assert f"{mirror.url}{SUMS}" in err[1]
    assert _hits(mirror, SUMS) == 2 and _hits(mirror, "/" + TARBALL) == 2
    store = omg_env.store()
    try:
        assert not list(store.records())
    finally:
        store.close()


def _age_all(omg_env: OmgEnv, seconds: float) -> None:
    store = omg_env.store()
    try:
        for key, value in store.index.items("upstream"):
            store.index.put("upstream", key, {**value, "t": time.time() - seconds})
    finally:
        store.close()


def test_list_remote_says_when_its_index_is_stale(omg_env: OmgEnv, mirror: MirrorServer,
                                                  mirror_env: dict[str, str]) -> None:
    proc = omg_env.run("list", "node", "--remote", "--json", extra_env=mirror_env, check=True)
    fresh = json.loads(proc.stdout)
    assert fresh and not any(r["stale"] for r in fresh) and "warning" not in proc.stderr
    _age_all(omg_env, get("node").index_ttl + 60)
    mirror.faults["/dist/index.json"] = [503, 503, 503]  # every retry fails
    proc = omg_env.run("list", "node", "--remote", "--json", extra_env=mirror_env, check=True)
    rows = json.loads(proc.stdout)
    assert [r["version"] for r in rows] == [r["version"] for r in fresh]
    assert all(r["stale"] for r in rows)
    assert proc.stderr.startswith("warning: node: upstream is unreachable")
    mirror.faults["/dist/index.json"] = [503, 503, 503]
    proc = omg_env.run("list", "node", "--remote", extra_env=mirror_env, check=True)
    assert "warning:" in proc.stderr and "20.12.0" in proc.stdout
