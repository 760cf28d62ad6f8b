"""`omg audit`: what is installed, checked against the feeds and the support data, and
the store paths whose upstream signature was not verified.

What is checked: every runtime in the store (`Backend.installed`: the profiles hold
only store paths, so this covers them), the Arch packages in the store (records whose
origin says ``aur`` or a repository), and, where pyalpm and a pacman database exist,
the system's installed packages (``local/<pkgname>``). Reads go through the Backend, so
in the shared mode omgd's world-readable files answer; the feeds are fetched by this
process into ``<home>/cache/audit`` (`omg.audit.feeds`), which `cached_findings`
(`omg use`, the policy engine) reads afterwards.

Exit status (the CLI): 0 when no finding is at or above ``--fail-on`` (default
``high``), `FINDINGS_EXIT` when one is. UNSIGNED findings are ``low``: listed, and
failing only with ``--fail-on low`` (or ``unknown``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from omg.audit import cache
from omg.audit.finding import UNSIGNED, Finding, rank

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from omg.backend import Backend
    from omg.config import Settings
    from omg.install import Session
    from omg.providers.base import Context
    from store.index import Index
    from store.record import PathRecord

#: `omg audit`'s exit status when something is at or above --fail-on (1: no error of
#: the hierarchy uses it, and "found something" is what 1 means for grep or npm audit).
FINDINGS_EXIT = 1
DEFAULT_FAIL_ON = "high"
UNSIGNED_SEVERITY = "low"


@dataclass
class FeedState:
    """One feed as this audit used it: its age, or why it had nothing."""

    key: str
    label: str
    fetched: float | None  # Unix time of the summary used; None: no data


@dataclass
class AuditReport:
    findings: list[Finding]
    checked: list[tuple[str, str]]  # (tool, version) pairs audited
    feeds: list[FeedState]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def failing(self, fail_on: str) -> list[Finding]:
        return [f for f in self.findings if f.at_least(fail_on)]


def installed_things(backend: Backend, records: Sequence[PathRecord]) -> list[tuple[str, str]]:
    """(tool, version) of the runtimes and Arch packages in the store, and the system's
    packages when pacman's database can be read."""
    pairs = [(v.tool, v.version) for v in backend.installed()]
    pairs += [p for r in records if (p := package_of(r)) is not None]
    pairs += system_packages()
    return list(dict.fromkeys(pairs))


def package_of(record: PathRecord) -> tuple[str, str] | None:
    """An Arch package's (``<repo>/<pkgname>`` or ``aur/<pkgname>``, pkgver-pkgrel) from
    its record's origin; None for anything else."""
    origin = record.origin or {}
    kind, name, version = origin.get("kind"), origin.get("pkgname"), origin.get("version")
    if not (isinstance(name, str) and isinstance(version, str) and isinstance(kind, str)):
        return None
    if kind == "aur":
        return f"aur/{name}", version
    repo = origin.get("repo")
    return (f"{repo}/{name}", version) if isinstance(repo, str) and repo else None


def system_packages() -> list[tuple[str, str]]:
    """pacman's local database through pyalpm; nothing where either is missing."""
    if not os.path.isdir("/var/lib/pacman/local"):
        return []
    try:
        import pyalpm
    except ImportError:
        return []
    try:
        handle = pyalpm.Handle("/", "/var/lib/pacman")
        return [(f"local/{p.name}", p.version) for p in handle.get_localdb().pkgcache]
    except pyalpm.error:
        return []


def unsigned(records: Sequence[PathRecord]) -> list[Finding]:
    """Store paths installed without a verified upstream signature (the weakest check
    recorded at install, `omg.signatures`); paths with no such record are not judged."""
    from omg.signatures import MEANING, VERIFIED

    out = []
    for r in records:
        sig = (r.origin or {}).get("signature")
        status = sig.get("status") if isinstance(sig, dict) else None
        if not isinstance(status, str) or status == VERIFIED:
            continue
        url = sig.get("url", "") if isinstance(sig, dict) else ""
        text = MEANING.get(status, status).format(key="", url=url)
        out.append(Finding(r.name, r.version, UNSIGNED, UNSIGNED_SEVERITY, "store",
                           f"{r.path}: {text}", advisory=status))
    return out


def audit(backend: Backend, settings: Settings, *, index: Index | None = None,
          feeds_dir: str | None = None, offline: bool = False,
          refresh: bool = False) -> AuditReport:
    """Fetch what is stale, then judge everything installed. `index`: the one the
    backend has open (LMDB allows one per process), for the cached fetch; `feeds_dir`:
    where the feeds' summaries live when not in the home's cache (the shared mode,
    where this user cannot write it). End of life is read from the home's cache."""
    from omg.audit import feeds

    cache_dir = feeds_dir or backend.home_dir + "/cache"
    records = backend.store_records()
    checked = installed_things(backend, records)
    warnings: list[str] = []
    notes: list[str] = []
    wanted = {cache.feed_of(tool)[0] for tool, _ in checked} - {""}
    summaries: dict[str, cache.Summary | None] = {}
    states = []
    sessions: list[Session] = []

    def context() -> Context:
        if not sessions:
            from omg.install import Session

            sessions.append(Session(settings, offline=offline, refresh=refresh, index=index))
        return sessions[0].ctx

    try:
        for feed in feeds.FEEDS.values():
            if not wanted & set(feed.files):
                continue
            got = feeds.update(context, feed, cache_dir, refresh=refresh,
                               offline=offline, warnings=warnings, notes=notes)
            summaries.update(got)
            ages = [s.fetched for s in got.values() if s is not None]
            states.append(FeedState(feed.key, feed.label, min(ages) if ages else None))
    finally:
        for session in sessions:
            notes += [n for n in session.ctx.notices if n not in notes]
            session.close()
    found = cache.findings(cache_dir, checked, warnings, summaries,
                           support_dir=backend.home_dir + "/cache")
    found += unsigned(records)
    found.sort(key=lambda f: (-rank(f.severity), f.tool, f.version, f.advisory))
    return AuditReport(found, checked, states, warnings, notes)

