"""A binary cache served by any static web server: ``http(s)://host/base``, read-only.

Requests go through `omg.net` (the one module that speaks HTTP): the same proxy
variables, TLS trust and unreachable-host memory as every other download, one
retry and a short timeout, and one kept-alive connection pool per storage (a pull
asks for thousands of objects). A key is ``<base>/<key>``; 404 and 410 mean "no such
key", so a base URL that does not exist looks like an empty cache (a pull notices
the missing ``omg-cache.json``). A user name and password in the URL are refused:
messages would print them, and ``~/.netrc`` (which httpx reads) keeps them out of
the configuration.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from omg.cache.storage import check_key, redact
from omg.net import KeyClient, NetOptions
from store.errors import UsageError

_HINT = "check the network and the cache URL (a password goes in ~/.netrc)"


class HttpStorage:
    writable = False

    def __init__(self, url: str, *, timeout: float) -> None:
        self.url = redact(url)
        parts = urlsplit(url)
        if "@" in parts.netloc:
            raise UsageError(f"{self.url}: a cache URL may not hold a user name or password",
                             hint="put the credentials in ~/.netrc")
        if parts.query or parts.fragment:
            raise UsageError(f"{self.url}: an http(s) cache URL takes no query nor fragment")
        self._base = url.rstrip("/")
        self._client = KeyClient(NetOptions(retries=1, backoff=0.2, timeout=timeout), _HINT)

    def _url(self, key: str) -> str:
        return f"{self._base}/{quote(check_key(key))}"

    def get(self, key: str) -> bytes | None:
        return self._client.fetch(self._url(key))

    def exists(self, key: str) -> bool:
        return self._client.fetch(self._url(key), head=True) is not None

    def put(self, key: str, data: bytes) -> None:
        raise self._read_only()

    def delete(self, key: str) -> None:
        raise self._read_only()

    def close(self) -> None:
        self._client.close()

    def _read_only(self) -> UsageError:
        return UsageError(f"{self.url}: an http(s) cache is read-only",
                          hint="push to the file:// directory or S3 bucket it serves")
