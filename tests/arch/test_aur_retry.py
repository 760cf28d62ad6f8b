"""The AUR client asks again after HTTP 429 (aurweb's rate limit) and 503, as told by
Retry-After, and gives up with one clear line (exit 6) when the AUR does not recover."""

from __future__ import annotations

import time
from email.utils import formatdate
from pathlib import Path

import pytest

from omg.arch import aur
from store.errors import NotFound
from tests.arch.conftest import ArchWorld
from tests.conftest import OmgEnv
from tests.schema import check


def rpc_requests(world: ArchWorld) -> list[str]:
    return [r for r in world.aur.requests if r.startswith("/rpc")]


def test_rate_limited_twice_then_answered(world: ArchWorld, aenv: OmgEnv) -> None:
    world.aur.fail_next(2, "ratelimit", retry_after=1)
    start = time.monotonic()
    proc = aenv.run("info", "aur/aur-tool", "--json")
    assert proc.returncode == 0, proc.stderr
    assert check("info", proc.stdout)["version"] == "2.0-1"
    assert len(rpc_requests(world)) == 3 and time.monotonic() - start >= 2  # waited
    assert proc.stderr == ""


def test_unavailable_once_then_answered(world: ArchWorld, aenv: OmgEnv) -> None:
    world.aur.fail_next(1, "unavailable", retry_after=1)
    proc = aenv.run("info", "aur/aur-app")
    assert proc.returncode == 0, proc.stderr
    assert len(rpc_requests(world)) == 2


def test_rate_limited_for_good_is_one_error_line(world: ArchWorld, aenv: OmgEnv) -> None:
    world.aur.mode, world.aur.retry_after = "ratelimit", 1
    proc = aenv.run("info", "aur/aur-tool")
    assert proc.returncode == 6
    host = world.aur.url.removeprefix("http://")
    assert proc.stderr.splitlines() == [
        f"error: AUR rate limit reached (HTTP 429 from {host}) after 4 attempts"]
    assert len(rpc_requests(world)) == 1 + aur.RETRIES


def test_a_long_retry_after_fails_at_once(world: ArchWorld, aenv: OmgEnv) -> None:
    world.aur.mode, world.aur.retry_after = "ratelimit", 3600
    proc = aenv.run("info", "aur/aur-tool")
    assert proc.returncode == 6
    assert proc.stderr.strip().endswith("asked to wait 3600 s")
    assert len(rpc_requests(world)) == 1
    # search: the repositories' results and one warning, not an error
    found = aenv.run("search", "python")
    assert found.returncode == 0 and "testrepo/python" in found.stdout
    assert found.stderr.splitlines() == [
        f"warning: AUR rate limit reached (HTTP 429 from "
        f"{world.aur.url.removeprefix('http://')}): asked to wait 3600 s; "
        "showing repository results only"]


def test_retry_after_forms() -> None:
    assert aur._retry_after("7", 0) == 7.0
    assert aur._retry_after(None, 0) == 1.0 and aur._retry_after("soon", 2) == 4.0
    later = aur._retry_after(formatdate(time.time() + 20, usegmt=True), 0)
    assert 15 < later <= 20
    assert aur._retry_after(formatdate(time.time() - 20, usegmt=True), 0) == 0.0


def test_snapshot_download_is_retried_too(world: ArchWorld, tmp_path: Path) -> None:
    world.aur.fail_next(1, "ratelimit", retry_after=1)
    got = aur.download_snapshot(world.aur.url, "aur-tool", tmp_path)
    assert got.read_bytes() == world.aur.snapshot("aur-tool")
    snaps = [r for r in world.aur.requests if r.startswith("/cgit/")]
    assert snaps == ["/cgit/aur.git/snapshot/aur-tool.tar.gz"] * 2
    with pytest.raises(NotFound, match="no AUR snapshot for no-such-base"):
        aur.download_snapshot(world.aur.url, "no-such-base", tmp_path)
