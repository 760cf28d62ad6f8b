"""Faults of a binary cache, end to end through the real command line and real servers.

Each fault gives one `error:` (or `warning:`) line, an exit code from the hierarchy,
and leaves the store as it was: `omg store verify` clean, no new store path, no
staging debris. The S3 cases run against SeaweedFS (tests/cache/servers.py).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.cache.servers import S3Auth, SeaweedFS, free_ports
from tests.conftest import OmgEnv
from tests.generations.helpers import cli_add


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
