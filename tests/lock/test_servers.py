"""`omg lock push` / `pull` against real servers: a SeaweedFS S3 bucket, and nginx
serving a file:// cache read-only over HTTP (tests/cache/servers.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from omg.cache import keys
from tests.conftest import OmgEnv
from tests.lock.conftest import project

pytestmark = pytest.mark.slow


def _env(env: OmgEnv) -> None:
    for k in [k for k in env.env if k.startswith("AWS_")]:
        del env.env[k]  # anonymous, as the bucket fixture is


def _setup(lock_env: OmgEnv, tmp_path: Path) -> tuple[Path, Path, Path, str]:
    _env(lock_env)
    proj = project(lock_env.root, {".node-version": "20\n"})
    lock_env.run("lock", cwd=proj, check=True)
    secret = keys.generate("team")
    keys.write_secret(tmp_path / "team.secret", secret)
    other = tmp_path / "checkout" / "proj"
    other.mkdir(parents=True)
    shutil.copy(proj / ".node-version", other)
    return proj, other, tmp_path / "team.secret", secret.public().text


def test_push_and_pull_through_s3(lock_env: OmgEnv, tmp_path: Path, s3_cache: str) -> None:
    proj, other, secret, public = _setup(lock_env, tmp_path)
    lock_env.run("lock", "push", s3_cache, "--name", "web", "--secret-file", str(secret),
                 cwd=proj, check=True)
    pulled = lock_env.run("lock", "pull", s3_cache, "--name", "web", cwd=other, check=True,
                          extra_env={"OMG_TRUSTED_KEYS": public})
    assert "signed by team" in pulled.stdout
    assert (other / "omg.lock").read_bytes() == (proj / "omg.lock").read_bytes()
    missing = lock_env.run("lock", "pull", s3_cache, "--name", "nosuch", cwd=other)
    assert missing.returncode == 3 and "no lock locks/nosuch/omg.lock" in missing.stderr


def test_pull_over_http_from_nginx(lock_env: OmgEnv, tmp_path: Path,
                                   http_cache: tuple[Path, str]) -> None:
    proj, other, secret, public = _setup(lock_env, tmp_path)
    directory, base = http_cache
    lock_env.run("lock", "push", f"file://{directory}", "--secret-file", str(secret),
                 cwd=proj, check=True)
    lock_env.run("lock", "pull", base, "--name", "proj", cwd=other, check=True,
                 extra_env={"OMG_TRUSTED_KEYS": public})
    assert (other / "omg.lock").read_bytes() == (proj / "omg.lock").read_bytes()
    refused = lock_env.run("lock", "push", base, cwd=proj)
    assert refused.returncode == 2 and "read-only" in refused.stderr
