"""Cache URLs: which backend a URL opens, what a message shows, which keys are refused."""

from __future__ import annotations

import pytest

from omg.cache.storage import check_key, file_root, open_storage, parse_s3, redact
from store.errors import UnsafeInput, UsageError


def test_a_file_url_opens_its_absolute_directory() -> None:
    assert file_root("file:///srv/omg%20cache/") == "/srv/omg cache"
    assert file_root("file://localhost/srv/c") == "/srv/c"
    storage = open_storage("file:///srv/c")
    assert (storage.url, storage.writable) == ("file:///srv/c", True)


@pytest.mark.parametrize("url", ["file://srv/c", "file:relative", "file:///srv/c?x=1"])
def test_a_file_url_without_an_absolute_path_is_refused(url: str) -> None:
    with pytest.raises(UsageError, match="file"):
        open_storage(url)


def test_an_s3_url_names_bucket_prefix_endpoint_and_region() -> None:
    loc = parse_s3("s3://team/omg/v1/?endpoint=http://127.0.0.1:8333/&region=us-east-1")
    assert (loc.bucket, loc.prefix, loc.endpoint, loc.region) == (
        "team", "omg/v1", "http://127.0.0.1:8333", "us-east-1")
    assert loc.key("paths/x.json") == "omg/v1/paths/x.json"
    bare = parse_s3("s3://team")
    assert (bare.prefix, bare.endpoint, bare.region, bare.key("k")) == ("", "", "", "k")


@pytest.mark.parametrize("url, why", [
    ("s3:///prefix", "bucket"),
    ("s3://b?endpoint=http://h&secret=x", "unknown S3 cache URL parameter 'secret'"),
    ("s3://b?endpoint=ftp://h", "endpoint"),
    ("s3://b/../up", "not a valid cache key"),
])
def test_a_bad_s3_url_is_a_one_line_usage_error(url: str, why: str) -> None:
    with pytest.raises((UsageError, UnsafeInput), match=why) as info:
        parse_s3(url)
    assert "\n" not in info.value.message


@pytest.mark.parametrize("url", ["ftp://host/c", "/srv/cache", "gs://bucket"])
def test_an_unknown_scheme_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError, match="not a cache URL"):
        open_storage(url)


def test_messages_never_show_a_password() -> None:
    assert redact("https://me:secret@cache.example.org/omg") == "https://cache.example.org/omg"
    assert redact("s3://b?endpoint=http://h") == "s3://b?endpoint=http://h"
    with pytest.raises(UsageError) as info:
        open_storage("ftp://me:secret@host/c")
    assert "secret" not in info.value.message


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "../x", "a/../b", "a/.", ".hidden",
                                 "objects/.x.tmp-1", "a\\b", "a\nb", "a\0b"])
def test_keys_that_could_leave_the_root_are_refused(key: str) -> None:
    with pytest.raises(UnsafeInput):
        check_key(key)


def test_ordinary_keys_pass() -> None:
    for key in ("omg-cache.json", "objects/ab12.zst", "index/arch/foo/1:2.0-1.json"):
        assert check_key(key) == key
