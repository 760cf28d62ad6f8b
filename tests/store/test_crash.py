"""Invariant 1 under fault injection: SIGKILL an ingest at random moments.

Afterwards every store path visible under a final name is complete and hashes
to its name (`omg store verify`), and the next ingest removes the debris and
succeeds. Debris cleaning itself is tested without processes too: a staging
area is an owner's exactly while its lock file is flocked, so no grace period
(and no sleeping) is involved.
"""

from __future__ import annotations

import fcntl
import io
import os
import random
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from store.ingest import clean_debris
from store.layout import Layout, store_hash_of
from tests.conftest import OmgEnv

FILES = 3000


def _big_tar(path: Path, unique: str, payloads: list[bytes]) -> Path:
    with tarfile.open(path, "w") as tf:
        for i, data in enumerate(payloads):
            ti = tarfile.TarInfo(f"big/d{i % 30:02}/f{i:05}")
            ti.size, ti.mode = len(data), 0o755 if i % 7 == 0 else 0o644
            tf.addfile(ti, io.BytesIO(data))
        marker = unique.encode()
        ti = tarfile.TarInfo("big/UNIQUE")
        ti.size = len(marker)
        tf.addfile(ti, io.BytesIO(marker))
    return path


def _start(env: OmgEnv, archive: Path, version: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "omg", "store", "add", str(archive),
                             "-n", "big", "-v", version], env=env.env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _check_store(env: OmgEnv) -> list[str]:
    """Every non-dot entry is a sealed store path with its record, or a record."""
    store = env.layout.store
    paths = []
    for name in os.listdir(store):
        if name.startswith("."):
            assert name in (".staging", ".links") or name.startswith(".pending-") \
                or ".meta.tmp-" in name, name
            continue
        if name.endswith(".meta"):
            continue
        assert store_hash_of(name), name
        assert (store / (name + ".meta")).exists(), f"{name} has no record"
        assert os.stat(store / name).st_mode & 0o222 == 0, f"{name} is writable"
        paths.append(name)
    return paths


def _variant(payloads: list[bytes], variant: str) -> list[bytes]:
    """Every third file changed for this variant, the rest as in the first path.

    So a killed ingest is caught writing new files, linking known ones from the
    pool (a duplicate costs one link(2), no write) or publishing.
    """
    if variant == "0":
        return payloads
    return [variant.encode() + p if i % 3 == 0 else p for i, p in enumerate(payloads)]


@pytest.mark.slow
def test_sigkill_during_ingest_leaves_only_debris(tmp_path: Path, omg_env: OmgEnv) -> None:
    seed = int(os.environ.get("OMG_CRASH_SEED", time.time()))
    rnd = random.Random(seed)
    payloads = [rnd.randbytes(rnd.randint(1, 16_000)) for _ in range(FILES)]
    archive = _big_tar(tmp_path / "big-0.tar", "0", payloads)
    first = _start(omg_env, archive, "0")
    _out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    # One undisturbed run of the kind that is killed calibrates how long it takes here.
    archive = _big_tar(tmp_path / "big-cal.tar", "cal", _variant(payloads, "cal"))
    start = time.monotonic()
    cal = _start(omg_env, archive, "cal")
    _out, err = cal.communicate(timeout=300)
    duration = time.monotonic() - start
    assert cal.returncode == 0, err
    killed = 0
    for run in range(1, 13):
        # A fresh variant each run, so publishing (not only unpacking) can be hit;
        # every second run re-adds the first content (known archive bytes).
        variant = str(run) if run % 2 else "0"
        archive = _big_tar(tmp_path / f"big-{run}.tar", variant, _variant(payloads, variant))
        proc = _start(omg_env, archive, variant)
        time.sleep(rnd.uniform(0.05, duration * 1.1))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=60)
        paths = _check_store(omg_env)
        assert paths, "the first path must survive"
    assert killed >= 3, f"seed {seed}: the ingests ended before the kills ({duration:.2f} s)"
    verify = omg_env.run("store", "verify")
    assert verify.returncode == 0, f"seed {seed}: {verify.stderr}"
    # The next ingest cleans every dead owner's debris and succeeds.
    archive = _big_tar(tmp_path / "big-last.tar", "last", _variant(payloads, "last"))
    last = omg_env.run("store", "add", str(archive), "-n", "big", "-v", "last")
    assert last.returncode == 0, last.stderr
    assert os.listdir(omg_env.layout.staging) == []
    assert not list(omg_env.layout.store.glob(".pending-*"))
    paths = _check_store(omg_env)
    assert Path(last.stdout.strip()).name in paths
    omg_env.run("store", "verify", check=True)
    listed = omg_env.run("store", "ls", "--json", check=True).stdout
    for name in paths:
        assert name in listed


def test_clean_debris_removes_dead_owners_only(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "omg")
    layout.staging.mkdir(parents=True)
    # A dead owner: a lock file nobody holds, its work dir and its pending root.
    (layout.staging / "1-dead.lock").touch()
    (layout.staging / "1-dead" / "tree").mkdir(parents=True)
    pending = layout.store / ".pending-1-dead"
    (pending / "sub").mkdir(parents=True)
    (pending / "sub" / "f").write_bytes(b"x")
    os.chmod(pending / "sub", 0o555)
    os.chmod(pending, 0o555)
    # A live owner: its lock is flocked (by us, on another open file description).
    live = layout.staging / "2-live.lock"
    fd = os.open(live, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    (layout.staging / "2-live").mkdir()
    (layout.store / ".pending-2-live").mkdir()
    # Died while creating its lock; died while cleaning up after itself (lock gone).
    (layout.staging / "3-new.lock-new").touch()
    (layout.staging / "4-orphan").mkdir()
    (layout.store / ".pending-5-orphan").mkdir()
    try:
        removed = clean_debris(layout)
        assert sorted(removed) == ["1-dead", "4-orphan", "5-orphan"]
        assert sorted(os.listdir(layout.staging)) == ["2-live", "2-live.lock"]
        assert sorted(p.name for p in layout.store.glob(".pending-*")) == [".pending-2-live"]
    finally:
        os.close(fd)
    assert sorted(clean_debris(layout)) == ["2-live"]
    assert os.listdir(layout.staging) == []
    assert not list(layout.store.glob(".pending-*"))
