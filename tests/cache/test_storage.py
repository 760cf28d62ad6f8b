"""The behaviour every cache backend shares, run against each real backend.

The file backend is a directory under tmp_path; the network backends are real
servers (tests/cache/servers.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from omg.cache.storage import CacheStorage, open_storage
from store.errors import NotFound


@pytest.fixture(params=["file"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CacheStorage]:
    (tmp_path / "cache").mkdir()
    s = open_storage((tmp_path / "cache").as_uri())
    try:
        yield s
    finally:
        s.close()


def test_put_then_get_exists_delete(storage: CacheStorage) -> None:
    assert storage.get("objects/ab.zst") is None
    assert not storage.exists("objects/ab.zst")
    storage.put("objects/ab.zst", b"\0content")
    assert storage.get("objects/ab.zst") == b"\0content"
    assert storage.exists("objects/ab.zst")
    storage.put("objects/ab.zst", b"replaced")
    assert storage.get("objects/ab.zst") == b"replaced"
    storage.delete("objects/ab.zst")
    assert storage.get("objects/ab.zst") is None
    assert not storage.exists("objects/ab.zst")
    storage.delete("objects/ab.zst")  # absent is fine


def test_empty_objects_and_deep_keys(storage: CacheStorage) -> None:
    storage.put("index/runtime/node/20.18.0/linux-x64-gnu.json", b"")
    assert storage.get("index/runtime/node/20.18.0/linux-x64-gnu.json") == b""
    assert storage.exists("index/runtime/node/20.18.0/linux-x64-gnu.json")
    assert not storage.exists("index/runtime/node")  # a "directory" is no object


def test_a_reader_never_sees_half_an_object(storage: CacheStorage) -> None:
    size = 24 << 20
    old, new = b"a" * size, b"b" * size
    storage.put("objects/big.zst", old)
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            got = storage.get("objects/big.zst")
            seen.append(len(got or b""))
            assert got in (old, new)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for data in (new, old, new):
            storage.put("objects/big.zst", data)
    finally:
        done.set()
        reader.join()
    assert seen and set(seen) == {size}
    assert storage.get("objects/big.zst") == new


def test_concurrent_puts_of_one_key_both_succeed(storage: CacheStorage) -> None:
    datas = [bytes([i]) * (4 << 20) for i in range(4)]
    errors: list[BaseException] = []

    def put(data: bytes) -> None:
        try:
            storage.put("objects/same.zst", data)
        except BaseException as exc:  # pragma: no cover (the assertion shows it)
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(d,)) for d in datas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert storage.get("objects/same.zst") in datas


# The file backend's own rules: a missing root, and no debris beside the keys.

def test_a_missing_directory_is_not_found_until_a_put_creates_it(tmp_path: Path) -> None:
    root = tmp_path / "new" / "cache"
    storage = open_storage(root.as_uri())
    for call in (lambda: storage.get("paths/x.json"), lambda: storage.exists("paths/x.json")):
        with pytest.raises(NotFound, match=f"{root.as_uri()}: the cache directory does not"):
            call()
    storage.delete("paths/x.json")  # creates nothing
    assert not root.parent.exists()
    storage.put("paths/x.json", b"{}")
    assert (root / "paths" / "x.json").read_bytes() == b"{}"
    assert storage.get("paths/y.json") is None


def test_a_root_that_is_a_file_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(NotFound, match="is not a directory"):
        open_storage((tmp_path / "f").as_uri()).get("k")


def test_a_put_leaves_only_the_object_world_readable(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        open_storage(tmp_path.as_uri()).put("objects/ab.zst", b"x")
    finally:
        os.umask(old)
    assert os.listdir(tmp_path / "objects") == ["ab.zst"]
    assert (tmp_path / "objects" / "ab.zst").stat().st_mode & 0o777 == 0o644


def test_a_failed_put_leaves_no_temporary(tmp_path: Path) -> None:
    storage = open_storage(tmp_path.as_uri())
    (tmp_path / "objects").mkdir()
    (tmp_path / "objects" / "ab.zst").mkdir()  # rename over a directory fails
    with pytest.raises(OSError):
        storage.put("objects/ab.zst", b"x")
    assert os.listdir(tmp_path / "objects") == ["ab.zst"]
