"""Runtime use cases: install into the store (no switch), list installed and remote, outdated.

They take explicit arguments and return plain dataclasses; the CLI renders
them. Invariant 6: every artifact is verified in `omg.net.download` before it
reaches `LocalStore.add`, so a mismatch installs nothing. Multi-component
runtimes (Rust) and archives whose runtime sits in a subdirectory (Ruby) are
unpacked through the store's safe unpacker into its staging area, merged, and
then added as a directory. The record's origin keeps the provider's `env_vars`
(JAVA_HOME, install prefixes), which `omg use` carries into the profile env.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from omg import providers as _providers
from omg import support
from omg.config import Settings, substituters
from omg.providers.base import (
    Artifact,
    CachedFetcher,
    Context,
    Platform,
    Provider,
    Release,
)
from omg.signatures import (
    UNVERIFIED,
    BadSignature,
    Checker,
    Outcome,
    Signature,
    policy_of,
    weakest,
)
from omg.spec import AUR, ToolSpec, parse_tool_spec, version_key
from store.claims import UPSTREAM, Claim
from store.errors import IntegrityError, NotFound, UnsafeInput, UsageError
from store.fsutil import force_remove
from store.results import SHAPES

if TYPE_CHECKING:

    # omg.net is imported where a fetch or a download happens: `omg list --remote`
    # answered from the cached index never needs it.
    from omg.audit.finding import Finding
    from omg.audit.policy import Policy
    from omg.cache.substitute import Substituter
    from omg.net import DownloadProgress as Progress
    from omg.net import NetOptions
    from omg.profiles import Resolver
    from omg.providers.base import Answer
    from store.index import Index
    from store.ingest import AddResult
    from store.local import LocalStore  # imported where a store operation needs it
    from store.record import PathRecord


@dataclass(frozen=True)
class InstallResult:
    tool: str
    version: str
    store_path: Path
    record: PathRecord
    created: bool  # False when it was already installed
    urls: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


SHAPES[InstallResult] = {"store_path": Path, "record": lambda d: _record().from_index(d),
                         "urls": tuple, "warnings": tuple}


def _record() -> type[PathRecord]:
    from store.record import PathRecord

    return PathRecord


@dataclass(frozen=True)
class InstalledVersion:
    tool: str
    version: str
    store_path: Path
    size: int
    #: The user's install root holds it (`omg install`; generations/installroots.py):
    #: gc keeps it until `omg uninstall`, whatever the profiles say.
    kept: bool = False


@dataclass(frozen=True)
class RemoteVersion:
    tool: str
    version: str
    date: str = ""
    lts: str = ""
    security: bool = False
    installed: bool = False
    #: Upstream was unreachable and its index is older than its expiry (as cached).
    stale: bool = False
    #: Its line is end-of-life today (None: no support data for it; `omg.support`).
    eol: bool | None = None
    eol_from: str = ""  # the line's end-of-life date, when upstream gives one


@dataclass(frozen=True)
class Outdated:
    """An installed version with a newer patch in its line, or a newer supported line.

    `latest` is the newest release of the newest line that is not end-of-life;
    `eol`, `eol_from` and `lts` describe the installed version's line (`omg.support`),
    `security` says a newer release in that line is a security release.
    """

    tool: str
    installed: str
    latest_patch: str
    latest: str
    eol: bool | None = None
    eol_from: str = ""
    lts: str = ""
    security: bool = False


@dataclass
class Session:
    """One command's index, context and network options (opened once, closed once).

    The store (`store.local`: ingest, hashing, archive readers) and the network
    options (`omg.net`) load on first use: listing a cached index needs neither.
    """

    settings: Settings
    offline: bool = False
    refresh: bool = False
    index: Index | None = None  # one already open in this process (LMDB allows one per env)
    #: For whom installs are made (their claims say who asked): omgd passes its peer.
    for_user: str | None = None
    ctx: Context = field(init=False)
    signatures: Checker = field(init=False)
    _owns_index: bool = field(init=False, default=False)
    #: Support data read by this command, per tool (one fetch, one note at most).
    support_lines: dict[str, list[support.Line]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        ttl_override = index_ttl_override(self.settings)  # a bad setting fails before opening
        if self.index is None:
            from store.index import Index

            self.index = Index.for_home(self.settings.layout.db)
            self._owns_index = True

        def raw(url: str, var: str, etag: str, modified: str) -> Answer | None:
            from omg import net

            return net.fetch_document(url, mirror_var=var, opts=self.opts, etag=etag,
                                      modified=modified)

        fetcher = CachedFetcher(self.index, raw, ttl_override=ttl_override,
                                offline=lambda: self.opts.offline, refresh=self.refresh)
        self.signatures = Checker(
            policy_of(self.settings.raw.get("signatures", {}).get("policy")),
            keyring_of=self._keyring, notices=fetcher.notices, forget=fetcher.forget,
            offline=lambda: self.opts.offline)
        self.ctx = fetcher.context(self.settings.mirror, Platform.detect(), self.signatures)

    @functools.cached_property
    def store(self) -> LocalStore:
        from store.local import LocalStore

        return LocalStore(self.settings.layout, limits=self.settings.limits, index=self.index)

    @functools.cached_property
    def opts(self) -> NetOptions:
        """Network options (`OMG_OFFLINE`, retries...): first asked for by a fetch."""
        from omg import net

        return net.NetOptions.from_config(self.settings.raw, offline=self.offline)

    @functools.cached_property
    def substituter(self) -> Substituter | None:
        """This process's binary caches (omgd's own in the shared mode), asked before
        upstream; None when none is configured (no cache module is imported then) or
        offline (a cache is network too: docs/binary-cache.md)."""
        if not substituters(self.settings)[0] or self.opts.offline:
            return None
        from omg.cache.substitute import Substituter

        return Substituter.for_settings(self.settings, self.store, user=self.user,
                                        warn=self.ctx.notices.append)

    def _keyring(self, tool: str) -> Path | None:
        """The user's keyring for `tool`'s signatures, instead of the keys omg ships."""
        configured = self.settings.raw.get("keyrings", {}).get(tool)
        value = os.environ.get(f"OMG_{tool.upper()}_KEYRING") or (
            configured if isinstance(configured, str) else None)
        return Path(value).expanduser() if value else None

    @property
    def user(self) -> str:
        return self.for_user or self.settings.user

    @property
    def cache(self) -> Path:
        return self.settings.layout.cache

    def close(self) -> None:
        if "substituter" in self.__dict__ and self.substituter is not None:
            self.substituter.close()
        if self._owns_index and self.index is not None:
            self.index.close()


def index_ttl_override(settings: Settings) -> float | None:
    """The user's one expiry for every upstream index, if set; else each provider's own.

    ``OMG_INDEX_TTL`` (seconds), then ``[network] index_ttl`` in the config file.
    """
    value = os.environ.get("OMG_INDEX_TTL") or settings.raw.get("network", {}).get("index_ttl")
    if value in (None, ""):
        return None
    try:
        ttl = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"index_ttl: expected seconds, got {value!r}",
                         hint="set OMG_INDEX_TTL or [network] index_ttl to a number") from None
    if ttl < 0:
        raise UsageError(f"index_ttl: expected seconds >= 0, got {value!r}")
    return ttl


def _spec(tool_spec: str | ToolSpec) -> ToolSpec:
    if not isinstance(tool_spec, str):
        return tool_spec
    return parse_tool_spec(tool_spec)


def _installed(store: LocalStore, tool: str, version: str) -> PathRecord | None:
    """The store path of `tool` `version` from a trusted source (its upstream, a
    trusted cache), if any: a user's own `store add` of that name is not an install."""
    found = store.resolvable(tool, version, user=None)
    return found[0] if found else None


def _local_resolve(session: Session, provider: Provider, spec: str) -> PathRecord | None:
    """Offline, or an exact spec: what is already in the store satisfies it."""
    installed = [Release(r.version) for r in session.store.resolvable(provider.name,
                                                                      user=None)]
    if provider.is_exact(spec) or session.opts.offline:
        rel = provider.select(provider.normalize(spec), installed) if installed else None
        if rel is not None and (provider.is_exact(spec) or session.opts.offline):
            return _installed(session.store, provider.name, rel.version)
    return None


@dataclass
class _Plan:
    provider: Provider
    release: Release
    artifacts: list[Artifact]
    warnings: list[str]
    spec: ToolSpec
    #: The upstream documents it was read from (index, checksum files).
    sources: tuple[str, ...]
    #: How upstream's signatures of those documents were checked (omg.signatures).
    checked: list[Outcome] = field(default_factory=list)
    #: The first artifact's provenance, if its upstream attests (omg.provenance).
    provenance: dict[str, object] | None = None


@dataclass
class _FromCache:
    """A version to ask the binary caches for, once `[policy]` has judged it (`_judge`):
    nothing is pulled for a version the policy denies."""

    provider: Provider
    version: str
    spec: ToolSpec
    warnings: list[str]


_Planned = _Plan | _FromCache | InstallResult


def _plan(session: Session, ts: ToolSpec, *, ask_caches: bool = True) -> _Planned:
    provider = _providers.get(ts.tool)
    # Read before the index, so that it is not among the documents a failed
    # verification makes `_replan` forget.
    # (It refreshes the summary `[policy] eol` reads: `_judge`.)
    _support_lines(session, provider.name)
    existing = _local_resolve(session, provider, ts.spec)
    if existing is not None:
        return _result(session, existing, created=False)
    asking = ask_caches and session.substituter is not None
    if asking and provider.is_exact(ts.spec):
        # An exact version a cache has needs no upstream index at all.
        return _FromCache(provider, provider.normalize(ts.spec), ts, [])
    read_from, checked_from = len(session.ctx.trail), len(session.signatures.outcomes)
    release, releases = provider.lookup(session.ctx, ts.spec)
    from omg.versioncache import remember_versions

    remember_versions(provider.name, [(r.version, r.lts) for r in releases])
    warnings = provider.warnings(release, releases)
    existing = _installed(session.store, provider.name, release.version)
    if existing is not None:
        return _result(session, existing, created=False, warnings=warnings)
    if asking:
        return _FromCache(provider, release.version, ts, warnings)
    artifacts = provider.artifacts(session.ctx, release)
    return _Plan(provider, release, artifacts, warnings, ts,
                 tuple(dict.fromkeys(session.ctx.trail[read_from:])),
                 session.signatures.outcomes[checked_from:])


def _upstream_plan(session: Session, ts: ToolSpec) -> _Plan | InstallResult:
    """`_plan` without asking the caches (asked already, or a replan after a mismatch)."""
    planned = _plan(session, ts, ask_caches=False)
    assert not isinstance(planned, _FromCache)
    return planned


def _substitute(session: Session, want: _FromCache) -> _Plan | InstallResult:
    """`want` from the first binary cache that has it for this platform, signed by a
    trusted key (omg/cache/substitute.py); else upstream's plan, judged in its turn."""
    subst = session.substituter
    assert subst is not None  # a _FromCache is made only when there is one
    pulled = subst.runtime(want.provider.name, want.version, session.ctx.platform.key)
    if pulled is None:
        judged = _judge(session, [_upstream_plan(session, want.spec)])[0]
        assert not isinstance(judged, _FromCache)
        return judged
    from omg.verbosity import say

    say(f"substituted {pulled.record.path} from {pulled.cache} (signed by {pulled.key})")
    return _result(session, pulled.record, created=pulled.created, warnings=want.warnings)


def _support_lines(session: Session, tool: str) -> list[support.Line]:
    """`tool`'s support data (fetched, or cached), which also refreshes the summary
    `omg use` reads; none, with one note in the context, when there is none."""
    if tool not in session.support_lines:
        session.support_lines[tool] = support.fetch(session.ctx, tool, session.cache) or []
    return session.support_lines[tool]



def _result(session: Session, record: PathRecord, *, created: bool,
            urls: Iterable[str] = (), warnings: Iterable[str] = ()) -> InstallResult:
    return InstallResult(record.name, record.version,
                         session.store.layout.store_path(record.path), record, created,
                         tuple(urls), tuple(warnings))


def _ingest(session: Session, plan: _Plan, files: Sequence[Path],
            progress: Progress | None = None) -> InstallResult:
    p, rel = plan.provider, plan.release
    origin: dict[str, object] = {"url": plan.artifacts[0].url, "sha256": plan.artifacts[0].sha256}
    env = p.recorded_env(rel.version)
    if env:
        origin["env"] = env
    if len(plan.artifacts) > 1:
        origin["components"] = _artifact_rows(plan.artifacts)
    # What `omg store info` shows, and what lists unverified paths read.
    origin["signature"] = weakest(plan.checked).plain()
    if plan.provenance is not None:
        origin["provenance"] = plan.provenance
    claim = Claim(UPSTREAM, session.user, {
        "tool": p.name, "version": rel.version, "artifacts": _artifact_rows(plan.artifacts)})
    if len(plan.artifacts) == 1 and not plan.artifacts[0].subdir and not p.prepares:
        result = session.store.add(files[0], p.name, rel.version, origin=origin, claim=claim,
                                   progress=_unpacking(progress, f"{p.name} {rel.version}"))
    else:
        result = _add_merged(session, plan, files, origin, claim,
                             _unpacking(progress, f"{p.name} {rel.version}"))
    from omg.verbosity import say

    say(f"{'added' if result.created else 'already in the store:'} {result.record.path}")
    return _result(session, result.record, created=result.created,
                   urls=[a.url for a in plan.artifacts],
                   warnings=[*plan.warnings, *result.warnings])


def _unpacking(progress: Progress | None, label: str) -> Callable[[int], None] | None:
    """The store's unpack callback (bytes written per file) as an "unpack <label>" task
    of the download progress: unpacking, hashing and ingesting are one pass, and a
    big runtime takes seconds there after its download bar is full."""
    if progress is None:
        return None
    done = [0]

    def written(n: int) -> None:
        done[0] += n
        progress(f"unpack {label}", done[0], None)

    return written


def _artifact_rows(artifacts: Sequence[Artifact]) -> list[dict[str, str]]:
    """What the record and the claim say was installed (a component's name, if it has one)."""
    return [{"url": a.url, "sha256": a.sha256, **({"component": a.component}
                                                   if a.component else {})}
            for a in artifacts]


def _add_merged(session: Session, plan: _Plan, files: Sequence[Path],
                origin: dict[str, object], claim: Claim,
                progress: Callable[[int], None] | None = None) -> AddResult:
    import secrets

    from store.archive import open_members
    from store.unpack import unpack

    # Not under store/.staging: the store's debris sweep owns that directory.
    tmp = session.store.layout.home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    work = tmp / f"merge-{os.getpid()}-{secrets.token_hex(4)}"
    work.mkdir()
    try:
        merged = work / "root"
        merged.mkdir()
        for i, (art, path) in enumerate(zip(plan.artifacts, files, strict=True)):
            with open_members(path) as members:
                up = unpack(members, work / f"part{i}", label=art.filename,
                            limits=session.settings.limits, strip_top=True,
                            progress=progress)
            parts = _component_dirs(up.root, art) if art.subdir == "@components" \
                else [up.root / art.subdir if art.subdir else up.root]
            for src in parts:
                if not src.is_dir() or src.is_symlink():
                    raise IntegrityError(f"{art.filename}: no directory {src.name!r} in it")
                _merge(src, merged, art.filename)
        # Before hashing: what prepare adds (Python's byte-code) is content like the rest.
        warnings = plan.provider.prepare(merged)
        result = session.store.add(merged, plan.provider.name, plan.release.version,
                                   origin=origin, claim=claim, progress=progress)
        result.warnings[:0] = warnings
        return result
    finally:
        # Unpacked trees may hold read-only directories, which rmtree cannot empty.
        with contextlib.suppress(OSError):
            force_remove(work)


def _component_dirs(root: Path, art: Artifact) -> list[Path]:
    """Rust installer layout: a `components` file names the component directories."""
    try:
        names = [n.strip() for n in (root / "components").read_text().splitlines() if n.strip()]
    except OSError:
        raise IntegrityError(f"{art.filename}: no 'components' file") from None
    for n in names:
        if "/" in n or n in (".", ".."):
            raise UnsafeInput(f"{art.filename}: bad component name {n!r}")
    return [root / n for n in names]


_SKIP = frozenset({"manifest.in"})


def _merge(src: Path, dest: Path, label: str) -> None:
    for entry in os.scandir(src):
        if entry.name in _SKIP and src.parent != dest:
            continue
        target = dest / entry.name
        if entry.is_dir(follow_symlinks=False):
            if target.is_dir() and not target.is_symlink():
                _merge(Path(entry.path), target, label)
                continue
            if not target.exists():
                os.rename(entry.path, target)
                continue
        elif not os.path.lexists(target):
            os.rename(entry.path, target)
            continue
        raise IntegrityError(f"{label}: {entry.name} clashes with another component")


def install(settings: Settings, specs: Sequence[str | ToolSpec], *, offline: bool = False,
            refresh: bool = False, progress: Progress | None = None,
            index: Index | None = None, for_user: str | None = None,
            keep: bool = False) -> list[InstallResult]:
    """Install each TOOL@SPEC into the store (downloads in parallel); no profile changes.

    Pass `index` when the caller already has the LMDB index open in this process;
    `for_user` names who asked, when that is not `settings.user` (omgd's peer).
    `keep`: root each result for that user (`omg install`: generations/installroots.py),
    so gc keeps it until `omg uninstall`.
    """
    session = Session(settings, offline=offline, refresh=refresh, index=index,
                      for_user=for_user)
    try:
        if not keep:
            return _install(session, specs, progress)
        parsed = [_spec(s) for s in specs]  # bad input fails before anything is held
        for ts in parsed:
            _providers.get(ts.tool)
        # Shared from choosing each store path (the store's, or a download's) until its
        # root exists (invariant 3), as `omg use` holds it across its resolver's installs.
        with session.store.gc_guard():
            out = _install(session, parsed, progress)
            _keep(session, out)
        return out
    finally:
        session.close()


def _keep(session: Session, results: Sequence[InstallResult]) -> None:
    from generations import installroots

    home = str(session.settings.layout.home)
    for r in results:
        installroots.add(home, session.user, r.tool, r.version, r.record.path)


def _install(session: Session, specs: Sequence[str | ToolSpec],
             progress: Progress | None) -> list[InstallResult]:
    from omg import net

    plans = [_substitute(session, p) if isinstance(p, _FromCache) else p
             for p in _judge(session, [_plan(session, _spec(s)) for s in specs])]
    try:
        paths = _download(session, plans, progress)
    except net.ChecksumMismatch:
        fresh = _replan(session, plans)
        if fresh is None:
            raise
        plans = fresh
        paths = _download(session, plans, progress, retried=True)
    files = iter(paths)
    out: list[InstallResult] = []
    for p in plans:
        if isinstance(p, InstallResult):
            out.append(p)
        else:
            mine = [next(files) for _ in p.artifacts]
            _check_files(session, p, mine)
            _judge_signatures(session, p)
            out.append(_ingest(session, p, mine, progress))
    if session.ctx.notices:
        out[0] = InstallResult(**{**out[0].__dict__,
                                  "warnings": (*out[0].warnings, *session.ctx.notices)})
    return out


def _judge(session: Session, plans: list[_Planned]) -> list[_Planned]:
    """`[policy]` on each planned version, before any download or root (this process's
    settings decide: omgd's, through omgd); the plans with the policy's warnings added.

    Cached data only: the support summary and upstream's versions were just refreshed
    by `_plan`; a version not installed yet has the signature outcomes of its documents.
    """
    from omg.audit import checks
    from omg.audit.policy import enforce, policy_of

    policy = policy_of(session.settings.raw)
    store_dir = str(session.settings.layout.store)
    judged: list[_Planned] = []
    for p in plans:
        if isinstance(p, InstallResult):
            found = checks.cached(str(session.cache), store_dir,
                                  [(p.tool, p.version, p.record.path)],
                                  lines=lambda t: _support_lines(session, t))
            said = enforce(policy, found, [(p.tool, p.version)])
            judged.append(replace(p, warnings=(*p.warnings, *said)) if said else p)
            continue
        if isinstance(p, _FromCache):  # its signature outcome is the manifest's origin
            tool, version, unsigned = p.provider.name, p.version, []
        else:
            tool, version = p.provider.name, p.release.version
            unsigned = _unsigned(policy, tool, version, weakest(p.checked).status)
        found = [*checks.cached(str(session.cache), store_dir, [(tool, version, "")],
                                lines=lambda t: _support_lines(session, t)), *unsigned]
        p.warnings.extend(w for w in enforce(policy, found, [(tool, version)])
                          if w not in p.warnings)
        judged.append(p)
    return judged


def _judge_signatures(session: Session, plan: _Plan) -> None:
    """`[policy] unsigned` again once the downloads' own signatures were checked (Go,
    Adoptium sign each archive): before the store is touched."""
    from omg.audit.policy import enforce, policy_of

    policy = policy_of(session.settings.raw)
    tool, version = plan.provider.name, plan.release.version
    found = _unsigned(policy, tool, version, weakest(plan.checked).status)
    plan.warnings.extend(w for w in enforce(policy, found, [(tool, version)])
                         if w not in plan.warnings)


def _unsigned(policy: Policy, tool: str, version: str, status: str) -> list[Finding]:
    """`[policy] unsigned` findings for a version being installed now. Its "warn" would
    repeat the warning omg.signatures just gave for this install (a missing signature,
    an unknown key, no gpgv: one warning, as the issue asks), so only `off`, which the
    checker does not warn about, and `deny`, which refuses, are kept."""
    from omg.audit import checks
    from omg.audit.policy import WARN
    from omg.signatures import OFF

    if policy.unsigned == WARN and status != OFF:
        return []
    return checks.unsigned(tool, version, status)


def _download(session: Session, plans: Sequence[_Plan | InstallResult],
              progress: Progress | None, *, retried: bool = False) -> list[Path]:
    from omg import net

    todo = [p for p in plans if isinstance(p, _Plan)]
    jobs = [net.DownloadJob(a.url, a.sha256, a.filename, p.provider.mirror_var,
                            f"{p.provider.name} {p.release.version}")
            for p in todo for a in p.artifacts]
    try:
        return net.download_many(jobs, session.cache, opts=session.opts, progress=progress)
    except net.ChecksumMismatch as exc:
        if not retried:
            raise
        sources = ", ".join(dict.fromkeys(u for p in todo for u in p.sources))
        raise IntegrityError(str(exc), hint=f"retried once after fetching again {sources}: "
                             "the download or the mirror is corrupt; nothing was "
                             "installed") from None


def _check_files(session: Session, plan: _Plan, files: Sequence[Path]) -> None:
    """Upstream's detached signatures of the downloads themselves (Go, Adoptium).

    A bad one drops what vouched for the file (the cached index and the download),
    so a fixed mirror is read afresh; nothing is added to the store.
    """
    p = plan.provider
    checked_from = len(session.signatures.outcomes)
    for art, path in zip(plan.artifacts, files, strict=True):
        if not art.signature:
            continue
        try:
            session.signatures.file(p.name, path, art.url, Signature(art.signature),
                                    lambda url: session.ctx.fetch(url, p.mirror_var,
                                                                  p.index_ttl).body)
        except BadSignature:
            for url in plan.sources:
                session.ctx.forget(url)
            path.unlink(missing_ok=True)
            raise
    plan.checked.extend(session.signatures.outcomes[checked_from:])
    if p.provenance is not None:
        from omg import provenance

        art = plan.artifacts[0]
        try:
            plan.provenance = provenance.check(
                p.provenance, art.attestations, art.sha256,
                lambda url: session.ctx.fetch(url, p.mirror_var, p.index_ttl).body)
        except provenance.BadAttestation:
            files[0].unlink(missing_ok=True)
            raise


def _replan(session: Session, plans: Sequence[_Plan | InstallResult]
            ) -> list[_Plan | InstallResult] | None:
    """After a checksum mismatch: the cached documents the plans were read from may be
    what is wrong (a checksum file cached before upstream rebuilt an artifact), so
    they are dropped from the cache and the plans read again; None if that cannot be."""
    todo = [p for p in plans if isinstance(p, _Plan)]
    if session.opts.offline or not any(p.sources for p in todo):
        return None
    for url in dict.fromkeys(u for p in todo for u in p.sources):
        session.ctx.forget(url)
    return [_upstream_plan(session, p.spec) if isinstance(p, _Plan) else p for p in plans]


def ensure_installed(settings: Settings, tool_spec: str | ToolSpec, *, offline: bool = False,
                     progress: Progress | None = None, index: Index | None = None,
                     for_user: str | None = None) -> PathRecord:
    """The store path record for TOOL@SPEC, installing it first if it is missing."""
    return install(settings, [tool_spec], offline=offline, progress=progress,
                   index=index, for_user=for_user)[0].record


def make_resolver(settings: Settings, *, offline: bool = False,
                  progress: Progress | None = None, index: Index | None = None,
                  for_user: str | None = None, warnings: list[str] | None = None,
                  made: set[str] | None = None) -> Resolver:
    """An `omg.profiles.Resolver`: installs a spec the store cannot satisfy.

    Wiring `omg use`: ``profiles.use(home, specs, resolver=make_resolver(settings,
    index=home.index))``. The installs' warnings (end of life, security releases,
    notes) are appended to `warnings`, for the caller to show with the use's result;
    the store paths it installed with a warning about their signature go to `made`.
    """
    from omg.profiles import ResolvedTool

    def resolver(ts: ToolSpec) -> ResolvedTool | None:
        if _providers.canonical(ts.tool) not in _providers.TOOLS:
            return None  # a tool only `omg store add` knows: the store's answer stands
        done = install(settings, [ts], offline=offline, progress=progress, index=index,
                       for_user=for_user)[0]
        if warnings is not None:
            warnings.extend(done.warnings)
        rec = done.record
        if made is not None and any(w.endswith(UNVERIFIED) for w in done.warnings):
            made.add(rec.path)  # its signature check warned: the policy need not
        # The same answer the store gives once the path is installed (the record's
        # env, set at ingest): a fresh install and a later `use` of the same tools
        # must build the same env store path.
        env = (rec.origin or {}).get("env")
        pairs = env.items() if isinstance(env, dict) else ()
        return ResolvedTool(rec.name, rec.version, rec.path,
                            tuple(sorted((str(k), str(v)) for k, v in pairs)))

    return resolver


def list_installed(settings: Settings, tool: str | None = None, *,
                   store: LocalStore | None = None,
                   user: str | None = None) -> list[InstalledVersion]:
    """The runtimes `user` (default: settings.user) may use: another user's additions
    are not theirs (`store.claims`). `store`: one this process has open already.
    Without `tool`, also the AUR packages built into the store, as ``aur/NAME`` (what
    `omg use` takes)."""
    from generations import installroots
    from store.claims import resolvable
    from store.local import LocalStore

    own = store is None
    if store is None:
        store = LocalStore(settings.layout, limits=settings.limits)
    store_dir = str(settings.layout.store)
    who = user or settings.user
    kept = {r.store_path for r in installroots.rooted(str(settings.layout.home), who)}
    try:
        names = {_providers.canonical(tool)} if tool else set(_providers.TOOLS)
        out = [InstalledVersion(r.name if r.name in names else f"{AUR}/{r.name}", r.version,
                                store.layout.store_path(r.path), r.size, r.path in kept)
               for r in store.records()
               if (r.name in names or (not tool and (r.origin or {}).get("kind") == AUR))
               and resolvable(store_dir, r.path, who)]
    finally:
        if own:
            store.close()
    return sorted(out, key=lambda v: (v.tool, version_key(v.version)), reverse=False)


def list_remote(settings: Settings, tool: str, *, offline: bool = False,
                refresh: bool = False, index: Index | None = None) -> list[RemoteVersion]:
    """What upstream offers for this platform, newest first."""
    session = Session(settings, offline=offline, refresh=refresh, index=index)
    try:
        provider = _providers.get(tool)
        have = _installed_versions(session, provider.name)
        releases = sorted(provider.releases(session.ctx), key=lambda r: version_key(r.version),
                          reverse=True)
        stale = bool(session.ctx.stale)
        lines, day = _support_lines(session, provider.name), support.today()
        own_lts = any(r.lts for r in releases)  # Node's index names each LTS release
        out = []
        for r in releases:
            line = support.line_of(r.version, lines)
            out.append(RemoteVersion(
                provider.name, r.version, r.date, _lts(r.lts, own_lts, line), r.security,
                r.version in have, stale, line.eol(day) if line else None,
                line.eol_from if line else ""))
        return out
    finally:
        session.close()


def _lts(own: str, index_says: bool, line: support.Line | None) -> str:
    """The upstream index's LTS name when it gives them (Node's, per release: 22.2.0
    came before its line became LTS), else the support data's for the line."""
    return own if index_says else (line.lts if line else "")


def _installed_versions(session: Session, tool: str) -> set[str]:
    """Versions of `tool` in the store, from the catalogue `omg use` keeps.

    It is checked against the store directory and learns unknown paths through
    the store, so the answer is the store's; on a warm catalogue it costs a
    directory listing and a small JSON file, not the store module and LMDB reads.
    """
    from generations.catalogue import Catalogue
    from store.claims import resolvable

    catalogue = Catalogue(str(session.settings.home), session.user,
                          index=lambda: session.index)
    store_dir = str(session.settings.layout.store)
    try:
        return {version for version, name, _ in catalogue.packages().get(tool, [])
                if resolvable(store_dir, name, session.user)}
    finally:
        catalogue.save()


def outdated(settings: Settings, *, tools: Sequence[str] = (), offline: bool = False,
             installed: Callable[[], Sequence[tuple[str, str]]] | None = None,
             index: Index | None = None) -> list[Outdated]:
    """Installed (or profile) versions with a newer patch in their line or a newer release.

    `installed` lets the profile layer pass what the current profile holds; by
    default every runtime in the store counts.
    """
    pairs = list(installed()) if installed else [(v.tool, v.version)
                                                 for v in list_installed(settings)]
    # `aur/NAME` rows (`list_installed`) are the Arch side's (`omg.arch.upgrade.outdated`).
    pairs = [p for p in pairs if "/" not in p[0]]
    if tools:
        wanted = {_providers.canonical(t) for t in tools}
        pairs = [p for p in pairs if p[0] in wanted]
    session = Session(settings, offline=offline, index=index)
    out: list[Outdated] = []
    try:
        by_tool: dict[str, list[str]] = {}
        for tool, version in pairs:
            by_tool.setdefault(tool, []).append(version)
        for tool, versions in sorted(by_tool.items()):
            provider = _providers.get(tool)
            try:
                releases = provider.releases(session.ctx)
            except NotFound:
                continue
            finals = [r for r in releases if not r.prerelease]
            lines, day = _support_lines(session, provider.name), support.today()
            # Never a line upstream says is end-of-life; one it says nothing of counts.
            supported = [r for r in finals
                         if (ln := support.line_of(r.version, lines)) is None or not ln.eol(day)]
            newest = max(supported, key=lambda r: version_key(r.version), default=None)
            for v in versions:
                row = _outdated_row(provider, v, finals, newest, lines, day)
                if row is not None:
                    out.append(row)
    finally:
        session.close()
    return out


def _outdated_row(provider: Provider, v: str, finals: Sequence[Release],
                  newest: Release | None, lines: Sequence[support.Line],
                  day: str) -> Outdated | None:
    tool = provider.name
    spec = ".".join(v.split(".")[:2]) if tool not in ("node", "java") else v.split(".")[0]
    patch = provider.select(spec, finals)
    latest_patch = patch.version if patch else v
    latest = newest.version if newest else v
    if version_key(latest_patch) <= version_key(v) and version_key(latest) <= version_key(v):
        return None
    newer = [r for r in finals if version_key(r.version) > version_key(v)
             and provider.select(spec, [r]) is not None]
    line = support.line_of(v, lines)
    own = next((r.lts for r in finals if r.version == v), "")
    return Outdated(tool, v, latest_patch, latest, line.eol(day) if line else None,
                    line.eol_from if line else "",
                    _lts(own, any(r.lts for r in finals), line),
                    any(r.security for r in newer))


def clear_download_cache(settings: Settings) -> int:
    """Remove cached artifacts; returns how many files were removed."""
    count = 0
    for sub in ("downloads", "partial"):
        d = settings.layout.cache / sub
        with contextlib.suppress(FileNotFoundError):
            for f in d.iterdir():
                f.unlink()
                count += 1
    return count
