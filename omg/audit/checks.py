"""The findings `[policy]` judges, from cached data only: never the network.

- vulnerable and eol: what the feeds cached and the support summaries
  (`omg.audit.cache.cached_findings`), or for an install the support data it just read;
- outdated: the versions upstream's index listed when omg last read it
  (`omg.versioncache`): a newer final release of the same line (node and java: the same
  major; the others: the same major.minor);
- unsigned: what install recorded (the store path record's origin ``signature``,
  `omg.signatures` statuses) for a runtime whose upstream signs (`SIGNING`).

This module is on the path of `omg use` and `omg sync`: it imports only `os` at the
top, reads small files, and loads the feeds' reader only when the feeds or the support
data left a cache, and `Finding` only when there is one.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from omg.audit.finding import Finding
    from omg.support import Line

#: The runtimes whose upstream signs what omg installs (each provider's `signs`; a test
#: keeps the two equal): an unverified one of these is "unsigned".
SIGNING = frozenset({"node", "bun", "go", "rust", "java"})
#: `omg.signatures` statuses that mean "upstream signs, and it was not verified".
NOT_VERIFIED = frozenset({"missing", "unknown-key", "no-gpgv", "off"})
#: What is read of a record to find its origin: it comes before the file list.
_HEAD = 1 << 16


def cached(cache_dir: str, store_dir: str, tools: Iterable[tuple[str, str, str]],
           *, versions: Callable[[str], list[tuple[str, str]]] | None = None,
           lines: Callable[[str], Sequence[Line]] | None = None) -> list[Finding]:
    """The findings for (tool, version, store path name) triples, from caches only.

    `versions`: upstream's versions of a tool as last read (default: `omg.versioncache`);
    `lines`: a tool's support data, when the command read it itself (an install);
    by default the summary `omg.support` keeps.
    """
    triples = list(tools)
    if versions is None:
        from omg.versioncache import remembered

        versions = remembered
    out: list[Finding] = []
    if any(os.path.isdir(f"{cache_dir}/{d}") for d in ("audit", "support")):
        from omg.audit.cache import cached_findings

        out = cached_findings(cache_dir, [(t, v) for t, v, _ in triples])
    if lines is not None:
        from omg.audit.finding import END_OF_LIFE

        out = [f for f in out if f.kind != END_OF_LIFE]
        out += [f for t, v, _ in triples if (f := eol(t, v, lines(t))) is not None]
    for tool, version, name in triples:
        out += outdated(tool, version, [v for v, _ in versions(tool)])
        status = recorded_signature(store_dir, name) if name else ""
        out += unsigned(tool, version, status)
    return out


def eol(tool: str, version: str, lines: Sequence[Line]) -> Finding | None:
    """The END_OF_LIFE finding of `version` in `lines`, as the audit's cache makes it."""
    from omg import support
    from omg.audit.cache import end_of_life

    return end_of_life(tool, version, lines, support.today())


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


def outdated(tool: str, version: str, upstream: Iterable[str]) -> list[Finding]:
    newer = newer_patch(tool, version, upstream)
    if not newer:
        return []
    from omg.audit.finding import OUTDATED, Finding

    return [Finding(tool, version, OUTDATED, "unknown", "upstream index",
                    f"a newer release of its line exists: {newer}", fixed_in=(newer,),
                    upgrade=f"omg install {tool}@{newer}")]


def unsigned(tool: str, version: str, status: str) -> list[Finding]:
    """An UNSIGNED finding for a runtime whose upstream signs but whose install did not
    verify the signature (`status`: the recorded `omg.signatures` status)."""
    if tool not in SIGNING or status not in NOT_VERIFIED:
        return []
    from omg.audit.finding import UNSIGNED, Finding

    return [Finding(tool, version, UNSIGNED, "unknown", "signatures",
                    f"upstream signs it, but its signature was not verified ({status})",
                    upgrade=f"omg install {tool}@{version} again from a mirror that has "
                            "its signatures")]


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
    at = head.find('"origin"')
    colon = head.find(":", at) if at >= 0 else -1
    if colon < 0 or head[at + len('"origin"'):colon].strip():
        return ""
    from store.leanjson import scan

    rest = head[colon + 1:]
    start = len(head) - len(rest.lstrip())
    try:
        origin, _ = scan(head, start)
    except ValueError:
        return ""
    checked = origin.get("signature") if isinstance(origin, dict) else None
    status = checked.get("status") if isinstance(checked, dict) else None
    return status if isinstance(status, str) else ""
