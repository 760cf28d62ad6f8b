"""The one interface to a binary cache's backend: bytes by key, nothing more.

A cache is a flat key space (`objects/<hex>.zst`, `paths/<name>.json`, ...) on a
backend chosen by the URL's scheme:

- ``file:///abs/path``: a directory (`filestore`); the first put creates it.
- ``http(s)://host/base``: any static web server, read-only (`httpstore`).
- ``s3://bucket[/prefix]?endpoint=URL&region=R``: S3 or a compatible server
  through obstore (`s3store`); credentials from the standard AWS variables, or
  anonymous when there are none.

Every backend raises the project's errors and names the cache URL: unreachable or
timed out -> `NetworkError`, a bucket or directory that does not exist ->
`NotFound`, wrong credentials or forbidden -> `PermissionDenied`, a write to a
read-only backend -> `UsageError`, a malformed key -> `UnsafeInput`. A missing
*key* is not an error: `get` returns None and `exists` False.

A put is atomic: a reader sees the whole object or none of it (the cache format
relies on it: a push writes a path's manifest last, so a killed push leaves
nothing a pull accepts). Standard library only at module level; a backend's
module (and obstore, httpx) is imported when its scheme is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from store.errors import UnsafeInput, UsageError

SCHEMES = ("file", "http", "https", "s3")
_S3_QUERY = ("endpoint", "region")


class CacheStorage(Protocol):
    """A cache backend. Keys are relative ``/``-separated names (`check_key`)."""

    url: str  # the URL as given, credentials removed: for messages
    writable: bool  # False for http(s)://

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such key."""
        ...

    def exists(self, key: str) -> bool: ...

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` atomically, replacing what was there."""
        ...

    def delete(self, key: str) -> None:
        """Remove `key`; an absent key is fine."""
        ...

    def close(self) -> None: ...


def open_storage(url: str, *, timeout: float = 10.0) -> CacheStorage:
    """The backend for `url`; `timeout` bounds each request of a network backend.

    Opening does no I/O: a cache that is down or missing shows on the first call.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        from omg.cache.filestore import FileStorage

        return FileStorage(file_root(url), redact(url))
    if scheme in ("http", "https"):
        from omg.cache.httpstore import HttpStorage

        return HttpStorage(url, timeout=timeout)
    if scheme == "s3":
        from omg.cache.s3store import S3Storage

        return S3Storage(parse_s3(url), timeout=timeout)
    raise UsageError(f"{redact(url)}: not a cache URL (the scheme must be one of "
                     f"{', '.join(SCHEMES)})",
                     hint="e.g. file:///srv/omg-cache, https://cache.example.org/omg, "
                          "s3://bucket/prefix?endpoint=https://s3.example.org&region=auto")


def redact(url: str) -> str:
    """`url` without the user name and password (the form messages show)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def file_root(url: str) -> str:
    """The absolute directory of a ``file://`` URL (``file:///srv/cache``)."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        raise UsageError(f"{url}: a file cache URL needs an absolute path",
                         hint="file:///absolute/path (three slashes)")
    if parts.query or parts.fragment:
        raise UsageError(f"{url}: a file cache URL takes no query nor fragment")
    return unquote(parts.path).rstrip("/") or "/"


@dataclass(frozen=True)
class S3Location:
    """Where an ``s3://bucket/prefix?endpoint=...&region=...`` cache lives."""

    url: str
    bucket: str
    prefix: str  # no leading or trailing slash; "" for the bucket's root
    endpoint: str  # "" for AWS itself
    region: str  # "" when not given (obstore then uses AWS_REGION or its default)

    def key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key


def parse_s3(url: str) -> S3Location:
    parts = urlsplit(url)
    bucket = parts.netloc
    if not bucket or "@" in bucket:
        raise UsageError(f"{redact(url)}: an S3 cache URL needs a bucket name",
                         hint="s3://bucket[/prefix]?endpoint=URL&region=R (credentials "
                              "come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in _S3_QUERY:
            raise UsageError(f"{url}: unknown S3 cache URL parameter {name!r}",
                             hint=f"the parameters are {' and '.join(_S3_QUERY)}")
        query[name] = value
    endpoint = query.get("endpoint", "").rstrip("/")
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise UsageError(f"{url}: the endpoint must be an http:// or https:// URL")
    prefix = unquote(parts.path).strip("/")
    if prefix:
        check_key(prefix)
    return S3Location(url=url, bucket=bucket, prefix=prefix, endpoint=endpoint,
                      region=query.get("region", ""))


def check_key(key: str) -> str:
    """`key` if it is a relative ``/``-separated name that stays under the root.

    A key may be derived from what a remote cache said (a store path name in an
    index), so it is checked here, once for every backend: no empty, ``.``-leading
    (so never ``..`` nor a put's temporary name) or control-character component.
    """
    parts = key.split("/")
    if any(not p or p.startswith(".") for p in parts) or any(
            c < " " or c in "\\\x7f" for c in key):
        raise UnsafeInput(f"{key!r}: not a valid cache key",
                          hint="keys are relative names such as objects/<hex>.zst")
    return key
