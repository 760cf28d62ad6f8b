"""Bounded uploads: what `store.add` copies into daemon/incoming, and how much.

The live tests hold the store's gc lock exclusively (as a collection would):
the daemon's ingest then waits for it with its copy in daemon/incoming, so the
copy and the quota can be looked at while the request is in flight.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from omg.daemon.client import Client
from omg.daemon.incoming import Quota
from store.archive import EMPTY_TAR_MAX, Format, detect_format, sniff
from store.errors import Busy, NotFound, UnsafeInput, UsageError
from store.layout import Layout
from store.local import LocalStore
from store.locks import FileLock
from tests.daemon.conftest import CONFIG, Daemon, daemon_env, make_archive, remote

QUOTA = 4 << 20


@pytest.fixture
def quota_daemon(tmp_path: Path) -> Iterator[Daemon]:
    d = Daemon(daemon_env(tmp_path / "d", CONFIG + f"max_incoming_bytes = {QUOTA}\n"),
               tmp_path / "d" / "omgd.sock")
    d.start()
    yield d
    assert d.stop() == 0


def incoming(d: Daemon) -> Path:
    return d.env.home / "daemon" / "incoming"


def wait_for_copy(d: Daemon, size: int, timeout: float = 60) -> os.stat_result:
    """The stat of the copy in daemon/incoming once it has reached `size` bytes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in incoming(d).glob("*/*"):
            with_size = entry.stat()
            if with_size.st_size == size:
                return with_size
        time.sleep(0.01)
    raise AssertionError(f"no copy of {size} bytes appeared in {incoming(d)}")


def in_background(fn: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []

    def go() -> None:
        try:
            out.append(fn())
        except BaseException as exc:
            out.append(exc)

    t = threading.Thread(target=go)
    t.start()
    return t, out


def add(d: Daemon, archive: Path, name: str, **kw: object) -> object:
    with Client(d.socket, timeout=30) as c:
        fd = os.open(archive, os.O_RDONLY)
        try:
            return c.call("store.add", {"name": name, "version": "1",
                                        "filename": archive.name, **kw}, fd=fd)
        finally:
            os.close(fd)


# The one magic table -----------------------------------------------------------------


def test_sniff_knows_zeros_only_as_a_small_empty_tar(tmp_path: Path) -> None:
    zeros = bytes(512)
    assert sniff(zeros, 1024) is Format.TAR and sniff(zeros, EMPTY_TAR_MAX) is Format.TAR
    assert sniff(zeros, EMPTY_TAR_MAX + 1) is None and sniff(zeros, 4 << 30) is None
    assert sniff(b"\x1f\x8b\x08" + bytes(509), 4 << 30) is Format.TAR_GZ
    assert sniff(b"hello", 5) is None
    big = tmp_path / "zeros.tar"
    with open(big, "wb") as f:
        f.truncate(1 << 20)
    with pytest.raises(UsageError, match=r"zeros\.tar: not a supported archive"):
        detect_format(big)
    empty = tmp_path / "empty.tar"
    subprocess.run(["tar", "cf", str(empty), "-T", "/dev/null"], check=True)
    assert detect_format(empty) is Format.TAR  # what tar writes for nothing still reads


def test_quota_is_per_uid_and_given_back() -> None:
    quota = Quota(100)
    with quota.reserve(1) as one, quota.reserve(2) as two:
        one.take(60)
        two.take(100)  # another uid: its own 100
        with quota.reserve(1) as again:
            with pytest.raises(Busy, match="already hold 60 of 100"):
                again.take(50)
            with pytest.raises(UnsafeInput, match="quota of 100"):
                again.take(101)
        assert quota.held() == {1: 60, 2: 100}
    assert quota.held() == {}


# A live daemon ------------------------------------------------------------------------


def test_a_sparse_upload_is_copied_sparse(daemon: Daemon, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "sparse.tar", {"f": b"data"})
    data = archive.stat().st_size
    os.truncate(archive, 4 << 30)  # 4 GiB, nearly all of it a hole
    # A reference the store lacks fails the ingest at once, after the copy was made.
    with FileLock(daemon.env.layout.gc_lock):
        t, out = in_background(lambda: add(daemon, archive, "sparse",
                                           references=["a" * 32 + "-missing-1"]))
        copy = wait_for_copy(daemon, 4 << 30)
        assert copy.st_blocks * 512 < data + (1 << 20), copy.st_blocks
    t.join(30)
    assert len(out) == 1 and isinstance(out[0], NotFound), out
    assert list(incoming(daemon).iterdir()) == []


def test_holes_read_back_as_the_zeros_they_stand_for(daemon: Daemon, tmp_path: Path) -> None:
    dense = make_archive(tmp_path / "dense.tar", {"head": os.urandom(5000),
                                                  "zeros": bytes(8 << 20),
                                                  "tail": os.urandom(3000)})
    sparse = tmp_path / "sparse.tar"
    subprocess.run(["cp", "--sparse=always", str(dense), str(sparse)], check=True)
    assert sparse.stat().st_blocks * 512 < (1 << 20)  # the zeros are holes now
    b = remote(daemon.socket)
    got = b.store_add(sparse, "holes", "1")
    want = LocalStore(Layout(tmp_path / "local")).add(dense, "holes", "1")
    assert got.record.path == want.record.path
    b.close()


def test_zeros_and_non_archives_are_refused_before_any_copy(daemon: Daemon,
                                                            tmp_path: Path) -> None:
    zeros = tmp_path / "zeros.tar"
    with open(zeros, "wb") as f:
        f.truncate(4 << 30)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive at all" * 100)
    for path in (zeros, junk):
        with pytest.raises(UsageError) as err:
            add(daemon, path, "z")
        assert err.value.message == f"store.add: {path.name}: not a supported archive"
    assert list(incoming(daemon).iterdir()) == []
    assert LocalStore(daemon.env.layout).names() == []


def test_concurrent_uploads_past_the_quota_are_refused(quota_daemon: Daemon,
                                                       tmp_path: Path) -> None:
    d = quota_daemon
    first = make_archive(tmp_path / "first.tar", {"f": os.urandom(3 << 20)})
    second = make_archive(tmp_path / "second.tar", {"f": os.urandom(3 << 20)})
    too_big = make_archive(tmp_path / "big.tar", {"f": os.urandom(5 << 20)})
    with pytest.raises(UnsafeInput, match="quota"):  # alone over it: never accepted
        add(d, too_big, "big")
    with FileLock(d.env.layout.gc_lock):
        t, out = in_background(lambda: add(d, first, "first"))
        wait_for_copy(d, first.stat().st_size)
        with Client(d.socket) as c:
            held = c.call("daemon.stats")["incoming"]
        assert held["uploaders"] == 1 and held["bytes"] >= 3 << 20
        started = time.monotonic()
        with pytest.raises(Busy, match="uploads in progress"):  # both would pass it
            add(d, second, "second")
        assert time.monotonic() - started < 10  # refused, not queued behind the lock
        assert len(list(incoming(d).iterdir())) == 1
    t.join(30)
    assert len(out) == 1 and isinstance(out[0], dict) and out[0]["created"], out
    assert add(d, second, "second")["created"]  # type: ignore[index]
    assert list(incoming(d).iterdir()) == []


def test_the_size_is_bounded_even_when_it_is_all_hole(tmp_path: Path) -> None:
    env = daemon_env(tmp_path / "d")
    env.env["OMG_MAX_UNPACKED_BYTES"] = str(64 << 20)
    d = Daemon(env, tmp_path / "d" / "omgd.sock")
    d.start()
    try:
        archive = make_archive(tmp_path / "a.tar", {"f": b"x"})
        os.truncate(archive, 1 << 30)
        with pytest.raises(UnsafeInput, match=f"larger than {64 << 20} bytes"):
            add(d, archive, "a")
        assert list(incoming(d).iterdir()) == []
    finally:
        assert d.stop() == 0


def test_zeros_in_a_local_store_are_one_error_line(daemon: Daemon, tmp_path: Path) -> None:
    """Root's omg works on the store directly: the same magic table refuses zeros."""
    zeros = tmp_path / "zeros.tar.gz"
    with open(zeros, "wb") as f:
        f.truncate(1 << 30)
    proc = daemon.env.run("store", "add", str(zeros), "--name", "z", "--version", "1")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == "error: zeros.tar.gz: not a supported archive"
    assert [line for line in lines[1:] if not line.startswith("hint: ")] == []
    assert LocalStore(daemon.env.layout).names() == []


@pytest.mark.parametrize("what", ["fifo", "/dev/zero"])
def test_the_client_refuses_a_special_file_as_the_local_store_does(
        what: str, daemon: Daemon, tmp_path: Path) -> None:
    """`omg store add FIFO` in the shared mode hung: the client's open(2) of a FIFO
    waits for a writer. It is refused before the daemon sees it, with the single-user
    mode's error (exit 2), as /dev/zero is."""
    source = Path(what)
    if what == "fifo":
        source = tmp_path / "fifo"
        os.mkfifo(source)
    b = remote(daemon.socket, daemon.env.home)
    try:
        t, out = in_background(lambda: b.store_add(source, "z", "1"))
        t.join(20)
        if t.is_alive() and what == "fifo":  # the old client: let its open(2) return
            os.close(os.open(source, os.O_WRONLY))
            t.join(20)
    finally:
        b.close()
    assert len(out) == 1 and isinstance(out[0], UsageError), out
    kind = "a FIFO" if what == "fifo" else "a character device"
    assert out[0].message == f"cannot add {source}: {kind}, not a regular file or a directory"
    assert list(incoming(daemon).iterdir()) == []


def test_an_ingest_error_names_the_users_file_not_the_daemons_copy(
        daemon: Daemon, tmp_path: Path) -> None:
    """A refused member through omgd was reported as `error: 7f10557b87035aec-deep.tar.gz:
    ...`: the name of omgd's private copy, which the user never typed."""
    archive = make_archive(tmp_path / "dotdot.tar", {"x": b"x"})
    with tarfile.open(archive, "a") as tar:
        member = tarfile.TarInfo("../evil")
        tar.addfile(member, io.BytesIO(b""))
    with pytest.raises(UnsafeInput) as err:
        add(daemon, archive, "z")
    assert err.value.message.startswith("dotdot.tar: "), err.value.message
    assert list(incoming(daemon).iterdir()) == []
