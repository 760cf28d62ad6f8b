"""The AUR client: RPC v5 search and batched info, snapshot download, and its cache.

The only module of omg/arch that talks HTTP; httpx is imported inside the functions
that need it, so reading the cache (the `omg search` fast path) never pays for it.
Answers are cached in the LMDB table ``aur`` with an expiry (the AUR limits request
rates): ``search:<term>`` and ``info:<name>`` -> {"t": time, "r": answer}.
`info` is always batched: one request for up to CHUNK names, never one per package.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from store.errors import NetworkError, NotFound, PermissionDenied

TABLE = "aur"
CHUNK = 150
TIMEOUT = 10.0


class CacheMiss(Exception):
    """The cache cannot answer (missing or expired) and fetching is not allowed."""


def _cache_get(index: Any, key: str, ttl: float) -> Any:
    if index is None:
        raise CacheMiss(key)
    row = index.get(TABLE, key.encode())
    if row is None or time.time() - float(row.get("t", 0)) > ttl:
        raise CacheMiss(key)
    return row["r"]


def _cache_put(index: Any, items: dict[str, Any]) -> None:
    if index is None or index.readonly:
        return
    from store.index import pack

    now = time.time()
    try:
        with index.write() as txn:
            db = index.table(TABLE)
            for key, value in items.items():
                txn.put(key.encode(), pack({"t": now, "r": value}), db=db)
    except PermissionDenied:
        pass


def _get_json(url: str, params: Any = None) -> dict[str, Any]:
    import httpx

    try:
        resp = httpx.get(url, params=params, timeout=TIMEOUT, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise NetworkError(f"AUR unreachable: {exc or type(exc).__name__}") from exc
    if resp.status_code != 200:
        raise NetworkError(f"AUR answered HTTP {resp.status_code} for {resp.url}")
    try:
        data = resp.json()
    except ValueError as exc:
        raise NetworkError("AUR answer is not JSON") from exc
    if not isinstance(data, dict):
        raise NetworkError("AUR answer is not a JSON object")
    if data.get("type") == "error" or data.get("error"):
        raise NetworkError(f"AUR error: {str(data.get('error') or 'unknown')[:200]}")
    if not isinstance(data.get("results"), list):
        raise NetworkError("AUR answer has no results list")
    return data


def search(base: str, term: str, *, index: Any = None, ttl: float = 3600.0,
           fetch: bool = True) -> list[dict[str, Any]]:
    """RPC v5 search by name-desc; cached."""
    key = f"search:{term.lower()}"
    try:
        cached: list[dict[str, Any]] = _cache_get(index, key, ttl)
        return cached
    except CacheMiss:
        if not fetch:
            raise
    from urllib.parse import quote

    data = _get_json(f"{base}/rpc/v5/search/{quote(term, safe='')}", [("by", "name-desc")])
    results = [r for r in data["results"] if isinstance(r, dict) and "Name" in r]
    _cache_put(index, {key: results})
    return results


def info(base: str, names: list[str], *, index: Any = None, ttl: float = 3600.0,
         fetch: bool = True) -> dict[str, dict[str, Any]]:
    """Name -> info for the names the AUR knows; batched and cached (negatives too)."""
    found: dict[str, dict[str, Any]] = {}
    missing = []
    for name in dict.fromkeys(names):
        try:
            hit = _cache_get(index, f"info:{name}", ttl)
            if hit:
                found[name] = hit
        except CacheMiss:
            missing.append(name)
    if missing and not fetch:
        raise CacheMiss(missing[0])
    for i in range(0, len(missing), CHUNK):
        chunk = missing[i:i + CHUNK]
        data = _get_json(f"{base}/rpc/v5/info", [("arg[]", n) for n in chunk])
        got = {r["Name"]: r for r in data["results"] if isinstance(r, dict) and "Name" in r}
        found.update({n: got[n] for n in chunk if n in got})
        _cache_put(index, {f"info:{n}": got.get(n) for n in chunk})
    return found


def download_snapshot(base: str, pkgbase: str, dest: Path) -> Path:
    """Fetch `<pkgbase>.tar.gz` into dest (a directory); returns the file."""
    import httpx

    from omg.arch.names import check_name

    check_name(pkgbase)
    url = f"{base}/cgit/aur.git/snapshot/{pkgbase}.tar.gz"
    out = dest / f"{pkgbase}.tar.gz"
    try:
        with httpx.stream("GET", url, timeout=TIMEOUT, follow_redirects=True) as resp:
            if resp.status_code == 404:
                raise NotFound(f"no AUR snapshot for {pkgbase}")
            if resp.status_code != 200:
                raise NetworkError(f"AUR answered HTTP {resp.status_code} for {url}")
            with open(out, "wb") as f:
                for chunk in resp.iter_bytes():
                    f.write(chunk)
    except httpx.HTTPError as exc:
        raise NetworkError(f"AUR unreachable: {exc or type(exc).__name__}") from exc
    return out
