"""Substitution from real servers: SeaweedFS (S3) and nginx (static HTTP), through the
fixtures of tests/cache/servers.py. Delta pulls count the GETs; refusals and
unreachable caches are one warning each and leave the store as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from omg.cache import keys, storage, substitute
from omg.cache import manifest as mf
from store.errors import IntegrityError
from store.layout import Layout
from store.local import LocalStore
from tests.cache.servers import Nginx, S3Auth
from tests.cache.subst_support import Counting, picture, push_path, verify_clean
from tests.cache.test_substitute import UPSTREAM_ORIGIN, closed_port, tree
from tests.conftest import make_env


def two_versions(tmp_path: Path) -> tuple[LocalStore, str, str]:
    """A store with node 1.0 and 1.1 that share every file but one."""
    a = LocalStore(Layout(tmp_path / "a"))
    one = a.add(tree(tmp_path / "v1", "1"), "node", "1.0", origin=UPSTREAM_ORIGIN)
    src2 = tree(tmp_path / "v2", "2")
    (src2 / "lib" / "big.bin").write_bytes((tmp_path / "v1/lib/big.bin").read_bytes())
    two = a.add(src2, "node", "1.1", origin=UPSTREAM_ORIGIN)
    return a, one.record.path, two.record.path


def test_s3_pull_then_a_delta_fetches_only_the_changed_object(
        tmp_path: Path, s3_cache: str) -> None:
    a, one, two = two_versions(tmp_path)
    secret = keys.generate("team")
    push_path(a.layout, s3_cache, one, secret)
    push_path(a.layout, s3_cache, two, secret)
    b = LocalStore(Layout(tmp_path / "b"))
    counting = Counting(storage.open_storage(s3_cache))
    warned: list[str] = []
    subst = substitute.Substituter(b, [s3_cache], [secret.public()], "alice", warned.append)
    subst._open[s3_cache] = counting  # the same S3 storage, its GETs counted
    got = subst.runtime("node", "1.0", "linux-x64-gnu")
    assert got is not None and got.record.path == one and got.fetched == 5
    counting.gets.clear()
    got = subst.runtime("node", "1.1", "linux-x64-gnu")
    assert got is not None and got.record.path == two
    changed = next(e[2] for e in a.entries(two) if e[0] == "lib/changes.txt")
    assert counting.objects() == [mf.object_key(changed)]
    assert warned == []
    verify_clean(b)
    subst.close()


def test_http_pull_and_a_tampered_object_on_the_server(
        tmp_path: Path, http_cache: tuple[Path, str]) -> None:
    directory, url = http_cache
    a, one, two = two_versions(tmp_path)
    secret = keys.generate("team")
    push_path(a.layout, directory.as_uri(), one, secret)
    push_path(a.layout, directory.as_uri(), two, secret)
    b = LocalStore(Layout(tmp_path / "b"))
    changed = next(e[2] for e in a.entries(two) if e[0] == "lib/changes.txt")
    obj = directory / mf.object_key(changed)
    obj.chmod(0o644)
    import zstandard

    obj.write_bytes(zstandard.ZstdCompressor().compress(b"version 3\n"))
    warned: list[str] = []
    subst = substitute.Substituter(b, [url], [secret.public()], "alice", warned.append)
    got = subst.runtime("node", "1.0", "linux-x64-gnu")
    assert got is not None and got.record.path == one
    before = picture(b.layout)
    assert subst.runtime("node", "1.1", "linux-x64-gnu") is None
    assert picture(b.layout) == before
    assert len(warned) == 1 and warned[0].startswith(f"{url}: ")
    assert "does not match its name; falling back to upstream" in warned[0]
    verify_clean(b)
    subst.close()


def test_forbidden_unreachable_and_missing_caches_fall_back_with_one_warning_each(
        tmp_path: Path, http_cache: tuple[Path, str], nginx: Nginx, s3_cache: str) -> None:
    directory, url = http_cache
    a, one, _ = two_versions(tmp_path)
    secret = keys.generate("team")
    push_path(a.layout, directory.as_uri(), one, secret)
    b = LocalStore(Layout(tmp_path / "b"))
    bad = [f"{nginx.base}/forbidden/cache", f"http://127.0.0.1:{closed_port()}/cache",
           s3_cache.replace("s3://", "s3://no-such-bucket-x", 1), f"{nginx.base}/absent"]
    warned: list[str] = []
    subst = substitute.Substituter(b, [*bad, url], [secret.public()], "alice",
                                   warned.append, timeout=2)
    got = subst.runtime("node", "1.0", "linux-x64-gnu")
    assert got is not None and got.record.path == one
    assert [w.split(": ", 1)[0] for w in warned] == [storage.redact(u) for u in bad]
    assert all(w.endswith("; falling back to upstream") for w in warned)
    verify_clean(b)
    assert not os.listdir(b.layout.staging) or all(
        n.endswith(".lock") for n in os.listdir(b.layout.staging))
    subst.close()


def test_wrong_credentials_fall_back_with_one_warning(
        tmp_path: Path, s3_cache_auth: S3Auth, monkeypatch: pytest.MonkeyPatch) -> None:
    a, one, _ = two_versions(tmp_path)
    secret = keys.generate("team")
    push_path(a.layout, s3_cache_auth.url, one, secret)  # anonymous may write here
    for k, v in s3_cache_auth.env(s3_cache_auth.wrong).items():
        monkeypatch.setenv(k, v)
    b = LocalStore(Layout(tmp_path / "b"))
    warned: list[str] = []
    subst = substitute.Substituter(b, [s3_cache_auth.url], [secret.public()], "alice",
                                   warned.append)
    before = picture(b.layout)
    assert subst.runtime("node", "1.0", "linux-x64-gnu") is None
    assert picture(b.layout) == before
    assert len(warned) == 1 and "access denied" in warned[0], warned
    subst.close()


def test_a_truncated_object_is_refused(tmp_path: Path, s3_cache: str) -> None:
    a, one, _ = two_versions(tmp_path)
    secret = keys.generate("team")
    push_path(a.layout, s3_cache, one, secret)
    st = storage.open_storage(s3_cache)
    big = next(e[2] for e in a.entries(one) if e[0] == "lib/big.bin")
    whole = st.get(mf.object_key(big)) or b""
    st.put(mf.object_key(big), whole[: len(whole) // 2])
    b = LocalStore(Layout(tmp_path / "b"))
    before = picture(b.layout)
    with pytest.raises(IntegrityError, match=f"object {big}"):
        substitute.pull(b, st, one, [secret.public()], "alice")
    assert picture(b.layout) == before
    verify_clean(b)


def test_a_killed_pulls_downloads_are_removed_by_the_next(tmp_path: Path) -> None:
    a, one, _ = two_versions(tmp_path)
    secret = keys.generate("team")
    url = f"file://{tmp_path}/cache"
    push_path(a.layout, url, one, secret)
    b = LocalStore(Layout(tmp_path / "b"))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    debris = b.layout.home / "tmp" / f"pull-{dead.pid}-0123abcd"
    debris.mkdir(parents=True)
    (debris / "x.zst").write_bytes(b"half")
    live = b.layout.home / "tmp" / f"pull-{os.getpid()}-0123abcd"
    live.mkdir()
    assert substitute.pull(b, storage.open_storage(url), one, [secret.public()],
                           "alice") is not None
    assert not debris.exists() and live.is_dir()


def test_two_pulls_of_one_path_at_once(tmp_path: Path) -> None:
    a, one, _ = two_versions(tmp_path)
    secret = keys.generate("team")
    url = f"file://{tmp_path}/cache"
    push_path(a.layout, url, one, secret)
    env = make_env(tmp_path / "b")
    run = {**env.env, "OMG_TRUSTED_KEYS": secret.public().text}
    procs = [subprocess.Popen([sys.executable, "-m", "omg", "cache", "pull", url, one],
                              env=run, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert env.run("store", "verify").returncode == 0
    assert [c["kind"] for c in env.store().claims(one)] == ["cache"]
