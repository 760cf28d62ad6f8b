"""The findings `[policy]` judges, from cached data only: never the network.

- vulnerable (and end of life, when the audit's cache has them): what the feeds cached
  (`omg.audit.cache.cached_findings`);
- eol: the support summaries `omg.support` keeps (``<cache>/support/<tool>``);
- outdated: the versions upstream's index listed when omg last read it
  (`omg.versioncache`): a newer final release of the same line (node and java: the same
  major; the others: the same major.minor);
- unsigned: what install recorded (the store path record's origin ``signature``,
  `omg.signatures` statuses) for a runtime whose upstream signs (`SIGNING`).

This module is on the path of `omg use` and `omg sync`: it imports only `os` at the
top and reads small files; what it finds itself is a `Noted`, a finding without the
dataclass (`dataclasses` imports `re`, more than the whole `use` may cost).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from omg.audit.finding import Finding
    from omg.audit.policy import FindingLike
    from omg.support import Line

#: The runtimes whose upstream signs what omg installs (each provider's `signs`; a test
#: keeps the two equal): an unverified one of these is "unsigned".
SIGNING = frozenset({"node", "bun", "go", "rust", "java"})
#: `omg.signatures` statuses that mean "upstream signs, and it was not verified".
NOT_VERIFIED = frozenset({"missing", "unknown-key", "no-gpgv", "off"})
#: What is read of a record to find its origin: it comes before the file list.
_HEAD = 1 << 16


class Noted:
    """A finding made here: the fields of `omg.audit.finding.Finding` the engine reads
    (`omg.audit.policy.FindingLike`), in a plain class."""

    __slots__ = ("advisory", "feed", "fixed_in", "ids", "kind", "severity", "summary",
                 "tool", "upgrade", "version")

    def __init__(self, tool: str, version: str, kind: str, feed: str, summary: str,
                 upgrade: str = "") -> None:
        self.tool, self.version, self.kind, self.feed = tool, version, kind, feed
        self.summary, self.upgrade = summary, upgrade
        self.severity, self.advisory = "unknown", ""
        self.ids: tuple[str, ...] = ()
        self.fixed_in: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Noted({self.tool!r}, {self.version!r}, {self.kind!r}, {self.summary!r})"


def cached(cache_dir: str, store_dir: str, tools: Iterable[tuple[str, str, str]],
           *, versions: Callable[[str], list[tuple[str, str]]] | None = None,
           lines: Callable[[str], Sequence[Line]] | None = None) -> list[FindingLike]:
    """The findings for (tool, version, store path name) triples, from caches only.

    `versions`: upstream's versions of a tool as last read (default: `omg.versioncache`);
    `lines`: a tool's support data (default: the summary `omg.support` keeps).
    """
    triples = list(tools)
    if versions is None:
        from omg.versioncache import remembered

        versions = remembered
    out: list[FindingLike] = [*vulnerabilities(cache_dir, [(t, v) for t, v, _ in triples])]
    have_eol = {(f.tool, f.version) for f in out if f.kind == "eol"}
    for tool, version, name in triples:
        if (tool, version) not in have_eol:
            out += eol(tool, version, lines(tool) if lines else _support_lines(cache_dir, tool))
        out += outdated(tool, version, [v for v, _ in versions(tool)])
        status = recorded_signature(store_dir, name) if name else ""
        out += unsigned(tool, version, status)
    return out


def vulnerabilities(cache_dir: str, pairs: Sequence[tuple[str, str]]) -> list[Finding]:
    """What the audit's feeds cached for `pairs` (none before `omg audit` exists or
    has fetched them)."""
    if not pairs or not os.path.isdir(f"{cache_dir}/audit"):
        return []
    try:
        cache = __import__("omg.audit.cache", fromlist=["cached_findings"])
    except ImportError:
        return []
    found: list[Finding] = list(cache.cached_findings(cache_dir, pairs))
    return found


def _support_lines(cache_dir: str, tool: str) -> list[Line]:
    from omg import support

    return support.load(cache_dir, tool) if tool in support.PRODUCTS else []


def eol(tool: str, version: str, lines: Sequence[Line], day: str | None = None
        ) -> list[Noted]:
    """An END_OF_LIFE finding when `version`'s line is end-of-life on `day` (today)."""
    if not lines:
        return []
    from omg import support

    day = day or support.today()
    said = support.warnings(tool, version, lines, day)
    if not said:
        return []
    better = support.newest_supported(lines, day)
    from omg.audit.kinds import END_OF_LIFE

    return [Noted(tool, version, END_OF_LIFE, "endoflife.date",
                  said[0].removeprefix(f"{tool} {version}: "),
                  f"omg install {tool}@{better.name}" if better else "")]


def _numeric(version: str) -> tuple[int, ...] | None:
    """A final release's numbers (``21.0.3+9`` -> 21, 0, 3, 9); None for anything else
    (a pre-release, a nightly): only final releases make a version outdated."""
    main, _, build = version.partition("+")
    parts = main.split(".")
    if build:
        parts.append(build)
    if not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def line_length(tool: str) -> int:
    """How many leading numbers name a release line (as `omg outdated` groups them)."""
    return 1 if tool in ("node", "java") else 2


def newer_patch(tool: str, version: str, upstream: Iterable[str]) -> str:
    """The newest final release of `version`'s line newer than it; "" when none."""
    mine = _numeric(version)
    if mine is None:
        return ""
    n = line_length(tool)
    best, best_key = "", mine
    for candidate in upstream:
        key = _numeric(candidate)
        if key is not None and key[:n] == mine[:n] and key > best_key:
            best, best_key = candidate, key
    return best


def outdated(tool: str, version: str, upstream: Iterable[str]) -> list[Noted]:
    newer = newer_patch(tool, version, upstream)
    if not newer:
        return []
    from omg.audit.kinds import OUTDATED

    return [Noted(tool, version, OUTDATED, "upstream index",
                  f"a newer release of its line exists: {newer}",
                  f"omg install {tool}@{newer}")]


def unsigned(tool: str, version: str, status: str) -> list[Noted]:
    """An UNSIGNED finding for a runtime whose upstream signs but whose install did not
    verify the signature (`status`: the recorded `omg.signatures` status)."""
    if tool not in SIGNING or status not in NOT_VERIFIED:
        return []
    from omg.audit.kinds import UNSIGNED

    return [Noted(tool, version, UNSIGNED, "signatures",
                  f"upstream signs it, but its signature was not verified ({status})",
                  f"omg install {tool}@{version} again from a mirror that has its "
                  "signatures, with [signatures] policy = \"when-available\"")]


def recorded_signature(store_dir: str, name: str) -> str:
    """The signature status install recorded for store path `name` ("" when none).

    Only the record's head is read and only its ``origin`` parsed: the file list after
    it runs to megabytes for a big runtime, and this runs on every `omg use`.
    """
    try:
        with open(f"{store_dir}/{name}.meta", "rb") as f:
            head = f.read(_HEAD).decode("utf-8", "replace")
    except OSError:
        return ""
    at = head.find('"origin":')
    if at < 0:
        return ""
    from store.leanjson import scan

    try:
        origin, _ = scan(head, at + len('"origin":'))
    except ValueError:
        return ""
    checked = origin.get("signature") if isinstance(origin, dict) else None
    status = checked.get("status") if isinstance(checked, dict) else None
    return status if isinstance(status, str) else ""
