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
from typing import Any

import pytest

from store.ingest import clean_debris, staging_area
from store.layout import Layout, store_hash_of
from tests.conftest import OmgEnv
from tests.store.builders import deep_dirs

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
            assert name in (".staging", ".links", ".claims") or name.startswith(".pending-") \
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
    # At least 12 runs; more (up to 24) while fewer than 3 were caught mid-ingest: on a
    # machine whose load drops after the calibration, ingests can outrun the sleeps.
    for run in range(1, 25):
        if run > 12 and killed >= 3:
            break
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


def _id(n: int) -> str:
    """A staging id as `store.ingest` makes them: ``<pid>-<12 hex digits>``."""
    return f"{n}-{n:012x}"


def test_clean_debris_removes_dead_owners_only(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "omg")
    layout.staging.mkdir(parents=True)
    dead, live, new, orphan = _id(1), _id(2), _id(3), _id(4)
    # A dead owner: a lock file nobody holds, its work dir and its pending root.
    (layout.staging / f"{dead}.lock").touch()
    (layout.staging / dead / "tree").mkdir(parents=True)
    pending = layout.store / f".pending-{dead}"
    (pending / "sub").mkdir(parents=True)
    (pending / "sub" / "f").write_bytes(b"x")
    os.chmod(pending / "sub", 0o555)
    os.chmod(pending, 0o555)
    # A live owner: its lock is flocked (by us, on another open file description).
    live_lock = layout.staging / f"{live}.lock"
    fd = os.open(live_lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    (layout.staging / live).mkdir()
    (layout.store / f".pending-{live}").mkdir()
    # Died while creating its lock; a work dir without its lock file (older omg).
    (layout.staging / f"{new}.lock-new").touch()
    (layout.staging / orphan).mkdir()
    try:
        removed = clean_debris(layout)
        assert sorted(removed) == [dead, orphan]
        assert sorted(os.listdir(layout.staging)) == [live, f"{live}.lock"]
        assert [p.name for p in layout.store.glob(".pending-*")] == [f".pending-{live}"]
    finally:
        os.close(fd)
    assert sorted(clean_debris(layout)) == [live]
    assert os.listdir(layout.staging) == []
    assert not list(layout.store.glob(".pending-*"))


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_a_deep_staging_area_is_cleaned_up(deep_tmp: Path) -> None:
    """Removal is iterative: a sealed tree 3,000 deep (longer than PATH_MAX) goes."""
    layout = Layout(deep_tmp / "omg")
    fds = _open_fds()
    with staging_area(layout) as (work_id, work):
        deep_dirs(work / "tree", 3000, mode=0o555)
        pending = layout.store / f".pending-{work_id}"
        deep_dirs(pending, 3000, mode=0o555)
    assert os.listdir(layout.staging) == []
    assert not pending.exists()
    assert _open_fds() == fds


def test_a_failed_cleanup_keeps_the_error_and_closes_the_lock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ingest's own error reaches the caller, the lock's descriptor is closed
    (omgd once leaked one per attempt), and the lock file stays for the next
    clean_debris, which finishes the job."""
    import store.ingest as ingest_mod

    layout = Layout(tmp_path / "omg")
    real_remove = ingest_mod.force_remove

    def failing(path: object) -> None:
        raise OSError(5, "Input/output error", str(path))

    fds = _open_fds()
    monkeypatch.setattr(ingest_mod, "force_remove", failing)
    with pytest.raises(ValueError, match="the ingest's own error"), \
            staging_area(layout) as (work_id, work):
        (work / "tree").mkdir()
        raise ValueError("the ingest's own error")
    assert _open_fds() == fds
    assert sorted(os.listdir(layout.staging)) == [work_id, f"{work_id}.lock"]
    with staging_area(layout) as (second_id, work):  # a successful one, same failure
        (work / "tree").mkdir()
    assert _open_fds() == fds
    monkeypatch.setattr(ingest_mod, "force_remove", real_remove)
    assert sorted(clean_debris(layout)) == sorted([work_id, second_id])
    assert os.listdir(layout.staging) == []


def test_clean_debris_never_raises_on_what_it_cannot_handle(
        deep_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Debris it cannot parse or remove is reported and skipped; the rest goes.

    A cleaner that raised stopped every later ingest, and omgd at start-up.
    """
    import store.ingest as ingest_mod

    layout = Layout(deep_tmp / "omg")
    layout.staging.mkdir(parents=True)
    (layout.staging / "odd.lock").mkdir()  # not a lock file at all
    (layout.staging / "odd.lock" / "x").touch()
    stuck, deep = _id(7), _id(8)
    (layout.staging / f"{stuck}.lock").touch()
    (layout.staging / stuck).mkdir()
    (layout.staging / f"{deep}.lock").touch()
    deep_dirs(layout.staging / deep, 3000, mode=0o555)
    deep_dirs(layout.store / f".pending-{deep}", 3000, mode=0o555)
    real_remove = ingest_mod.force_remove

    def failing(path: str | os.PathLike[str]) -> None:
        if os.path.basename(path) == stuck:
            raise PermissionError(1, "Operation not permitted", str(path))
        real_remove(path)

    monkeypatch.setattr(ingest_mod, "force_remove", failing)
    reported: list[str] = []
    assert clean_debris(layout, report=reported.append) == [deep]
    assert sorted(os.listdir(layout.staging)) == [stuck, f"{stuck}.lock", "odd.lock"]
    assert not (layout.store / f".pending-{deep}").exists()
    assert len(reported) == 2 and all("\n" not in line for line in reported)
    assert any(stuck in line and "Operation not permitted" in line for line in reported)
    assert any("odd.lock" in line for line in reported)
    assert clean_debris(layout) == []  # without a report callback: silent, no error


def test_clean_debris_reads_only_the_staging_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its cost must not grow with the store: it once globbed all of store/ on
    every ingest (bulk ingest was quadratic)."""
    from store.layout import RECORD_SUFFIX

    layout = Layout(tmp_path / "omg")
    layout.staging.mkdir(parents=True)
    for i in range(20):
        (layout.store / f"{'a' * 31}{chr(97 + i)}-p-{i}").mkdir()
        (layout.store / f"{'a' * 31}{chr(97 + i)}-p-{i}{RECORD_SUFFIX}").touch()
    (layout.staging / f"{_id(1)}.lock").touch()
    (layout.store / f".pending-{_id(1)}").mkdir()
    listed: list[str] = []
    real_listdir, real_scandir, real_glob = os.listdir, os.scandir, Path.glob

    def noted(path: Any) -> Any:
        listed.append("<fd>" if isinstance(path, int) else os.fspath(path))
        return path

    def listdir(path: Any = ".") -> list[str]:
        return real_listdir(noted(path))

    def scandir(path: Any = ".") -> Any:
        return real_scandir(noted(path))

    def glob(self: Path, pattern: str) -> Any:
        listed.append(f"glob {self}")
        return real_glob(self, pattern)

    monkeypatch.setattr(os, "listdir", listdir)
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(Path, "glob", glob)
    assert clean_debris(layout) == [_id(1)]
    monkeypatch.undo()
    assert not (layout.store / f".pending-{_id(1)}").exists()
    assert {p for p in listed if p != "<fd>"} == {str(layout.staging)}
