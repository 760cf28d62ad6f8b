"""The AUR client: RPC v5 search and batched info, snapshot download, and its cache.

The only module of omg/arch that talks HTTP; httpx is imported inside the functions
that need it, so reading the cache (the `omg search` fast path) never pays for it.
Answers are cached in LMDB with an expiry (the AUR limits request rates):
table ``aur``, ``info:<name>`` -> msgpack {"t": time, "r": answer}; table
``aursearch``, ``<term>`` -> plain UTF-8, the time on the first line, then one
line per result (`AurRow`, tab-separated, backslash-escaped), so that the warm
`omg search` reads it without msgpack (see searchindex.raw_get).
`info` is always batched: one request for up to CHUNK names, never one per package.
An answer of HTTP 429 (aurweb's rate limit) or 503 is asked again, up to RETRIES
times, after the Retry-After it gives (else 1, 2, 4 s); a wait longer than MAX_WAIT
fails at once instead: sleeping that long would only block the command.
"""

from __future__ import annotations

import time

from store.errors import NetworkError, NotFound, PermissionDenied

# Not `from typing import ...` (start-up cost); type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import TypeGuard

    import httpx

    from store.index import Index

    #: An AUR RPC ``info`` result: JSON, of which `info` checks only the name.
    AurInfo = dict[str, object]

    #: name, version, description, votes, popularity, out of date: what search shows.
    AurRow = tuple[str, str, str, int, float, bool]

TABLE = "aur"
SEARCH_TABLE = "aursearch"
#: LMDB refuses keys over 511 bytes; longer search terms are simply not cached.
MAX_KEY = 500
CHUNK = 150
TIMEOUT = 10.0
#: Answers that mean "not now": retried (see the module docstring).
RETRY_STATUS = (429, 503)
RETRIES = 3
MAX_WAIT = 30.0


class CacheMiss(Exception):
    """The cache cannot answer (missing or expired) and fetching is not allowed."""


def _is_info(res: object) -> TypeGuard[AurInfo]:
    return isinstance(res, dict) and isinstance(res.get("Name"), str)


def _cache_get(index: Index | None, key: str, ttl: float) -> AurInfo | None:
    """A cached ``info`` answer (None: the AUR has no such package); CacheMiss when
    missing or expired, IntegrityError when the row is not one."""
    if index is None:
        raise CacheMiss(key)
    row = index.get(TABLE, key.encode())
    if row is None:
        raise CacheMiss(key)
    if not (isinstance(row, dict) and isinstance(row.get("t"), int | float) and "r" in row
            and (row["r"] is None or _is_info(row["r"]))):
        from store.index import malformed

        raise malformed(TABLE, key.encode(), "not a cached AUR answer")
    if time.time() - row["t"] > ttl:
        raise CacheMiss(key)
    found: AurInfo | None = row["r"]
    return found


def _cache_put(index: Index | None, items: dict[str, AurInfo | None]) -> None:
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


def _not_down(url: str) -> None:
    """NetworkError at once if the AUR did not answer a moment ago (`omg.unreachable`)."""
    from omg import unreachable

    ago = unreachable.seen(url)
    if ago is not None:
        raise NetworkError(f"AUR unreachable: {unreachable.down_name(url)} did not answer "
                           f"{ago:.0f} s ago")


def _unreachable(url: str, exc: Exception) -> NetworkError:
    """The error for a failed request, remembering a host that did not answer."""
    import httpx

    from omg import unreachable

    if isinstance(exc, (httpx.ConnectError, httpx.TimeoutException)):
        unreachable.remember(url)
    return NetworkError(f"AUR unreachable: {exc or type(exc).__name__}")


def _retry_after(value: str | None, attempt: int) -> float:
    """Seconds to wait before asking again: the Retry-After header (seconds or an HTTP
    date), else exponential (1, 2, 4...)."""
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    return float(2 ** attempt)


def _busy_error(status: int, url: str, detail: str) -> NetworkError:
    from omg import unreachable

    what = "rate limit reached" if status == 429 else "unavailable"
    return NetworkError(f"AUR {what} (HTTP {status} from {unreachable.host_of(url)}){detail}")


def _get(url: str, params: tuple[tuple[str, str], ...] = ()) -> httpx.Response:
    """GET with the retries of RETRY_STATUS answers; the last answer otherwise."""
    import httpx

    from omg import unreachable

    _not_down(url)
    for attempt in range(RETRIES + 1):
        try:
            resp = httpx.get(url, params=params, timeout=TIMEOUT, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise _unreachable(url, exc) from exc
        unreachable.forget(url)
        if resp.status_code not in RETRY_STATUS:
            return resp
        wait = _retry_after(resp.headers.get("Retry-After"), attempt)
        if wait > MAX_WAIT:
            raise _busy_error(resp.status_code, url, f": asked to wait {wait:.0f} s")
        if attempt == RETRIES:
            break
        time.sleep(wait)
    raise _busy_error(resp.status_code, url, f" after {RETRIES + 1} attempts")


def _get_json(url: str, params: tuple[tuple[str, str], ...] = ()) -> dict[str, object]:
    resp = _get(url, params)
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


def _results(data: dict[str, object]) -> list[AurInfo]:
    """The results that name a package (`_get_json` checked there is a list)."""
    results = data["results"]
    return [r for r in results if _is_info(r)] if isinstance(results, list) else []


def row_of(res: AurInfo) -> AurRow:
    return (str(res.get("Name", "")), str(res.get("Version", "")),
            str(res.get("Description") or ""), int(_number(res.get("NumVotes"))),
            _number(res.get("Popularity")), bool(res.get("OutOfDate")))


def _number(value: object) -> float:
    """A JSON number; 0 for anything else (the AUR sends null for none)."""
    return float(value) if isinstance(value, int | float) else 0.0


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _unesc(s: str) -> str:
    if "\\" not in s:
        return s
    return "\\".join(p.replace("\\t", "\t").replace("\\n", "\n") for p in s.split("\\\\"))


def encode_rows(now: float, rows: list[AurRow]) -> bytes:
    lines = [repr(now)]
    lines += [f"{_esc(n)}\t{_esc(v)}\t{_esc(d)}\t{votes}\t{pop!r}\t{'1' if ood else ''}"
              for n, v, d, votes, pop, ood in rows]
    return "\n".join(lines).encode()


def decode_rows(data: bytes, ttl: float, now: float | None = None) -> list[AurRow]:
    """The rows of a cached answer; CacheMiss when expired or unreadable."""
    head, _, body = data.decode(errors="replace").partition("\n")
    try:
        fresh = (time.time() if now is None else now) - float(head) <= ttl
        rows: list[AurRow] = []
        for line in body.split("\n") if body else ():
            n, v, d, votes, pop, ood = line.split("\t")
            rows.append((_unesc(n), _unesc(v), _unesc(d), int(votes), float(pop), ood == "1"))
    except ValueError:
        raise CacheMiss("unreadable cache row") from None
    if not fresh:
        raise CacheMiss("expired")
    return rows


def _search_key(term: str) -> bytes | None:
    key = term.lower().encode()
    return key if 0 < len(key) <= MAX_KEY else None


def cached_search(index: Index | None, term: str, ttl: float) -> list[AurRow]:
    """A cached search answer; CacheMiss when missing, expired or not cacheable."""
    from omg.arch.searchindex import raw_get

    key = _search_key(term)
    if index is None or key is None:
        raise CacheMiss(term)
    data = raw_get(index, SEARCH_TABLE, [key])[0]
    if data is None:
        raise CacheMiss(term)
    return decode_rows(data, ttl)


def put_search(index: Index | None, term: str, rows: list[AurRow]) -> None:
    """Cache an answer (nothing when the index is read-only or the term too long)."""
    from omg.arch.searchindex import raw_put

    key = _search_key(term)
    if index is None or index.readonly or key is None:
        return
    import contextlib  # here: the warm search path never writes

    with contextlib.suppress(PermissionDenied):
        raw_put(index, SEARCH_TABLE, {key: encode_rows(time.time(), rows)})


def fetch_search(base: str, term: str) -> list[AurRow]:
    """RPC v5 search by name-desc, from the network."""
    from urllib.parse import quote

    data = _get_json(f"{base}/rpc/v5/search/{quote(term, safe='')}", (("by", "name-desc"),))
    return [row_of(r) for r in _results(data)]


def search(base: str, term: str, *, index: Index | None = None, ttl: float = 3600.0,
           fetch: bool = True) -> list[AurRow]:
    """RPC v5 search by name-desc; cached. `fetch=False`: CacheMiss instead of the network."""
    try:
        return cached_search(index, term, ttl)
    except CacheMiss:
        if not fetch:
            # Offline, the fast path answers from the repositories (with a warning)
            # instead of handing over to a CLI that would only fail to connect.
            _not_down(f"{base}/rpc/v5/search")
            raise
    rows = fetch_search(base, term)
    put_search(index, term, rows)
    return rows


def info(base: str, names: list[str], *, index: Index | None = None, ttl: float = 3600.0,
         fetch: bool = True) -> dict[str, AurInfo]:
    """Name -> info for the names the AUR knows; batched and cached (negatives too)."""
    found: dict[str, AurInfo] = {}
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
        data = _get_json(f"{base}/rpc/v5/info", tuple(("arg[]", n) for n in chunk))
        got = {str(r["Name"]): r for r in _results(data)}
        found.update({n: got[n] for n in chunk if n in got})
        _cache_put(index, {f"info:{n}": got.get(n) for n in chunk})
    return found


def snapshot_commit(tarball: Path) -> str:
    """The AUR git commit a snapshot was made from, or "" when it does not say.

    cgit serves ``git archive`` of the branch, which writes the commit id into the
    tar's pax global header (``comment``); tarfile parses it on opening.
    """
    import re
    import tarfile

    try:
        with tarfile.open(tarball, "r:*") as tf:
            comment = tf.pax_headers.get("comment", "")
    except (tarfile.TarError, OSError, EOFError):
        return ""  # the unpacker, next, names what is wrong with it
    return comment if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", comment) else ""


def download_snapshot(base: str, pkgbase: str, dest: Path) -> Path:
    """Fetch `<pkgbase>.tar.gz` into dest (a directory); returns the file. (A snapshot is
    a few KiB: read whole, with the retries of `_get`.)"""
    from omg.arch.names import check_name

    check_name(pkgbase)
    url = f"{base}/cgit/aur.git/snapshot/{pkgbase}.tar.gz"
    resp = _get(url)
    if resp.status_code == 404:
        raise NotFound(f"no AUR snapshot for {pkgbase}")
    if resp.status_code != 200:
        raise NetworkError(f"AUR answered HTTP {resp.status_code} for {url}")
    out = dest / f"{pkgbase}.tar.gz"
    out.write_bytes(resp.content)
    return out
