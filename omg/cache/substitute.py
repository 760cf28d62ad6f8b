"""Substitution: a store path pulled from a binary cache into the store, closure first.

What is trusted, and checked in which order (docs/binary-cache.md, "Substitution and
trust"), for each cache asked:
1. ``omg-cache.json`` says ``omg-cache-v1`` (a cache without it holds nothing yet);
2. the index (unsigned) names candidate store paths for what is asked;
3. each manifest of the closure is decoded strictly, must be signed by one of the
   trusted keys, must name the store path asked for, and the top one must say it is
   what was asked (`what`: tool, version and platform; or Arch name and version);
4. only the objects whose content the store's pool (``store/.links``) lacks are
   downloaded; each is checked against its BLAKE3 as it is decompressed;
5. the tree is ingested by the store (staging, seal, one rename) and must hash to
   exactly the name asked for, or nothing is published; a ``CACHE`` claim records
   the cache URL and the key that vouched.
Anything that fails is one warning, ``<cache URL>: <why>; falling back to upstream``,
and the next cache (then upstream) is asked; a cache that did not answer is not asked
again in the same command. A plain miss says nothing.

How the tree reaches the store: as a stream of `store.archive.Member`s replayed from
the manifest (`LocalStore.add_members`), not a staging copy. A file the pool has is
read from ``.links/<hex>[x]`` and becomes a hard link there again (unpack hashes it
first and links it: no write); a downloaded object is kept compressed (in memory, or
a large one in a private temporary directory) and decompressed straight into the
store's staging area, hashed once by the verifying reader and once by unpack. The
downloads run in a thread pool, in the tree's order, while the tree is ingested: a
file waits only for its own object. So each new byte is written once, the store's own
checks (names, links, limits) judge the tree as they judge any archive, and its dedup
applies unchanged. (A staging directory instead would write every byte twice.)

`--offline` asks no cache at all (a cache is network, even a ``file://`` one on a
mount): offline means the store alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from blake3 import blake3

from omg.cache import manifest as mf
from omg.cache.storage import CacheStorage, open_storage, redact
from omg.config import cache_url, substituters
from store.archive import Content, Member, MemberKind
from store.claims import CACHE, Claim
from store.errors import IntegrityError, NetworkError, NotFound, OmgError, UsageError
from store.layout import store_hash_of
from store.results import SHAPES, Result

if TYPE_CHECKING:
    from omg.cache.keys import PublicKey
    from omg.config import Settings
    from store.local import LocalStore
    from store.record import PathRecord

DEFAULT_TIMEOUT = 5.0
_JOBS = 32
_CHUNK = 1 << 20
#: A downloaded object up to this (compressed) size is kept in memory until the pull
#: ends (most of a runtime's files: no file made, read and removed each), a larger
#: one in a file under the pull's directory.
_IN_MEMORY = 4 << 20
#: ``<OMG_HOME>/tmp/pull-<pid>-<random>``: one pull's downloaded objects, compressed.
_PULL = "pull-"


def check_urls(urls: Sequence[str]) -> None:
    for url in urls:
        if not cache_url(url):
            raise UsageError(f"substituter {url!r}: not a cache URL",
                             hint="OMG_SUBSTITUTERS and [cache] substituters take file://, "
                                  "http(s):// and s3:// URLs")


class Pulled(NamedTuple):
    """One store path a cache gave: its record, the cache, the key that signed it."""

    record: PathRecord
    cache: str
    key: str
    #: Objects downloaded (for its whole closure), and their compressed bytes; the
    #: rest came from the store's pool.
    fetched: int = 0
    fetched_bytes: int = 0
    created: bool = True


class PullResult(Result):
    """`omg cache pull`: what each item gave."""

    url: str
    #: Store path names added (each item's; their references come first, uncounted).
    pulled: list[str]
    #: Those the store had already.
    present: list[str]
    objects: int  # objects downloaded
    object_bytes: int  # their compressed bytes


SHAPES[PullResult] = {"pulled": list, "present": list}


class Substituted(Result):
    """What the configured substituters gave for each item asked (`substitute_items`)."""

    #: item -> store path name, for the items a cache had (the others: ask upstream).
    found: dict[str, str]
    #: item -> the cache it came from.
    caches: dict[str, str]
    warnings: list[str]


SHAPES[Substituted] = {"warnings": list}


def substitute_items(settings: Settings, store: LocalStore, items: Sequence[str], *,
                     user: str) -> Substituted:
    """Ask this process's substituters (omgd's own, through omgd) for each item, in
    order: ``aur/NAME@VERSION`` (an Arch package, ``epoch:pkgver-pkgrel``) or
    ``TOOL@VERSION`` (this platform). A miss or a refusal leaves the item out (with
    a warning for a refusal): the caller builds or downloads it as before."""
    out = Substituted({}, {}, [])
    subst = Substituter.for_settings(settings, store, user=user, warn=out.warnings.append)
    if subst is None:
        return out
    try:
        for item in items:
            got = _substitute_one(subst, item)
            if got is not None:
                out.found[item], out.caches[item] = got.record.path, got.cache
    finally:
        subst.close()
    return out


def _substitute_one(subst: Substituter, item: str) -> Pulled | None:
    if item.startswith("aur/"):  # Arch's own words: a name may hold '@', a version ':'
        name, sep, version = item.removeprefix("aur/").rpartition("@")
        if not (sep and version):
            raise UsageError(f"{item!r}: not aur/NAME@VERSION nor TOOL@VERSION")
        from omg.arch.names import check_name

        return subst.arch(check_name(name), version)
    from omg.spec import parse_exact

    spec = parse_exact(item)
    if spec.repo:
        raise UsageError(f"{item!r}: a cache holds aur/NAME@VERSION or TOOL@VERSION")
    from omg import providers
    from omg.providers.base import Platform

    return subst.runtime(providers.canonical(spec.tool), spec.spec.removeprefix("v"),
                         Platform.detect().key)


def pull_items(settings: Settings, store: LocalStore, url: str, items: Sequence[str], *,
               user: str, platform: str) -> PullResult:
    """`omg cache pull URL ITEM...`: each ITEM (a store path name, or TOOL@VERSION for
    `platform`) from the cache at `url`, checked with this process's trusted keys.
    Unlike substitution, a refusal is an error (nothing is added for that item)."""
    from omg.cache import keys

    trusted = keys.parse_publics(substituters(settings)[1])
    if not trusted:
        raise UsageError("no trusted key: a pull accepts only manifests signed by one",
                         hint="set OMG_TRUSTED_KEYS or [cache] trusted_keys to the "
                              "cache's public key (NAME:BASE64)")
    targets = [_item(i, platform) for i in items]
    storage = open_storage(url, timeout=_timeout(settings))
    result = PullResult(storage.url, [], [], 0, 0)
    try:
        check_marker(storage)
        for item, (index_key, what) in zip(items, targets, strict=True):
            got = _pull_item(store, storage, item, index_key, what, trusted, user)
            which = result.pulled if got.created else result.present
            which.append(got.record.path)
            result = result._replace(objects=result.objects + got.fetched,
                                     object_bytes=result.object_bytes + got.fetched_bytes)
    finally:
        storage.close()
    return result


def _item(item: str, platform: str) -> tuple[str | None, dict[str, str] | None]:
    """(index key, what) of TOOL@VERSION; (None, None) for a store path name."""
    if store_hash_of(item) == item[:32] and len(item) > 33:
        return None, None
    if "@" not in item:
        raise UsageError(f"{item!r}: not a store path name nor TOOL@VERSION")
    from omg.spec import parse_exact

    spec = parse_exact(item)
    if spec.repo:
        raise UsageError(f"{item!r}: pull a package by its store path name",
                         hint="omg cache pull URL NAME, or TOOL@VERSION for a runtime")
    from omg import providers

    what = mf.runtime_what(providers.canonical(spec.tool), spec.spec.removeprefix("v"),
                           platform)
    return mf.index_keys(what)[0], what


def _pull_item(store: LocalStore, storage: CacheStorage, item: str, index_key: str | None,
               what: dict[str, str] | None, trusted: Sequence[PublicKey], user: str
               ) -> Pulled:
    if index_key is None:
        names = [item]
    else:
        raw = storage.get(index_key)
        names = [] if raw is None else mf.decode_index(raw, index_key)
    for name in names:
        got = pull(store, storage, name, trusted, user, what=what)
        if got is not None:
            return got
    raise NotFound(f"{storage.url}: no {item} in this cache")


def lines(r: PullResult) -> list[str]:
    """`omg cache pull`'s summary."""
    from omg.units import human_size

    return [*(f"pulled {n}" for n in r.pulled), *(f"already in the store: {n}"
                                                  for n in r.present),
            f"{r.url}: {len(r.pulled)} pulled, {len(r.present)} already there; "
            f"{r.objects} object{'' if r.objects == 1 else 's'} downloaded "
            f"({human_size(r.object_bytes)})"]


def _timeout(settings: Settings) -> float:
    return float(settings.raw.get("cache", {}).get("timeout", DEFAULT_TIMEOUT))


@dataclass
class Substituter:
    """The substituters of one command, over one store (opened lazily, closed once)."""

    store: LocalStore
    urls: Sequence[str]
    trusted: Sequence[PublicKey]
    user: str
    warn: Callable[[str], None]
    timeout: float = DEFAULT_TIMEOUT
    _open: dict[str, CacheStorage] = field(default_factory=dict)
    _down: set[str] = field(default_factory=set)

    @classmethod
    def for_settings(cls, settings: Settings, store: LocalStore, *, user: str,
                     warn: Callable[[str], None]) -> Substituter | None:
        """The configured substituters, or None when there are none (or no key to
        trust: then no entry could be accepted, so none is asked)."""
        urls, key_texts = substituters(settings)
        if not urls:
            return None
        check_urls(urls)
        from omg.cache import keys

        trusted = keys.parse_publics(key_texts)
        if not trusted:
            warn("substituters are set but no trusted key: no cache is asked "
                 "(set OMG_TRUSTED_KEYS or [cache] trusted_keys)")
            return None
        return cls(store, urls, trusted, user, warn, _timeout(settings))

    def close(self) -> None:
        for storage in self._open.values():
            storage.close()
        self._open.clear()

    # What the use cases ask ------------------------------------------------------------

    def runtime(self, tool: str, version: str, platform: str) -> Pulled | None:
        what = mf.runtime_what(tool, version, platform)
        return self._first(mf.index_keys(what)[0], what)

    def arch(self, package: str, version: str) -> Pulled | None:
        """An Arch package by name and ``epoch:pkgver-pkgrel``, whatever its repo."""
        key = f"index/arch/{package}/{version}.json"
        return self._first(key, {"kind": "arch", "package": package, "version": version})

    def _first(self, index_key: str, what: Mapping[str, str]) -> Pulled | None:
        for url in self.urls:
            if url in self._down:
                continue
            try:
                storage = self._storage(url)
            except OmgError as exc:
                self._down.add(url)  # not a cache we can use: once per command is enough
                self._refused(url, exc)
                continue
            try:
                for name in self._index(storage, index_key):
                    found = pull(self.store, storage, name, self.trusted, self.user,
                                 what=what)
                    if found is not None:
                        return found
            except OmgError as exc:
                self._refused(url, exc)
        return None

    def _refused(self, url: str, exc: OmgError) -> None:
        if isinstance(exc, NetworkError):
            self._down.add(url)
        self.warn(f"{redact(url)}: {_why(exc, url)}; falling back to upstream")

    def _storage(self, url: str) -> CacheStorage:
        storage = self._open.get(url)
        if storage is None:
            storage = open_storage(url, timeout=self.timeout)
            check_marker(storage)
            self._open[url] = storage
        return storage

    def _index(self, storage: CacheStorage, key: str) -> list[str]:
        raw = storage.get(key)
        return [] if raw is None else mf.decode_index(raw, key)


def _why(exc: OmgError, url: str) -> str:
    """The error's message without a leading cache URL (the warning starts with it)."""
    text = exc.message
    for prefix in (url.rstrip("/"), redact(url).rstrip("/")):
        if text.startswith(prefix):
            # "URL: why" -> "why"; "URL/KEY: why" -> "KEY: why"
            return text[len(prefix):].lstrip("/:").lstrip()
    return text


def check_marker(storage: CacheStorage) -> None:
    raw = storage.get(mf.MARKER_KEY)
    if raw is None:
        raise NotFound(f"no {mf.MARKER_KEY}: not an omg binary cache (or nothing pushed yet)")
    try:
        fmt = json.loads(raw).get("format")
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise IntegrityError(f"{mf.MARKER_KEY}: corrupt") from None
    if fmt != mf.FORMAT:
        from store.errors import FormatTooNew

        raise FormatTooNew(f"cache format {fmt!r} is not {mf.FORMAT!r}", hint="upgrade omg")


# One pull ------------------------------------------------------------------------------

def pull(store: LocalStore, storage: CacheStorage, name: str, trusted: Sequence[PublicKey],
         user: str, *, what: Mapping[str, str] | None = None) -> Pulled | None:
    """Pull store path `name` (its references first) from `storage` into `store`.

    None when the cache has no manifest of it; `what`: the top manifest must say it
    is that (every key given must match). Raises an OmgError when something is
    refused (the caller warns and falls back); every manifest of the closure is
    checked before anything is ingested.
    """
    closure = _manifests(storage, name, trusted, store)
    if closure is None:
        return None
    top = closure[-1][0]
    if what is not None and any(top.what.get(k) != v for k, v in what.items()):
        raise IntegrityError(f"{mf.manifest_key(name)} is a {dict(top.what)}, not the "
                             f"{dict(what)} its index names")
    fetched = fetched_bytes = 0
    for m, signer in closure:
        done = _ingest(store, storage, m, signer, user)
        fetched, fetched_bytes = fetched + done.fetched, fetched_bytes + done.fetched_bytes
    return done._replace(fetched=fetched, fetched_bytes=fetched_bytes)


def _manifests(storage: CacheStorage, name: str, trusted: Sequence[PublicKey],
               store: LocalStore) -> list[tuple[mf.Manifest, PublicKey]] | None:
    """The verified manifests of `name` and of its references the store lacks,
    references first; None if `name` itself has no manifest in the cache."""
    order: list[tuple[mf.Manifest, PublicKey]] = []
    seen: set[str] = set()

    def visit(path: str, top: bool) -> bool:
        if path in seen:
            return True
        seen.add(path)
        key = mf.manifest_key(path)
        raw = storage.get(key)
        if raw is None:
            if top:
                return False
            raise NotFound(f"reference {path} is neither in the store nor in the cache")
        m = mf.decode(raw, key, expect_name=path)
        signer = mf.verify(m, trusted)
        if signer is None:
            names = ", ".join(s.key for s in m.signatures) or "nobody"
            raise IntegrityError(f"{key}: not signed by a trusted key (signed by {names})")
        for ref in m.references:
            if not store.layout.store_path(ref).is_dir():
                visit(ref, False)
        order.append((m, signer))
        return True

    return order if visit(name, True) else None


def _name_version(m: mf.Manifest) -> tuple[str, str]:
    """The record's name and version: the package's name from `what`, the version the
    rest of the store path name (an Arch epoch's `:` is `_` there)."""
    w = m.what
    pkg = w.get("tool") or w.get("package") or w.get("name") or ""
    rest = m.name[33:]
    if not pkg or not rest.startswith(pkg + "-") or len(rest) <= len(pkg) + 1:
        raise IntegrityError(f"{mf.manifest_key(m.name)}: its name does not say "
                             f"{pkg or 'what it is'}")
    return pkg, rest[len(pkg) + 1:]


def _ingest(store: LocalStore, storage: CacheStorage, m: mf.Manifest, signer: PublicKey,
            user: str) -> Pulled:
    claim = Claim(CACHE, user, {"cache": storage.url, "key": signer.name,
                                "what": dict(m.what)})
    known = _claim_existing(store, m.name, claim)
    if known is not None:
        return Pulled(known, storage.url, signer.name, created=False)
    pool = store.layout.links
    # In the order the tree needs them, so the ingest starts while the rest download.
    missing = list(dict.fromkeys(
        digest for _, kind, digest, _ in m.tree if kind in "fx"
        and not (pool / digest).exists() and not (pool / f"{digest}x").exists()))
    name, version = _name_version(m)
    tmp = store.layout.home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    clean_dead_pulls(tmp)
    work = tmp / f"{_PULL}{os.getpid()}-{secrets.token_hex(4)}"
    work.mkdir(mode=0o700)
    downloads = _Downloads(storage, missing, work)
    try:
        result = store.add_members(
            _members(m, pool, downloads, storage.url), f"{storage.url} {m.name}", name,
            version, expect_name=m.name, claim=claim, references=m.references,
            origin=dict(m.origin) or None, metadata=dict(m.metadata))
        fetched_bytes = downloads.total()
    finally:
        from store.fsutil import force_remove

        downloads.close()  # no thread writes into `work` any more
        force_remove(work)
    return Pulled(result.record, storage.url, signer.name, len(missing), fetched_bytes,
                  result.created)


def _claim_existing(store: LocalStore, name: str, claim: Claim) -> PathRecord | None:
    """A path the store has already (its content hashes to its name: invariant 1) needs
    no tree replayed, only the cache's claim; None when it is not there."""
    import time

    from store import claims

    with store.gc_guard():
        if not store.layout.store_path(name).is_dir():
            return None
        record = store.get(name)
        claims.record(store.layout, name, claim, now=time.time())
    return record


def clean_dead_pulls(tmp: Path) -> None:
    """Remove the download directories of pulls whose process is gone (SIGKILL, a
    crash): what they held was never in the store, so nothing else needs them."""
    from store.fsutil import force_remove

    for entry in os.listdir(tmp):
        if not entry.startswith(_PULL):
            continue
        pid = entry.removeprefix(_PULL).partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                force_remove(tmp / entry)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Downloads:
    """The objects one pull fetches, each into `work/<hex>.zst`, in a thread pool that
    runs while the tree is ingested: a member waits only for its own object."""

    def __init__(self, storage: CacheStorage, digests: Sequence[str], work: Path) -> None:
        from concurrent.futures import Future, ThreadPoolExecutor

        self._storage, self.work = storage, work
        self._small: dict[str, bytes] = {}
        self._pool = ThreadPoolExecutor(max(1, min(_JOBS, len(digests))),
                                        thread_name_prefix="omg-pull")
        self._futures: dict[str, Future[int]] = {
            d: self._pool.submit(self._one, d) for d in digests}

    def _one(self, digest: str) -> int:
        key = mf.object_key(digest)
        data = self._storage.get(key)
        if data is None:
            raise IntegrityError(f"{key}: missing (a push not finished, or a pruned cache)")
        if len(data) <= _IN_MEMORY:
            self._small[digest] = data  # most of a runtime: no file made, read, removed
        else:
            (self.work / f"{digest}.zst").write_bytes(data)
        return len(data)

    def wait(self, digest: str) -> bytes | Path | None:
        """The downloaded object of `digest` once it is there (its failure raised): its
        bytes, or the file holding a large one; None when the pull does not download
        it (the pool has it)."""
        future = self._futures.get(digest)
        if future is None:
            return None
        future.result()
        return self._small.get(digest) or self.work / f"{digest}.zst"

    def total(self) -> int:
        """The compressed bytes downloaded (every download done)."""
        return sum(f.result() for f in self._futures.values())

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _members(m: mf.Manifest, pool: Path, downloads: _Downloads, url: str
             ) -> Iterator[Member]:
    """`m`'s tree as archive members, each file's stream opened only while it is read."""
    for rel, kind, value, size in m.tree:
        if kind == "d":
            yield Member(rel, MemberKind.DIRECTORY, 0o755)
        elif kind == "l":
            yield Member(rel, MemberKind.SYMLINK, 0o777, target=value)
        else:
            mode = 0o755 if kind == "x" else 0o644
            with _open_content(pool, downloads, value, size, url) as stream:
                yield Member(rel, MemberKind.FILE, mode, size, stream=stream)


class _Verified:
    """A decompressing reader that checks the content's BLAKE3 and size at its end."""

    def __init__(self, source: bytes | Path, digest: str, size: int, url: str) -> None:
        import io

        import zstandard

        self._file = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
        self._reader = zstandard.ZstdDecompressor().stream_reader(self._file)
        self._hash = blake3()
        self._digest, self._size, self._seen = digest, size, 0
        self._what = f"{url}: object {digest}"

    def readinto(self, buffer: object) -> int:
        view = memoryview(buffer).cast("B")  # type: ignore[arg-type]
        try:
            n = self._reader.readinto(view)
        except Exception as exc:  # zstandard raises its own ZstdError
            raise IntegrityError(f"{self._what}: corrupt: {exc}") from None
        if n:
            self._hash.update(view[:n])
            self._seen += n
            if self._seen > self._size:
                raise IntegrityError(f"{self._what}: longer than its {self._size} bytes")
        elif self._seen != self._size or self._hash.hexdigest() != self._digest:
            raise IntegrityError(f"{self._what}: its content does not match its name")
        return n

    def read(self, size: int = -1, /) -> bytes:
        out = bytearray()
        buf = bytearray(_CHUNK if size < 0 else min(size, _CHUNK))
        while size < 0 or len(out) < size:
            n = self.readinto(memoryview(buf)[: (size - len(out)) if size >= 0 else None])
            if not n:
                break
            out += buf[:n]
        return bytes(out)

    def close(self) -> None:
        self._reader.close()  # type: ignore[no-untyped-call]
        self._file.close()


@contextlib.contextmanager
def _open_content(pool: Path, downloads: _Downloads, digest: str, size: int, url: str
                  ) -> Iterator[Content]:
    """The content of one file: a downloaded object (verified as it is read), or the
    pool's copy (the store hashes it again, and the tree must give the name asked)."""
    compressed = downloads.wait(digest)
    if compressed is not None:
        verified = _Verified(compressed, digest, size, url)
        try:
            yield verified
        finally:
            verified.close()
        return
    for candidate in (pool / digest, pool / f"{digest}x"):
        try:
            plain = open(candidate, "rb")  # noqa: SIM115 (closed below)
        except FileNotFoundError:
            continue
        with plain:
            yield plain
        return
    raise IntegrityError(f"{url}: object {digest} left the store's pool during the pull")
