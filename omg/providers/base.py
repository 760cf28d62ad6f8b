"""The one Provider interface every runtime implements, and what they share.

A provider knows one upstream: its release index (`releases`), how a spec
resolves (`resolve`, pure), the artifacts for this platform with their
checksums (`artifacts`), and what a store path exports (`exports`). Network
access goes through `Context`, which caches upstream documents in the LMDB
``upstream`` table with an expiry and never imports httpx itself. The expiry
is the provider's `index_ttl` (how often its upstream publishes, and how hard
it rate-limits), unless the user set one for every index (`OMG_INDEX_TTL`).
An expired document is asked for again with the validators its server gave
(ETag, Last-Modified), so an unchanged one costs a 304 and no body.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, NotRequired, Protocol, TypedDict, TypeGuard

# The placeholders of `Provider.env_vars` are the env planner's, which resolves them.
from generations.env import PREFIX as PREFIX
from generations.env import STORE_PATH as STORE_PATH
from omg.spec import matches, version_key
from store.errors import IntegrityError, NetworkError, NotFound, OmgError

if TYPE_CHECKING:
    from omg.provenance import Identity
    from omg.signatures import Checker, Signature
    from store.index import Index

#: In `Provider.env_vars`: the installed version's first and second numbers, filled in at
#: install (`Provider.recorded_env`), so a prefix that holds native code can be per ABI
#: (npm's per node major, GEM_HOME per ruby x.y.0) while PREFIX stays a placeholder.
MAJOR = "@major@"
MINOR = "@minor@"

@dataclass(frozen=True)
class Platform:
    os: str = "linux"
    arch: str = "x64"  # x64 | arm64
    libc: str = "gnu"  # gnu | musl

    @classmethod
    def detect(cls, environ: dict[str, str] | None = None) -> Platform:
        env = os.environ if environ is None else environ
        machine = env.get("OMG_ARCH") or os.uname().machine.lower()
        arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
            machine, machine)
        libc = env.get("OMG_LIBC") or (
            "musl" if any(p.name.startswith("ld-musl-") for p in _lib_dir()) else "gnu")
        return cls("linux", arch, libc)

    @property
    def key(self) -> str:
        """`linux-x64-gnu`: how a binary cache's index and a lock file name it."""
        return f"{self.os}-{self.arch}-{self.libc}"


def _lib_dir() -> list[Path]:
    try:
        return list(Path("/lib").iterdir())
    except OSError:
        return []


@dataclass(frozen=True)
class Release:
    """One version the upstream offers."""

    version: str
    date: str = ""
    lts: str = ""  # Node LTS code name, "" when not LTS
    security: bool = False
    prerelease: bool = False
    #: What the provider keeps for `artifacts` (the file's URL, its checksum...).
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Artifact:
    """One file to download; `subdir` is the part of the (top-stripped) tree to keep."""

    url: str
    sha256: str
    filename: str
    subdir: str = ""
    component: str = ""  # for multi-component runtimes: which one (recorded at install)
    #: A detached PGP signature of this file upstream publishes (Go, Adoptium), checked
    #: after the download (omg.signatures).
    signature: str = ""
    #: Where a Sigstore bundle of this file may be, tried in order (omg.provenance).
    attestations: tuple[str, ...] = ()


#: How long a cached upstream document stays fresh when nobody says otherwise (seconds).
DEFAULT_INDEX_TTL = 3600.0


@dataclass(frozen=True)
class Doc:
    """An upstream document as the cache keeps it."""

    body: bytes
    link: str = ""  # the Link header: where a paginated listing goes on


#: (url, mirror_var, ttl) -> the document; a cached one younger than `ttl` seconds is reused.
Fetcher = Callable[[str, str, float], Doc]


class Answer(Protocol):
    """What the network gives back (`omg.net.Document`; base never imports omg.net)."""

    @property
    def body(self) -> bytes: ...
    @property
    def etag(self) -> str: ...
    @property
    def modified(self) -> str: ...
    @property
    def link(self) -> str: ...


#: (url, mirror_var, etag, last_modified) -> the answer, or None for "not modified"
#: (HTTP 304; only possible when a validator was given).
RawFetch = Callable[[str, str, str, str], "Answer | None"]


@dataclass
class Context:
    """What a provider may use: mirror settings, the platform and cached fetches.

    `trail` lists every URL read, in order, so a caller can tell which cached
    documents an answer came from (and `forget` them when they proved wrong);
    `stale` the ones served past their expiry because upstream was unreachable.
    """

    mirror_of: Callable[[str, str], str]
    platform: Platform
    fetch: Fetcher
    #: Checks upstream signatures (omg.signatures); None: nothing is checked (listings).
    signatures: Checker | None = None
    notices: list[str] = field(default_factory=list)
    forget: Callable[[str], None] = lambda url: None
    stale: list[str] = field(default_factory=list)
    trail: list[str] = field(default_factory=list)

    # `ttl` has no default on purpose: each upstream says how long its documents keep.

    def json(self, url: str, mirror_var: str, ttl: float) -> object:
        return parse_json(url, self.fetch(url, mirror_var, ttl).body)

    def text(self, url: str, mirror_var: str, ttl: float) -> str:
        return self.fetch(url, mirror_var, ttl).body.decode("utf-8", "replace")

    def signed(self, tool: str, url: str, body: Callable[[], bytes],
               signatures: Sequence[Signature], fetch: Callable[[str], bytes]) -> bytes:
        """The trusted bytes of an upstream document that upstream signs (see
        omg.signatures: a bad signature raises, a missing one warns or refuses)."""
        if self.signatures is None:
            return body()
        return self.signatures.document(tool, url, body, signatures, fetch)


def parse_json(url: str, body: bytes) -> object:
    """An upstream document: the provider checks its shape (`check_keys`, `bad_index`)."""
    try:
        loaded: object = json.loads(body)
        return loaded
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"{url}: the index is not valid JSON ({exc})") from exc


def bad_index(url: str, what: str) -> IntegrityError:
    return IntegrityError(f"{url}: unexpected index format: {what}")


def parse_shasums(text: str) -> dict[str, str]:
    """`<sha256>  <file>` lines (sha256sum format, optional `*` binary marker)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split()
        if len(parts) == 2 and len(parts[0]) == 64:
            out[parts[1].lstrip("*").removeprefix("./")] = parts[0].lower()
    return out


def checksum_for(sums_url: str, body: bytes, filename: str, *, hint: str | None = None) -> str:
    """`filename`'s sha256 from a SHASUMS-style file fetched from `sums_url`."""
    sums = parse_shasums(body.decode("utf-8", "replace"))
    if filename not in sums:
        if not sums:
            raise IntegrityError(f"{sums_url}: no checksums in the file")
        raise NotFound(f"{sums_url}: no checksum for {filename}", hint=hint)
    return sums[filename]


class Provider:
    """Base class; subclasses fill the class attributes and the upstream methods."""

    name: str = ""
    #: Upstream signs what omg installs (a checksum file, a manifest or each archive:
    #: omg.signatures); an install that did not verify it is `[policy] unsigned`.
    signs: bool = False
    default_mirror: str = ""
    bin_dirs: tuple[str, ...] = ("bin",)
    #: The environment the tool needs, recorded with its store path at install (so a later
    #: `omg use` carries it into the profile env): STORE_PATH stands for the tool's store
    #: path, PREFIX for the user's writable prefix for global installs (the store is
    #: read-only, and shared between users, so neither can be a literal path here).
    env_vars: ClassVar[dict[str, str]] = {}
    #: Seconds a cached copy of this upstream's index (and checksum files) stays fresh.
    index_ttl: float = DEFAULT_INDEX_TTL
    #: Who signs this upstream's Sigstore bundles (its artifacts' `attestations`);
    #: None: it publishes none (omg.provenance).
    provenance: Identity | None = None

    @property
    def mirror_var(self) -> str:
        return f"OMG_{self.name.upper()}_MIRROR"

    def mirror(self, ctx: Context) -> str:
        return ctx.mirror_of(self.name, self.default_mirror)

    # Cached fetches with this provider's mirror setting (for errors) and expiry ----------

    def fetch(self, ctx: Context, url: str) -> bytes:
        return ctx.fetch(url, self.mirror_var, self.index_ttl).body

    def fetch_json(self, ctx: Context, url: str) -> object:
        return ctx.json(url, self.mirror_var, self.index_ttl)

    def fetch_text(self, ctx: Context, url: str) -> str:
        return ctx.text(url, self.mirror_var, self.index_ttl)

    # Upstream -------------------------------------------------------------------------

    def releases(self, ctx: Context) -> list[Release]:
        """All releases for this platform, newest first."""
        raise NotImplementedError

    def artifacts(self, ctx: Context, release: Release) -> list[Artifact]:
        raise NotImplementedError

    def warnings(self, release: Release, releases: Sequence[Release]) -> list[str]:
        """What this upstream's own index says against `release` (a newer security
        release in its line). End of life is `omg.support`'s, for every runtime."""
        return []

    def lookup(self, ctx: Context, spec: str) -> tuple[Release, list[Release]]:
        """Resolve `spec` against the upstream index: (the release, the releases read)."""
        releases = self.releases(ctx)
        return self.resolve(spec, releases), releases

    # Pure resolution -------------------------------------------------------------------

    def normalize(self, spec: str) -> str:
        return spec.strip().removeprefix("v")

    def resolve(self, spec: str, releases: Sequence[Release]) -> Release:
        spec = self.normalize(spec)
        found = self.select(spec, releases)
        if found is None:
            newest = ", ".join(r.version for r in releases[:5]) or "none"
            raise NotFound(f"{self.name}@{spec}: no such version (newest: {newest})",
                           hint=f"see `omg list {self.name} --remote`")
        return found

    def select(self, spec: str, releases: Sequence[Release]) -> Release | None:
        if spec in ("latest", "stable", "current"):
            finals = [r for r in releases if not r.prerelease]
            return max(finals or releases, key=lambda r: version_key(r.version), default=None)
        exact = [r for r in releases if r.version == spec]
        if exact:
            return exact[0]
        hits = [r for r in releases if matches(spec, r.version, self.name)]
        finals = [r for r in hits if not r.prerelease]
        return max(finals or hits, key=lambda r: version_key(r.version), default=None)

    def is_exact(self, spec: str) -> bool:
        return self.normalize(spec).count(".") >= 2

    # Store path ------------------------------------------------------------------------

    def recorded_env(self, version: str) -> dict[str, str]:
        """`env_vars` as the install of `version` records them (its ``origin["env"]``,
        which `omg use` carries into profiles; sorted, so the record's bytes are
        stable): MAJOR and MINOR filled in; STORE_PATH and PREFIX left for the env
        planner and the shell, since the store path's name is not known until it is
        hashed and the prefix is per user (see generations/env.py)."""
        numbers = [*(version.split("+")[0].split(".")), "", ""]
        major, minor = (_leading_digits(n) for n in numbers[:2])
        return {k: v.replace(MAJOR, major or "0").replace(MINOR, minor or "0")
                for k, v in sorted(self.env_vars.items())}

    def env(self, store_path: Path, prefix: Path | None = None) -> dict[str, str]:
        """`env_vars` for one store path, placeholders filled in."""
        base = str(prefix if prefix is not None else default_prefix())
        version = store_path.name[33:].removeprefix(f"{self.name}-")  # <hash>-<name>-<version>
        return {k: v.replace(STORE_PATH, str(store_path)).replace(PREFIX, base)
                for k, v in self.recorded_env(version).items()}

    def prepare(self, root: Path) -> list[str]:
        """Adjust an unpacked tree for the read-only store before it is hashed, so what
        is added is part of the content; returns warnings. Most trees need nothing
        (then the archive is added as it is)."""
        return []

    @property
    def prepares(self) -> bool:
        return type(self).prepare is not Provider.prepare


def default_prefix(environ: dict[str, str] | None = None) -> Path:
    """Where `omg init` points the writable prefixes: ``$XDG_DATA_HOME/omg/prefix``."""
    from omg.locate import user_data

    return Path(user_data(os.environ if environ is None else environ)) / "prefix"


def check_keys(url: str, obj: object, *keys: str) -> dict[str, object]:
    """`obj`, a JSON object that has `keys`; else the index is bad."""
    if not isinstance(obj, dict) or any(k not in obj for k in keys):
        raise bad_index(url, f"an entry lacks one of {', '.join(keys)}")
    return obj


class UpstreamRow(TypedDict):
    """A row of the LMDB ``upstream`` table (key: the URL)."""

    t: float  # when it was fetched (or last revalidated)
    body: bytes
    etag: NotRequired[str]
    modified: NotRequired[str]
    link: NotRequired[str]


def _is_row(row: object) -> TypeGuard[UpstreamRow]:
    return (isinstance(row, dict) and isinstance(row.get("t"), int | float)
            and isinstance(row.get("body"), bytes)
            and all(isinstance(row.get(k, ""), str) for k in ("etag", "modified", "link")))


def _cached_row(index: Index, url: str) -> UpstreamRow | None:
    """The cached document of `url`, if any. A malformed row is no document: this is a
    cache, so it is fetched again (and the row replaced) rather than repaired."""
    row = index.get("upstream", url.encode())
    return row if row is not None and _is_row(row) else None


class CachedFetcher:
    """A network fetch wrapped with the LMDB ``upstream`` table.

    A value is ``{"t", "body", "etag", "modified", "link"}`` (the fetch time, the
    body and the headers worth keeping). Each call says how old a cached body may be
    (the provider's `index_ttl`); `ttl_override`, the user's setting, replaces it for
    every provider. An expired entry is revalidated: a 304 restarts its clock and
    keeps its body. `offline` is asked only when a cached body is stale: working it
    out loads the network options, which a warm cache never needs.
    """

    def __init__(self, index: Index | None, raw_fetch: RawFetch, *,
                 ttl_override: float | None = None,
                 offline: Callable[[], bool], refresh: bool = False) -> None:
        self.index, self.raw_fetch = index, raw_fetch
        self.ttl_override, self.offline, self.refresh = ttl_override, offline, refresh
        self.notices: list[str] = []
        self.stale: list[str] = []
        self.trail: list[str] = []

    def context(self, mirror_of: Callable[[str, str], str], platform: Platform,
                signatures: Checker | None = None) -> Context:
        """A provider context whose fetches, notices and records are this cache's."""
        return Context(mirror_of=mirror_of, platform=platform, fetch=self,
                       signatures=signatures, notices=self.notices, forget=self.forget,
                       stale=self.stale, trail=self.trail)

    def __call__(self, url: str, mirror_var: str, ttl: float) -> Doc:
        self.trail.append(url)
        max_age = ttl if self.ttl_override is None else self.ttl_override
        key = url.encode()
        cached = _cached_row(self.index, url) if self.index is not None else None
        fresh = cached is not None and time.time() - cached["t"] < max_age
        if cached is not None and ((fresh and not self.refresh) or self.offline()):
            from omg.verbosity import say

            say(f"{url}: the cached copy ({time.time() - cached['t']:.0f} s old)")
            return _doc(cached)
        try:
            got = self.raw_fetch(url, mirror_var, *_validators(cached))
        except NetworkError:
            if cached is None:
                raise
            self.notices.append(f"{url}: unreachable, using the cached index")
            if not fresh:
                self.stale.append(url)
            return _doc(cached)
        entry: UpstreamRow
        if got is None:  # 304: what the cache holds is current; its clock restarts
            assert cached is not None  # RawFetch: None only answers a request with validators
            entry = {**cached, "t": time.time()}
        else:
            entry = {"t": time.time(), "body": got.body, "etag": got.etag,
                     "modified": got.modified, "link": got.link}
        if self.index is not None:
            with contextlib.suppress(OmgError):  # a read-only index (shared store)
                self.index.put("upstream", key, entry)
        return _doc(entry)

    def forget(self, url: str) -> None:
        """Drop a cached document and its validators: the next read is a full fetch."""
        if self.index is not None:
            with contextlib.suppress(OmgError):
                self.index.delete("upstream", url.encode())


def _validators(cached: UpstreamRow | None) -> tuple[str, str]:
    if cached is None:
        return "", ""
    return cached.get("etag", ""), cached.get("modified", "")


def _doc(entry: UpstreamRow) -> Doc:
    return Doc(entry["body"], entry.get("link", ""))


def _leading_digits(text: str) -> str:
    end = 0
    while end < len(text) and text[end].isdigit():
        end += 1
    return text[:end]
