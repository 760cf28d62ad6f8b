"""`omg lock push` / `omg lock pull`: a project's lock and fingerprints on a cache
backend (file:// here; S3 against a real SeaweedFS in test_s3.py), signed with an
ed25519 key and verified against trusted keys on pull."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from omg import lock_cases
from omg.cache import keys
from tests.conftest import OmgEnv
from tests.lock.conftest import project


def _key(tmp: Path, name: str) -> tuple[Path, str]:
    secret = keys.generate(name)
    path = tmp / f"{name}.secret"
    keys.write_secret(path, secret)
    return path, secret.public().text


@pytest.fixture
def locked(lock_env: OmgEnv) -> Path:
    proj = project(lock_env.root, {".node-version": "20\n"})
    lock_env.run("lock", cwd=proj, check=True)
    return proj


def _checkout(root: Path, proj: Path) -> Path:
    """A teammate's checkout of the project: the version files, no lock."""
    other = root / "elsewhere" / proj.name
    other.mkdir(parents=True)
    shutil.copy(proj / ".node-version", other / ".node-version")
    return other


def test_push_then_pull_signed_round_trip(lock_env: OmgEnv, locked: Path,
                                          tmp_path: Path) -> None:
    secret, public = _key(tmp_path, "team-1")
    cache = tmp_path / "cache"
    url = f"file://{cache}"
    pushed = lock_env.run("lock", "push", url, "--secret-file", str(secret), cwd=locked,
                          check=True)
    assert "signed by team-1" in pushed.stdout
    assert sorted(p.name for p in (cache / "locks" / "proj").iterdir()) == [
        "fingerprint", "omg.lock", "omg.lock.sig"]
    assert (cache / "locks" / "proj" / "omg.lock").read_bytes() == \
        (locked / "omg.lock").read_bytes()
    fingerprint = lock_env.run("fingerprint", cwd=locked, check=True).stdout.strip()
    assert f"linux-x64-gnu {fingerprint}\n" in \
        (cache / "locks" / "proj" / "fingerprint").read_text()
    other = _checkout(tmp_path, locked)
    pulled = lock_env.run("lock", "pull", url, cwd=other, check=True,
                          extra_env={"OMG_TRUSTED_KEYS": public})
    assert "signed by team-1" in pulled.stdout and not pulled.stderr
    assert (other / "omg.lock").read_bytes() == (locked / "omg.lock").read_bytes()
    assert lock_env.run("fingerprint", cwd=other, check=True).stdout.strip() == fingerprint


def test_pull_refuses_unsigned_untrusted_or_tampered_locks(lock_env: OmgEnv, locked: Path,
                                                           tmp_path: Path) -> None:
    secret, public = _key(tmp_path, "team-1")
    _, stranger = _key(tmp_path, "stranger")
    cache = tmp_path / "cache"
    url = f"file://{cache}"
    unsigned = lock_env.run("lock", "push", url, "--name", "app", cwd=locked, check=True)
    assert "warning: unsigned" in unsigned.stderr
    other = _checkout(tmp_path, locked)
    # Trusting no key: taken, with a warning that it was not verified.
    plain = lock_env.run("lock", "pull", url, "--name", "app", cwd=other, check=True)
    assert "not verified" in plain.stderr
    (other / "omg.lock").unlink()
    trust = {"OMG_TRUSTED_KEYS": public}
    refused = lock_env.run("lock", "pull", url, "--name", "app", cwd=other, extra_env=trust)
    assert refused.returncode == 5
    assert refused.stderr.splitlines()[0] == (
        f"error: {url}/locks/app/omg.lock: refused: it is unsigned")
    assert not (other / "omg.lock").exists()
    lock_env.run("lock", "push", url, "--name", "app", "--secret-file", str(secret),
                 cwd=locked, check=True)
    wrong = lock_env.run("lock", "pull", url, "--name", "app", cwd=other,
                         extra_env={"OMG_TRUSTED_KEYS": stranger})
    assert wrong.returncode == 5 and "no trusted key signed it (team-1)" in wrong.stderr
    stored = cache / "locks" / "app" / "omg.lock"
    stored.write_text(stored.read_text().replace('"20"', '"21"'))
    tampered = lock_env.run("lock", "pull", url, "--name", "app", cwd=other, extra_env=trust)
    assert tampered.returncode == 5 and "refused" in tampered.stderr
    assert not (other / "omg.lock").exists()


def test_pull_of_a_missing_lock_and_bad_names(lock_env: OmgEnv, locked: Path,
                                             tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'cache'}"
    lock_env.run("lock", "push", url, cwd=locked, check=True)
    missing = lock_env.run("lock", "pull", url, "--name", "nosuch", cwd=locked)
    assert missing.returncode == 3
    assert missing.stderr.splitlines()[0] == (
        f"error: {url}: no lock locks/nosuch/omg.lock")
    bad = lock_env.run("lock", "pull", url, "--name", "../x", cwd=locked)
    assert bad.returncode == 2 and "invalid lock name '../x'" in bad.stderr
    with pytest.raises(Exception, match="invalid lock name"):
        lock_cases.lock_keys("")


def test_push_of_a_lock_that_is_not_utf8_is_a_usage_error(lock_env: OmgEnv, locked: Path,
                                                          tmp_path: Path) -> None:
    (locked / "omg.lock").write_bytes(b"format = 1\n\xff\n")
    done = lock_env.run("lock", "push", f"file://{tmp_path / 'cache'}", cwd=locked)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: cannot read {locked / 'omg.lock'}: 'utf-8'")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("omg.lock"))
