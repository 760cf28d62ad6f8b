"""Network: the only module that imports httpx (lazily, inside functions).

It owns fetching upstream indexes and downloading artifacts into the download
cache. Invariant 6 starts here: an artifact enters the cache (``cache/downloads/
<sha256>-<filename>``) only after its bytes hashed to the expected sha256, so
everything downstream unpacks verified bytes only. Partial downloads live in
``cache/partial/`` and are resumed with a ``Range`` request. Errors name the URL
and the mirror setting that chose it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from store.errors import IntegrityError, NetworkError, NotFound, PermissionDenied

if TYPE_CHECKING:
    import httpx

    from omg.config import Config

T = TypeVar("T")

#: progress(label, bytes_done, bytes_total_or_None)
DownloadProgress = Callable[[str, int, int | None], None]

_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_CHUNK = 1 << 20


@dataclass(frozen=True)
class NetOptions:
    """Retries, backoff and timeouts; built from `[network]` in config and OMG_NET_* vars."""

    retries: int = 3
    backoff: float = 0.5
    timeout: float = 30.0
    offline: bool = False
    jobs: int = 4

    @classmethod
    def from_config(cls, raw: Config, environ: dict[str, str] | None = None,
                    *, offline: bool = False) -> NetOptions:
        env = dict(os.environ if environ is None else environ)
        net = raw.get("network", {})

        def pick(key: str, configured: float | None, default: float) -> float:
            value = env.get(f"OMG_NET_{key.upper()}") or configured
            return float(value) if value not in (None, "") else default

        return cls(retries=int(pick("retries", net.get("retries"), cls.retries)),
                   backoff=pick("backoff", net.get("backoff"), cls.backoff),
                   timeout=pick("timeout", net.get("timeout"), cls.timeout),
                   offline=offline or env.get("OMG_OFFLINE", "") not in ("", "0"),
                   jobs=int(pick("jobs", net.get("jobs"), cls.jobs)))


class ChecksumMismatch(IntegrityError):
    """A download's bytes do not hash to the checksum upstream published."""


@dataclass(frozen=True)
class DownloadJob:
    url: str
    sha256: str
    filename: str
    mirror_var: str
    label: str = ""


def _hint(mirror_var: str) -> str:
    return f"check the network or set {mirror_var} (or [mirrors] in the config file)"


def _client(opts: NetOptions) -> httpx.Client:
    import httpx

    return httpx.Client(follow_redirects=True, timeout=opts.timeout,
                        headers={"User-Agent": "omg/0.1"})


_PROXY_HINT = ("check the proxy (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY; NO_PROXY lists the "
               "hosts that bypass it)")


def _retrying(url: str, mirror_var: str, opts: NetOptions, attempt_fn: Callable[[], T],
              *, hint: str = "") -> T:
    """Run `attempt_fn`, retrying transient failures with exponential backoff.

    The errors' hint is `hint`, or by default "set `mirror_var`".

    A host that did not answer is remembered for a while (`omg.unreachable`): the
    next command fails at once rather than after its timeouts and retries again. A
    name that does not resolve is not retried: the resolver has already answered.
    """
    import httpx

    from omg import unreachable

    hint = hint or _hint(mirror_var)
    ago = unreachable.seen(url)
    proxy = unreachable.proxy_for(url)
    down_hint = _PROXY_HINT if proxy else hint  # a failed connection is the proxy's
    if ago is not None:
        raise NetworkError(f"{url}: {unreachable.down_name(url)} did not answer {ago:.0f} s "
                           "ago; not trying again yet",
                           hint=f"{down_hint}; {unreachable.VARIABLE}=0 retries at once")
    last: str = ""
    down = False
    for attempt in range(opts.retries + 1):
        if attempt:
            time.sleep(opts.backoff * (2 ** (attempt - 1)))
        try:
            result = attempt_fn()
        except _Status as exc:
            if exc.status == 404:
                raise NotFound(f"{url}: HTTP 404 not found", hint=hint) from None
            last = f"HTTP {exc.status}"
            if exc.status not in _TRANSIENT_STATUS:
                break
        except httpx.ConnectError as exc:
            last, down = _connect_failure(url, exc), True
            if _is_dns_failure(exc):
                break
        except httpx.TimeoutException:
            last, down = "timed out", True
        except httpx.TransportError as exc:  # includes a connection cut mid-body
            last = _why(exc)
        except (httpx.RequestError, httpx.InvalidURL) as exc:
            # Not transient (bad encoding, redirect loop, malformed mirror URL): no retry,
            # and an OmgError naming the mirror setting rather than a traceback.
            last = _why(exc)
            break
        else:
            unreachable.forget(url)
            return result
    if down:
        unreachable.remember(url)
    if down and proxy:
        raise NetworkError(f"{url}: through the proxy {unreachable.shown_proxy(proxy)}: "
                           f"{last}", hint=down_hint)
    raise NetworkError(f"{url}: {last}", hint=hint)


def _is_dns_failure(exc: BaseException) -> bool:
    """A name that did not resolve (socket.gaierror somewhere in the chain)."""
    import socket

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, socket.gaierror):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return "Name or service not known" in str(exc) or "name resolution" in str(exc)


def _connect_failure(url: str, exc: BaseException) -> str:
    if _is_dns_failure(exc):
        return f"cannot resolve the host name ({_why(exc)})"
    return f"cannot connect ({_why(exc)})"


class _Status(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@dataclass(frozen=True)
class Document:
    """A fetched document and the response headers a cache and a pager need."""

    body: bytes
    etag: str = ""
    modified: str = ""  # Last-Modified, verbatim
    link: str = ""  # the Link header (RFC 8288), for paginated APIs


def fetch(url: str, *, mirror_var: str, opts: NetOptions) -> bytes:
    """GET a (small) document such as an index or checksum file."""
    doc = fetch_document(url, mirror_var=mirror_var, opts=opts)
    assert doc is not None  # no validators given: never "not modified"
    return doc.body


def fetch_document(url: str, *, mirror_var: str, opts: NetOptions, etag: str = "",
                   modified: str = "") -> Document | None:
    """GET a document; with `etag`/`modified` (from an earlier answer) the request is
    conditional and None means 304, "what you have is current", at the cost of no body."""
    if opts.offline:
        raise NetworkError(f"{url}: not cached and --offline is set",
                           hint="run once without --offline to fill the cache")
    headers = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", modified))
               if v}
    with _client(opts) as client:
        def attempt() -> Document | None:
            start = time.monotonic()
            resp = client.get(url, headers=headers)
            _said(f"GET {url}: HTTP {resp.status_code}, {len(resp.content)} bytes", start)
            if resp.status_code == 304 and headers:
                return None
            if resp.status_code != 200:
                raise _Status(resp.status_code)
            h = resp.headers
            return Document(resp.content, h.get("etag", ""), h.get("last-modified", ""),
                            h.get("link", ""))

        result: Document | None = _retrying(url, mirror_var, opts, attempt)
        return result


class KeyClient:
    """GET or HEAD the keys of a keyed store (a binary cache over HTTP) through one
    kept-alive client: a client per request costs a TLS setup and a connection each,
    ~40 ms, which thousands of objects pay in minutes. Thread-safe; close() it.

    404 and 410 are None: a missing key is an answer, not a failure. 401 and 403 are
    `PermissionDenied`, not worth a retry.
    """

    def __init__(self, opts: NetOptions, hint: str) -> None:
        import threading

        self._opts, self._hint = opts, hint
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def fetch(self, url: str, *, head: bool = False) -> bytes | None:
        """The body of `url` (b"" for a HEAD that found it), or None."""
        client = self._open()

        def attempt() -> bytes | None:
            start = time.monotonic()
            resp = client.request("HEAD" if head else "GET", url)
            _said(f"{resp.request.method} {url}: HTTP {resp.status_code}", start)
            if resp.status_code in (404, 410):
                return None
            if resp.status_code in (401, 403):
                raise PermissionDenied(f"{url}: HTTP {resp.status_code} {resp.reason_phrase}",
                                       hint=self._hint)
            if resp.status_code != 200:
                raise _Status(resp.status_code)
            return b"" if head else resp.content

        result: bytes | None = _retrying(url, "", self._opts, attempt, hint=self._hint)
        return result

    def _open(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = _client(self._opts)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def cached_artifact(cache: Path, sha256: str, filename: str) -> Path:
    return cache / "downloads" / f"{sha256.lower()}-{os.path.basename(filename)}"


def _hash_file(path: Path, progress: Callable[[int], None] | None = None) -> hashlib._Hash:
    """A sha256 object fed with the file's bytes (empty when the file is missing);
    `progress` gets the bytes hashed so far."""
    h = hashlib.sha256()
    done = 0
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            if progress:
                done += len(chunk)
                progress(done)
    return h


def _file_sha256(path: Path, label: str = "",
                 progress: DownloadProgress | None = None) -> str:
    """The file's sha256; a long one shows as "verify <label>" on the progress bar."""
    if progress is None:
        return _hash_file(path).hexdigest()
    try:
        total: int | None = path.stat().st_size
    except OSError:
        total = None
    return _hash_file(path, lambda done: progress(f"verify {label}", done, total)).hexdigest()


def download(job: DownloadJob, cache: Path, *, opts: NetOptions,
             progress: DownloadProgress | None = None) -> Path:
    """The verified artifact in the download cache, downloading (or resuming) it if needed."""
    want = job.sha256.lower()
    final = cached_artifact(cache, want, job.filename)
    if final.exists():
        if _file_sha256(final, job.label or job.filename, progress) == want:
            return final
        final.unlink(missing_ok=True)  # a damaged cache entry is refetched, never trusted
    if opts.offline:
        raise NetworkError(f"{job.url}: not in the download cache and --offline is set",
                           hint="run once without --offline to fill the cache")
    partial = cache / "partial" / f"{want}.part"
    partial.parent.mkdir(parents=True, exist_ok=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    from store.locks import flock

    # Two processes fetching one artifact share the partial file: one at a time.
    with flock(partial.with_suffix(".lock"), timeout=opts.timeout * 20,
               what=f"the download of {job.filename}"):
        if final.exists() and _file_sha256(final) == want:
            return final
        got = _fetch_to(job, partial, opts, progress)
        if got != want:
            partial.unlink(missing_ok=True)
            raise ChecksumMismatch(
                f"{job.url}: checksum mismatch (expected sha256 {want}, got {got})",
                hint="the download or the mirror is corrupt; nothing was installed")
        os.replace(partial, final)
    return final


def _fetch_to(job: DownloadJob, partial: Path, opts: NetOptions,
              progress: DownloadProgress | None) -> str:
    """Download (resuming `partial`), hashing as the bytes arrive; returns the sha256."""
    label = job.label or job.filename
    state: dict[str, hashlib._Hash] = {}

    with _client(opts) as client:
        def attempt() -> None:
            have = partial.stat().st_size if partial.exists() else 0
            headers = {"Range": f"bytes={have}-"} if have else {}
            with client.stream("GET", job.url, headers=headers) as resp:
                if resp.status_code == 416:  # already complete (or garbage): start over
                    partial.unlink(missing_ok=True)
                    raise _Status(503)
                if resp.status_code not in (200, 206):
                    raise _Status(resp.status_code)
                resume = resp.status_code == 206 and have > 0
                h = _hash_file(partial) if resume else hashlib.sha256()
                done = have if resume else 0
                length = resp.headers.get("content-length")
                total = done + int(length) if length and length.isdigit() else None
                with open(partial, "ab" if resume else "wb") as out:
                    for chunk in resp.iter_bytes():
                        out.write(chunk)
                        h.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(label, done, total)
                state["hash"] = h

        start = time.monotonic()
        _retrying(job.url, job.mirror_var, opts, attempt)
        _said(f"downloaded {job.url} to {partial.parent.parent / 'downloads'}", start)
    return state["hash"].hexdigest()


def _said(message: str, start: float) -> None:
    from omg.verbosity import say

    say(f"{message} ({(time.monotonic() - start) * 1000:.0f} ms)")


def download_many(jobs: Sequence[DownloadJob], cache: Path, *, opts: NetOptions,
                  progress: DownloadProgress | None = None) -> list[Path]:
    """Several artifacts in parallel; the first failure is raised after all settle.

    The workers are daemon threads, not a ThreadPoolExecutor: on Ctrl-C the main
    thread leaves at once (exit 130) instead of joining downloads that may stall
    for timeout x retries; an abandoned download is left in ``cache/partial/``,
    which the next run resumes.
    """
    if len(jobs) <= 1:
        return [download(j, cache, opts=opts, progress=progress) for j in jobs]
    import threading

    outcomes: list[Path | BaseException | None] = [None] * len(jobs)
    todo = iter(range(len(jobs)))
    take = threading.Lock()

    def work() -> None:
        while True:
            with take:
                i = next(todo, None)
            if i is None:
                return
            try:
                outcomes[i] = download(jobs[i], cache, opts=opts, progress=progress)
            except BaseException as exc:
                outcomes[i] = exc

    workers = [threading.Thread(target=work, daemon=True, name="omg-download")
               for _ in range(max(1, min(opts.jobs, len(jobs))))]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    results: list[Path] = []
    for outcome in outcomes:
        if not isinstance(outcome, Path):
            raise outcome or RuntimeError("a download worker ended without an outcome")
        results.append(outcome)
    return results

