"""The vulnerability feeds: one module each, and what they share (fetch, keep, fall back).

Each feed module has `parse...` functions (pure: a document in, summary rows out, one
warning per entry it cannot read) and a `fetch(ctx, base, warnings)` that reads its
documents through the provider context's cached fetch (the LMDB ``upstream`` table:
conditional requests, expiry, offline from the cache) and returns the rows per summary
file. `update` runs one feed: when the summary it wrote last is younger than the feed's
TTL nothing is fetched (a warm audit reads only the small summaries); else it fetches,
parses and writes the summaries (`omg.audit.cache`); when the feed cannot be fetched or
is malformed it says so in one warning naming the feed and the older summary, if any,
still serves (and its age is told).

Base URLs are `[mirrors]` keys, overridden by ``OMG_<KEY>_MIRROR``: see `FEEDS`.
"""

from __future__ import annotations

import time

from omg.audit import cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from omg.audit.cache import Advisory, Summary
    from omg.providers.base import Context

    Fetch = Callable[[Context, str, list[str]], dict[str, list[Advisory]]]
    Parse = Callable[[str, bytes, list[str]], list[Advisory]]


class Feed:
    """One upstream: its `[mirrors]` key, default base URL, version scheme, the summary
    files it writes and how long they stay fresh."""

    __slots__ = ("default", "files", "key", "label", "module", "path", "scheme", "ttl")

    def __init__(self, key: str, label: str, default: str, scheme: str,
                 files: tuple[str, ...], module: str, path: str = "",
                 ttl: float = 86400.0) -> None:
        self.key, self.label, self.default, self.scheme = key, label, default, scheme
        self.files, self.module, self.path, self.ttl = files, module, path, ttl

    @property
    def mirror_var(self) -> str:
        return f"OMG_{self.key.upper()}_MIRROR"

    def fetch(self, ctx: Context, base: str, warnings: list[str]) -> dict[str, list[Advisory]]:
        """The module's own `fetch` (several documents), else its one document
        (``<base>/<path>``, or `base` itself for an archive) given to its `parse`."""
        import importlib

        module = importlib.import_module(f"omg.audit.feeds.{self.module}")
        if hasattr(module, "fetch"):
            fetch: Fetch = module.fetch
            return fetch(ctx, base, warnings)
        url = f"{base}/{self.path}" if self.path else base
        parse: Parse = module.parse
        return {self.files[0]: parse(url, ctx.fetch(url, self.mirror_var, self.ttl).body,
                                     warnings)}


#: Every feed, by its `[mirrors]` key.
FEEDS = {f.key: f for f in (
    Feed("node_vulns", "Node.js security-wg", "https://raw.githubusercontent.com/nodejs/"
         "security-wg/main", "semver", ("node",), "node", "vuln/core/index.json"),
    Feed("go_vulns", "Go vulnerability database", "https://vuln.go.dev", "semver", ("go",),
         "go"),
    Feed("python_vulns", "PSF advisory database",
         "https://codeload.github.com/psf/advisory-database/tar.gz/refs/heads/main",
         "python", ("python",), "python"),
    Feed("ruby_vulns", "ruby-advisory-db",
         "https://codeload.github.com/rubysec/ruby-advisory-db/tar.gz/refs/heads/master",
         "gem", ("ruby",), "ruby"),
    Feed("arch_security", "Arch security tracker", "https://security.archlinux.org",
         "vercmp", ("arch",), "arch", "all.json"),
)}


def for_file(name: str) -> Feed | None:
    return next((f for f in FEEDS.values() if name in f.files), None)


def update(context: Callable[[], Context], feed: Feed, cache_dir: str, *, refresh: bool,
           offline: bool, warnings: list[str], notes: list[str]
           ) -> dict[str, Summary | None]:
    """`feed`'s summaries, fetched again when stale (see the module docstring).
    `context` is asked only then: a warm audit opens no index and imports no network."""
    from store.errors import IntegrityError, OmgError

    old = {name: cache.load(cache_dir, name) for name in feed.files}
    now = time.time()
    fresh = all(s is not None and s.age(now) < feed.ttl for s in old.values())
    if offline or (fresh and not refresh):
        if offline and not all(old.values()):
            notes.append(f"{feed.label}: nothing cached yet (run `omg audit` online once)")
        return old
    ctx = context()
    base = ctx.mirror_of(feed.key, feed.default)
    seen = len(ctx.stale)
    try:
        rows = feed.fetch(ctx, base, warnings)
    except IntegrityError as exc:
        for url in ctx.trail:
            if url.startswith(base):
                ctx.forget(url)  # a malformed answer is not kept: the next audit asks again
        warnings.append(f"{feed.label} feed ignored: {exc.message}{_older(old, now)}")
        return old
    except OmgError as exc:
        warnings.append(f"{feed.label} feed not fetched: {exc.message}{_older(old, now)}")
        return old
    if len(ctx.stale) > seen and all(old.values()):
        notes.append(f"{feed.label}: upstream unreachable{_older(old, now)}")
        return old
    out: dict[str, Summary | None] = {}
    for name in feed.files:
        summary = cache.Summary(feed.label, feed.scheme, now, rows.get(name, []))
        cache.save(cache_dir, name, summary)
        out[name] = summary
    return out


def _older(old: dict[str, Summary | None], now: float) -> str:
    ages = [s.age(now) for s in old.values() if s is not None]
    if not ages:
        return " (nothing cached: no findings from it)"
    return f" (using the copy fetched {describe_age(max(ages))} ago)"


def describe_age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def text(value: object) -> str:
    """A feed's free text as one line (summaries are tab-separated rows)."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []


#: A file larger than this inside a feed's archive is not an advisory: skipped.
MAX_MEMBER = 1 << 20


def tar_members(url: str, body: bytes, directory: str, suffix: str,
                warnings: list[str], label: str) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of the files directly in `directory` (relative to the archive's top
    directory, as GitHub's tarballs have one) ending in `suffix`, read as a stream:
    one member in memory at a time. IntegrityError if `body` is no gzip'd tar."""
    import io
    import tarfile

    from store.errors import IntegrityError

    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r|gz") as tar:
            for member in tar:
                rel = member.name.partition("/")[2]
                folder, _, name = rel.rpartition("/")
                if not (member.isfile() and folder == directory and name.endswith(suffix)):
                    continue
                if member.size > MAX_MEMBER:
                    warnings.append(f"{label}: {name} skipped: {member.size} bytes")
                    continue
                handle = tar.extractfile(member)
                if handle is not None:
                    yield name, handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise IntegrityError(f"{url}: not a gzip'd tar archive ({exc})") from exc
