"""The behaviour every cache backend shares, run against each real backend.

`file`: a directory under tmp_path. `s3`: a fresh bucket on a real SeaweedFS.
`http`: nginx serving a directory; the writes go to that directory (``file://``),
the reads through nginx, as a team would publish a pushed directory.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from omg.cache.storage import CacheStorage, open_storage
from store.errors import NetworkError, NotFound, OmgError, PermissionDenied, UsageError
from tests.cache.servers import S3Auth, SeaweedFS, free_ports


@dataclass
class Cache:
    """Where a test writes, and where it reads what it wrote."""

    writer: CacheStorage
    reader: CacheStorage


@pytest.fixture(params=["file", "s3", "http"])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cache]:
    if request.param == "file":
        (tmp_path / "cache").mkdir()
        writer = reader = open_storage((tmp_path / "cache").as_uri())
    elif request.param == "s3":
        writer = reader = open_storage(request.getfixturevalue("s3_cache"))
    else:
        directory, base = request.getfixturevalue("http_cache")
        writer, reader = open_storage(directory.as_uri()), open_storage(base)
    try:
        yield Cache(writer, reader)
    finally:
        writer.close()
        reader.close()


def test_put_then_get_exists_delete(cache: Cache) -> None:
    w, r = cache.writer, cache.reader
    assert r.get("objects/ab.zst") is None
    assert not r.exists("objects/ab.zst")
    w.put("objects/ab.zst", b"\0content")
    assert r.get("objects/ab.zst") == b"\0content"
    assert r.exists("objects/ab.zst")
    w.put("objects/ab.zst", b"replaced")
    assert r.get("objects/ab.zst") == b"replaced"
    w.delete("objects/ab.zst")
    assert r.get("objects/ab.zst") is None
    assert not r.exists("objects/ab.zst")
    w.delete("objects/ab.zst")  # absent is fine


def test_empty_objects_deep_keys_and_odd_characters(cache: Cache) -> None:
    keys = ["index/runtime/node/20.18.0/linux-x64-gnu.json",
            "index/arch/lib32-foo+bar/1:2.0_rc1-3.json", "paths/ab c%20d@e.json"]
    for i, key in enumerate(keys):
        cache.writer.put(key, b"" if i == 0 else key.encode())
    for i, key in enumerate(keys):
        assert cache.reader.get(key) == (b"" if i == 0 else key.encode())
        assert cache.reader.exists(key)
    if cache.reader.writable:  # a web server answers a directory with 301 and 403
        assert not cache.reader.exists("index/runtime/node")  # a "directory" is no object
        assert cache.reader.get("index/runtime/node") is None


def test_a_reader_never_sees_half_an_object(cache: Cache) -> None:
    size = 16 << 20
    old, new = b"a" * size, b"b" * size
    cache.writer.put("objects/big.zst", old)
    lengths: list[int] = []
    torn: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            got = cache.reader.get("objects/big.zst")
            lengths.append(len(got or b""))
            if got not in (old, new):
                torn.append(len(got or b""))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for data in (new, old, new):
            cache.writer.put("objects/big.zst", data)
    finally:
        done.set()
        reader.join()
    assert lengths and torn == []
    assert cache.reader.get("objects/big.zst") == new


def test_concurrent_puts_of_one_key_all_succeed(cache: Cache) -> None:
    datas = [bytes([i]) * (2 << 20) for i in range(4)]
    errors: list[BaseException] = []

    def put(data: bytes) -> None:
        try:
            cache.writer.put("objects/same.zst", data)
        except BaseException as exc:  # pragma: no cover (the assertion shows it)
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(d,)) for d in datas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cache.reader.get("objects/same.zst") in datas


def _one_line(exc: OmgError, url: str) -> None:
    assert url in exc.message and "\n" not in exc.message, exc.message


def _every_call(s: CacheStorage) -> list[Callable[[], object]]:
    return [lambda: s.get("paths/x.json"), lambda: s.exists("paths/x.json"),
            lambda: s.put("paths/x.json", b"{}"), lambda: s.delete("paths/x.json")]


# Missing caches.

def test_a_missing_bucket_is_not_found(seaweedfs: SeaweedFS) -> None:
    url = seaweedfs.url("omg-no-such-bucket", "pre/fix")
    for call in _every_call(open_storage(url)):
        with pytest.raises(NotFound, match="the bucket 'omg-no-such-bucket' does not exist"
                           ) as info:
            call()
        _one_line(info.value, url)


def test_a_missing_directory_is_not_found_until_a_put_creates_it(tmp_path: Path) -> None:
    root = tmp_path / "new" / "cache"
    storage = open_storage(root.as_uri())
    for call in (lambda: storage.get("paths/x.json"), lambda: storage.exists("paths/x.json"),
                 lambda: storage.delete("paths/x.json")):
        with pytest.raises(NotFound, match="the cache directory does not exist") as info:
            call()
        _one_line(info.value, root.as_uri())
    assert not root.parent.exists()  # nothing made by a read or a delete
    storage.put("paths/x.json", b"{}")
    assert (root / "paths" / "x.json").read_bytes() == b"{}"
    assert storage.get("paths/y.json") is None


def test_a_root_that_is_a_file_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(NotFound, match="is not a directory"):
        open_storage((tmp_path / "f").as_uri()).get("k")


def test_an_http_cache_that_does_not_exist_is_empty(http_cache: tuple[Path, str]) -> None:
    storage = open_storage(http_cache[1] + "/no/such/cache")
    assert storage.get("omg-cache.json") is None
    assert not storage.exists("omg-cache.json")


# Credentials.

def _set_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_wrong_credentials_are_permission_denied(s3_cache_auth: S3Auth,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _set_env(monkeypatch, s3_cache_auth.env(s3_cache_auth.admin))
    open_storage(s3_cache_auth.url).put("objects/a.zst", b"a")
    _set_env(monkeypatch, s3_cache_auth.env(s3_cache_auth.wrong))
    wrong = open_storage(s3_cache_auth.url)
    for call in _every_call(wrong):
        with pytest.raises(PermissionDenied,
                           match=f"access denied: .* as {s3_cache_auth.wrong[0]}") as info:
            call()
        _one_line(info.value, s3_cache_auth.url)


def test_a_read_only_identity_reads_but_cannot_write(s3_cache_auth: S3Auth,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    open_storage(s3_cache_auth.url).put("objects/a.zst", b"a")  # anonymous writes here
    _set_env(monkeypatch, s3_cache_auth.env(s3_cache_auth.reader))
    reader = open_storage(s3_cache_auth.url)
    assert reader.get("objects/a.zst") == b"a"
    assert reader.exists("objects/a.zst")
    with pytest.raises(PermissionDenied, match=r"cannot write objects/b\.zst"):
        reader.put("objects/b.zst", b"b")
    assert open_storage(s3_cache_auth.url).get("objects/b.zst") is None


def test_an_http_403_is_permission_denied(http_cache: tuple[Path, str]) -> None:
    base = http_cache[1].rsplit("/", 1)[0] + "/forbidden"
    with pytest.raises(PermissionDenied, match="HTTP 403") as info:
        open_storage(base).get("omg-cache.json")
    _one_line(info.value, base)


def test_an_http_url_with_a_password_is_refused() -> None:
    with pytest.raises(UsageError, match="user name or password") as info:
        open_storage("https://me:secret@cache.example.org/omg")
    assert "secret" not in info.value.message


# Unreachable and silent endpoints: one error, at once or after `timeout`.

@pytest.mark.parametrize("url", ["s3://bucket?endpoint=http://127.0.0.1:{port}",
                                 "http://127.0.0.1:{port}/cache"])
def test_a_closed_port_is_one_network_error_at_once(url: str) -> None:
    url = url.format(port=free_ports(1)[0])
    for call in _every_call(open_storage(url))[:2]:
        start = time.monotonic()
        with pytest.raises(NetworkError, match="cannot connect") as info:
            call()
        assert time.monotonic() - start < 30  # obstore's own default retries for 3 minutes
        _one_line(info.value, url.split("?")[0])


@pytest.mark.parametrize("url", ["s3://bucket?endpoint=http://127.0.0.1:{port}",
                                 "http://127.0.0.1:{port}/cache"])
def test_a_server_that_never_answers_times_out(url: str) -> None:
    with socket.socket() as silent:  # listens (the kernel accepts) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = url.format(port=silent.getsockname()[1])
        start = time.monotonic()
        with pytest.raises(NetworkError, match="timed out") as info:
            open_storage(url, timeout=1).get("paths/x.json")
        assert time.monotonic() - start < 30
    _one_line(info.value, url.split("?")[0])


# Read-only http.

def test_an_http_cache_refuses_writes(http_cache: tuple[Path, str]) -> None:
    directory, base = http_cache
    storage = open_storage(base)
    assert not storage.writable
    for call in _every_call(storage)[2:]:
        with pytest.raises(UsageError, match="read-only") as info:
            call()
        _one_line(info.value, base)
    assert os.listdir(directory) == []


# The file backend's own rules: no debris beside the keys, readable by a web server.

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
    (tmp_path / "objects" / "ab.zst").mkdir(parents=True)  # rename over a directory fails
    with pytest.raises(OSError):
        storage.put("objects/ab.zst", b"x")
    assert os.listdir(tmp_path / "objects") == ["ab.zst"]


def test_an_http_cache_keeps_its_connections_alive(tmp_path: Path) -> None:
    """A pull asks for thousands of objects: one TCP connection (and TLS setup) each
    made it take minutes."""
    from tests.cache.servers import start_nginx

    server = start_nginx(tmp_path / "prefix", tmp_path / "www", access_log=True)
    try:
        for i in range(40):
            (tmp_path / "www" / f"o{i}").write_bytes(b"x" * i)
        storage = open_storage(server.base)
        try:
            assert [storage.get(f"o{i}") for i in range(40)] == [b"x" * i for i in range(40)]
            assert all(storage.exists(f"o{i}") for i in range(40))
        finally:
            storage.close()
        requests = [r for r in server.requests() if r.path.startswith("/o")]
        assert len(requests) == 80
        assert len({r.connection for r in requests}) == 1
    finally:
        server.stop()
