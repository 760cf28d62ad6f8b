"""Faults of a binary cache, end to end through the real command line and real servers.

Each fault gives one `error:` (or `warning:`) line, an exit code from the hierarchy,
and leaves the store as it was: `omg store verify` clean, no new store path, no
staging debris. The S3 cases run against SeaweedFS (tests/cache/servers.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

from omg.cache import keys
from omg.cache import manifest as M
from omg.cache.storage import open_storage, parse_s3
from tests.cache.servers import S3Auth, SeaweedFS, free_ports
from tests.conftest import OmgEnv, make_env
from tests.generations.helpers import cli_add, fake_tool

ORIGIN = {"url": "https://nodejs.org/dist/v1.0.0/node-v1.0.0-linux-x64.tar.xz",
          "sha256": "00" * 32}


def keygen(env: OmgEnv, name: str = "faults-1") -> tuple[Path, str]:
    """(secret key file, public key text) made by `omg cache keygen`."""
    path = env.root / f"{name}.secret"
    out = env.run("cache", "keygen", name, "--secret-file", str(path), check=True).stdout
    return path, out.strip()


def one_error(proc: subprocess.CompletedProcess[str], code: int, *texts: str) -> str:
    """The `error:` line of a failed command (and at most a `hint:` after it)."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), proc.stderr
    assert all(not line or line.startswith("hint: ") for line in lines[1:]), proc.stderr
    for text in texts:
        assert text in lines[0], proc.stderr
    return lines[0]


# A push to a cache that is missing, forbidden or down --------------------------------

def test_a_push_to_a_missing_bucket_is_not_found(omg_env: OmgEnv, seaweedfs: SeaweedFS,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    name = cli_add(omg_env, "node", "1.0.0")
    secret, _ = keygen(omg_env)
    url = seaweedfs.url("omg-missing-bucket")
    proc = omg_env.run("cache", "push", url, name, "--secret-file", str(secret))
    one_error(proc, 3, url, "the bucket 'omg-missing-bucket' does not exist")


@pytest.mark.parametrize("who, code, text", [
    ("wrong", 9, "access denied: cannot read omg-cache.json as omgtestadmin"),
    ("reader", 9, "access denied: cannot write omg-cache.json as omgtestreader"),
])
def test_a_push_with_wrong_or_read_only_credentials_is_permission_denied(
        omg_env: OmgEnv, s3_cache_auth: S3Auth, who: str, code: int, text: str) -> None:
    name = cli_add(omg_env, "node", "1.0.0")
    secret, _ = keygen(omg_env)
    key = s3_cache_auth.wrong if who == "wrong" else s3_cache_auth.reader
    proc = omg_env.run("cache", "push", s3_cache_auth.url, name, "--secret-file", str(secret),
                       extra_env=s3_cache_auth.env(key))
    one_error(proc, code, s3_cache_auth.url, text)
    assert not _bucket_has(s3_cache_auth, "omg-cache.json")


def _bucket_has(auth: S3Auth, key: str) -> bool:
    from omg.cache.storage import open_storage

    return open_storage(auth.url).exists(key)  # anonymous reads are allowed there


@pytest.mark.parametrize("url", ["s3://bucket?endpoint=http://127.0.0.1:{port}&region=r",
                                 "http://127.0.0.1:{port}/cache"])
def test_a_push_to_an_unreachable_or_read_only_cache_fails_at_once(omg_env: OmgEnv,
                                                                   url: str) -> None:
    name = cli_add(omg_env, "node", "1.0.0")
    secret, _ = keygen(omg_env)
    url = url.format(port=free_ports(1)[0])
    start = time.monotonic()
    proc = omg_env.run("cache", "push", url, name, "--secret-file", str(secret))
    if url.startswith("s3"):
        one_error(proc, 6, url, "cannot connect")
    else:  # read-only: refused before any request
        one_error(proc, 2, "read-only")
    assert time.monotonic() - start < 60


# Pulls of what a fault left behind ----------------------------------------------------

def add_node(env: OmgEnv, files: int = 3, size: int = 100) -> str:
    """node 1.0.0 as a provider would record it (so it is indexed), with `files` extra
    files of `size` random bytes (as hex text); its store path name."""
    extra = {f"lib/node_modules/f{i}.js": os.urandom(size // 2).hex() for i in range(files)}
    src = fake_tool(env.root, "node", "1.0.0", extra=extra)
    with contextlib.closing(env.store()) as store:
        return store.add(src, "node", "1.0.0", origin=dict(ORIGIN)).record.path


def push_cmd(env: OmgEnv, url: str, name: str, secret: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "omg", "cache", "push", url, name, "--secret-file",
            str(secret), *options]


def puller(tmp_path: Path, public: str) -> OmgEnv:
    """A second machine: its own OMG_HOME, trusting `public`, with a path of its own."""
    env = make_env(tmp_path / "puller")
    env.env["OMG_TRUSTED_KEYS"] = public
    cli_add(env, "deno", "1.0.0")
    return env


def state(env: OmgEnv) -> set[str]:
    """The store path names of `env`'s store."""
    return {p.name for p in (env.home / "store").iterdir()
            if not p.name.startswith(".") and p.is_dir()}


def pool(env: OmgEnv) -> set[str]:
    """The contents the store's pool (``store/.links``) holds."""
    links = env.home / "store" / ".links"
    return {p.name for p in links.iterdir()} if links.exists() else set()


def assert_unchanged(env: OmgEnv, before: set[str], pool_before: set[str]) -> None:
    """No new store path nor pool entry, no staging or pull debris, `omg store verify`
    clean."""
    assert state(env) == before
    assert pool(env) == pool_before
    staging = env.home / "store" / ".staging"
    assert not staging.exists() or list(staging.iterdir()) == []
    assert list((env.home / "tmp").glob("pull-*")) == []
    verify = env.run("store", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def assert_same_tree(a: OmgEnv, b: OmgEnv, name: str) -> None:
    root_a, root_b = a.home / "store" / name, b.home / "store" / name
    files_a = sorted(p.relative_to(root_a) for p in root_a.rglob("*"))
    assert files_a == sorted(p.relative_to(root_b) for p in root_b.rglob("*"))
    for rel in files_a:
        pa, pb = root_a / rel, root_b / rel
        if pa.is_file() and not pa.is_symlink():
            assert pa.read_bytes() == pb.read_bytes(), rel


@pytest.mark.slow
def test_a_push_killed_half_way_leaves_nothing_a_pull_accepts_and_the_next_completes(
        omg_env: OmgEnv, seaweedfs: SeaweedFS, s3_cache: str, tmp_path: Path) -> None:
    name = add_node(omg_env, files=400, size=16 << 10)
    secret, public = keygen(omg_env)
    bucket = parse_s3(s3_cache).bucket
    proc = subprocess.Popen(push_cmd(omg_env, s3_cache, name, secret, "--jobs", "1"),
                            env=omg_env.env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(seaweedfs.listing(bucket, "objects")) < 5:
            assert proc.poll() is None, "the push ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert 5 <= len(seaweedfs.listing(bucket, "objects")) < 400
    assert seaweedfs.listing(bucket, "paths") == []
    other = puller(tmp_path, public)
    before, pool_before = state(other), pool(other)
    for item in (name, "node@1.0.0"):
        one_error(other.run("cache", "pull", s3_cache, item), 3, f"no {item} in this cache")
    assert_unchanged(other, before, pool_before)

    again = subprocess.run(push_cmd(omg_env, s3_cache, name, secret), env=omg_env.env,
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert f"pushed {name}" in again.stdout
    other.run("cache", "pull", s3_cache, "node@1.0.0", check=True)
    assert state(other) == before | {name}
    assert_same_tree(omg_env, other, name)
    assert other.run("store", "verify").returncode == 0


def test_two_pushes_at_once_both_succeed_and_the_result_pulls(
        omg_env: OmgEnv, s3_cache: str, tmp_path: Path) -> None:
    name = add_node(omg_env, files=120, size=4 << 10)
    secret, public = keygen(omg_env)
    procs = [subprocess.Popen(push_cmd(omg_env, s3_cache, name, secret, "--jobs", "3",
                                       "--json"),
                              env=omg_env.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all(name in [p["name"] for p in json.loads(out)["pushed"] + json.loads(out)[
        "present"]] for out, _ in outs)
    other = puller(tmp_path, public)
    before = state(other)
    pulled = other.run("cache", "pull", s3_cache, "node@1.0.0", check=True)
    assert f"pulled {name}" in pulled.stdout
    assert state(other) == before | {name}
    assert_same_tree(omg_env, other, name)
    assert other.run("store", "verify").returncode == 0


def _damage_object(cache: Path, m: M.Manifest, how: str) -> None:
    """One object of `m` made wrong: another content's frame, or not zstd at all."""
    digest = max(M.objects(m), key=lambda o: o.size).digest
    path = cache / M.object_key(digest)
    path.chmod(0o644)
    if how == "other content":
        path.write_bytes(zstandard.ZstdCompressor().compress(b"not what was pushed\n"))
    else:
        path.write_bytes(b"\x28\xb5\x2f\xfd garbage" * 10)


def _damage_manifest(cache: Path, name: str, how: str) -> None:
    path = cache / M.manifest_key(name)
    raw = path.read_bytes()
    if how == "truncated manifest":
        path.write_bytes(raw[: len(raw) // 2])
        return
    doc = json.loads(raw)
    if how == "tampered manifest":  # a file's size changed, the signature kept
        entry = next(e for e in doc["tree"] if e[1] in "fx")
        entry[3] += 1
        doc["size"] += 1
    else:  # "untrusted signer": re-signed by a key the puller does not trust
        m = M.decode(raw, "k", expect_name=name)
        unsigned = dataclasses.replace(m, signatures=())
        doc = json.loads(M.encode(M.sign(unsigned, keys.generate("evil"))))
    path.write_bytes(json.dumps(doc).encode())


@pytest.mark.parametrize("how, code, text", [
    ("other content", 5, "its content does not match its name"),
    ("not zstd", 5, "corrupt"),
    ("truncated manifest", 5, ""),
    ("tampered manifest", 5, "not signed by a trusted key"),
    ("untrusted signer", 5, "not signed by a trusted key (signed by evil)"),
])
def test_a_damaged_cache_entry_is_refused_and_the_store_is_unchanged(
        omg_env: OmgEnv, tmp_path: Path, how: str, code: int, text: str) -> None:
    name = add_node(omg_env, files=5, size=4096)
    secret, public = keygen(omg_env)
    cache = tmp_path / "cache"
    subprocess.run(push_cmd(omg_env, cache.as_uri(), name, secret), env=omg_env.env,
                   check=True, capture_output=True)
    m = M.decode((cache / M.manifest_key(name)).read_bytes(), "k", expect_name=name)
    if how in ("other content", "not zstd"):
        _damage_object(cache, m, how)
    else:
        _damage_manifest(cache, name, how)
    other = puller(tmp_path, public)
    before, pool_before = state(other), pool(other)
    for item in (name, "node@1.0.0"):
        line = one_error(other.run("cache", "pull", cache.as_uri(), item), code, text)
        assert cache.as_uri() in line or M.manifest_key(name) in line, line
    assert_unchanged(other, before, pool_before)


@pytest.mark.parametrize("who", ["missing bucket", "wrong secret"])
def test_a_pull_from_a_missing_bucket_or_with_wrong_credentials_is_one_line(
        omg_env: OmgEnv, s3_cache_auth: S3Auth, tmp_path: Path, who: str) -> None:
    name = add_node(omg_env)
    secret, public = keygen(omg_env)
    subprocess.run(push_cmd(omg_env, s3_cache_auth.url, name, secret), env=omg_env.env,
                   check=True, capture_output=True)
    other = puller(tmp_path, public)
    before, pool_before = state(other), pool(other)
    if who == "missing bucket":
        url, extra, code = s3_cache_auth.server.url("omg-missing-bucket"), {}, 3
        text = "the bucket 'omg-missing-bucket' does not exist"
    else:
        url, extra, code = s3_cache_auth.url, s3_cache_auth.env(s3_cache_auth.wrong), 9
        text = "access denied"
    one_error(other.run("cache", "pull", url, "node@1.0.0", extra_env=extra), code, url, text)
    assert_unchanged(other, before, pool_before)
    assert open_storage(s3_cache_auth.url).exists(M.manifest_key(name))
