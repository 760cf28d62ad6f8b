"""A binary cache in an S3 bucket (AWS, R2, MinIO, SeaweedFS): ``s3://bucket/prefix``.

Through obstore (a Rust client; the import costs only when an s3:// URL is used).
Credentials come from the standard variables (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; the region from the URL or AWS_REGION);
without an access key the requests are anonymous (unsigned), which is what a
public bucket wants, and never a wait for an instance-metadata service. Paths
are addressed path-style (``endpoint/bucket/key``), which every S3 server accepts.

An S3 PUT is atomic: readers see the old object or the new one. Retries are few
and short (`timeout` bounds the connection and every read), so a closed port is
one error at once, not minutes of backoff. obstore's errors become the project's
with one line naming the URL: a missing bucket is `NotFound` (S3 says so in the
body of a 404, except to a HEAD, so `exists` asks once with a GET when a HEAD says
404), 401/403 `PermissionDenied`, anything else `NetworkError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from omg.cache.storage import S3Location, check_key
from store.errors import NetworkError, NotFound, PermissionDenied

if TYPE_CHECKING:
    from obstore.store import S3Config, S3Store

T = TypeVar("T")

_CREDENTIALS = (("access_key_id", "AWS_ACCESS_KEY_ID"),
                ("secret_access_key", "AWS_SECRET_ACCESS_KEY"),
                ("session_token", "AWS_SESSION_TOKEN"))
_STATUS = re.compile(r"status code: (\d{3}[^:<]*)")


def s3_config(loc: S3Location, environ: Mapping[str, str]) -> S3Config:
    """The obstore configuration: the URL's endpoint and region, the environment's
    credentials, or anonymous when there is no access key."""
    config: S3Config = {"virtual_hosted_style_request": False}
    if loc.endpoint:
        config["endpoint"] = loc.endpoint
    region = loc.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if region:
        config["region"] = region
    if not environ.get("AWS_ACCESS_KEY_ID"):
        config["skip_signature"] = True
        return config
    for name, var in _CREDENTIALS:
        if environ.get(var):
            config[name] = environ[var]  # type: ignore[literal-required]
    return config


class S3Storage:
    writable = True

    def __init__(self, loc: S3Location, *, timeout: float) -> None:
        from obstore.store import S3Store

        self.url = loc.url
        self._loc = loc
        self._anonymous = not os.environ.get("AWS_ACCESS_KEY_ID")
        self._bucket_seen = False  # a request has shown that the bucket exists
        limit = timedelta(seconds=timeout)
        self._store: S3Store = S3Store(
            loc.bucket, config=s3_config(loc, os.environ),
            client_options={"allow_http": loc.endpoint.startswith("http://"),
                            "connect_timeout": limit, "read_timeout": limit},
            retry_config={"max_retries": 1, "retry_timeout": limit,
                          "backoff": {"init_backoff": timedelta(milliseconds=100),
                                      "max_backoff": timedelta(seconds=1), "base": 2}})

    def get(self, key: str) -> bytes | None:
        import obstore

        path = self._path(key)
        try:
            data = self._call("read", key, lambda: bytes(obstore.get(self._store, path).bytes()))
        except _Missing as exc:
            if exc.bucket:
                raise self._no_bucket() from exc
            self._bucket_seen = True
            return None
        return data

    def exists(self, key: str) -> bool:
        import obstore

        path = self._path(key)
        try:
            self._call("read", key, lambda: obstore.head(self._store, path))
        except _Missing:
            if self._bucket_seen:
                return False
            return self.get(key) is not None  # a HEAD's 404 has no body to tell a bucket by
        return True

    def put(self, key: str, data: bytes) -> None:
        import obstore

        path = self._path(key)
        try:
            self._call("write", key, lambda: obstore.put(self._store, path, data))
        except _Missing as exc:  # a PUT's 404 can only be the bucket
            raise self._no_bucket() from exc

    def delete(self, key: str) -> None:
        import obstore

        path = self._path(key)
        try:
            self._call("delete", key, lambda: obstore.delete(self._store, path))
        except _Missing as exc:
            if exc.bucket:
                raise self._no_bucket() from exc

    def close(self) -> None:
        pass

    def _path(self, key: str) -> str:
        return self._loc.key(check_key(key))

    def _call(self, verb: str, key: str, request: Callable[[], T]) -> T:
        """`request()`, its errors translated; a 404 is `_Missing` for the caller."""
        from obstore.exceptions import (
            BaseError,
            NotFoundError,
            PermissionDeniedError,
            UnauthenticatedError,
        )

        try:
            result = request()
        except (FileNotFoundError, NotFoundError) as exc:
            raise _Missing("NoSuchBucket" in str(exc)) from exc
        except (PermissionDeniedError, UnauthenticatedError, PermissionError) as exc:
            raise self._denied(verb, key) from exc
        except (BaseError, OSError) as exc:
            raise NetworkError(f"{self.url}: cannot {verb} {key}: {_why(exc)}",
                               hint="check the network and the endpoint") from exc
        self._bucket_seen = True
        return result

    def _no_bucket(self) -> NotFound:
        return NotFound(f"{self.url}: the bucket {self._loc.bucket!r} does not exist",
                        hint="create it (a push does not), or check the URL")

    def _denied(self, verb: str, key: str) -> PermissionDenied:
        who = ("anonymously (AWS_ACCESS_KEY_ID is not set)" if self._anonymous
               else f"as {os.environ.get('AWS_ACCESS_KEY_ID')}")
        return PermissionDenied(f"{self.url}: access denied: cannot {verb} {key} {who}",
                                hint="check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and "
                                     "the bucket's policy")


class _Missing(Exception):
    """A 404 (internal: get, exists and delete decide what it means)."""

    def __init__(self, bucket: bool) -> None:
        super().__init__(bucket)
        self.bucket = bucket


def _why(exc: BaseException) -> str:
    """One line out of obstore's multi-line report."""
    text = str(exc)
    if "kind: Connect" in text or "Connection refused" in text or "dns error" in text:
        return "cannot connect to the endpoint"
    if "timed out" in text.lower() or "kind: Timeout" in text:
        return "timed out"
    status = _STATUS.search(text)
    if status:
        return f"HTTP {status.group(1).strip()}"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:200]
