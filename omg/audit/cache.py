"""What the feeds last said, kept small, and the findings it gives for installed things.

Each feed, when it fetches, parses its whole document once and writes a summary per
tool, ``<cache>/audit/<tool>`` (``node``, ``go``, ``python``, ``ruby``, ``arch``): a
header line, then one tab-separated row per advisory with its ranges already turned into
the constraint notation of `omg.audit.versions`. `cached_findings` reads only those
files and `omg.support`'s end-of-life summaries: no network, no JSON, no feed syntax, so
it can run in `omg use` (the policy engine's hot path). This module imports only `os`
and `time` at the top.

Header: ``omg-audit 1<TAB>feed<TAB>scheme<TAB>fetched`` (the feed's name, the version
scheme of its ranges, the Unix time of the fetch). Row: ``package, advisory, ids,
severity, fixed, affected, unaffected, summary`` where ``ids`` and ``fixed`` are
comma-separated, ``affected``/``unaffected`` constraints, and a version is hit when it
is in ``affected`` and not in ``unaffected``. ``package`` is the tool for runtimes and
the pkgname for Arch.
"""

from __future__ import annotations

import os
import time

from omg import support
from omg.audit.finding import END_OF_LIFE, VULNERABILITY, Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

HEADER = "omg-audit 1"
#: The runtimes with a vulnerability feed, and the file Arch packages share.
RUNTIME_FEEDS = ("node", "go", "python", "ruby")
ARCH = "arch"
#: The severity of an end-of-life finding: no more security fixes, but no known hole
#: either (so `--fail-on high`, the default, does not fail on it alone).
EOL_SEVERITY = "medium"
EOL_FEED = "endoflife.date"


class Advisory:
    """One summary row (see the module docstring)."""

    __slots__ = ("advisory", "affected", "fixed", "ids", "package", "severity", "summary",
                 "unaffected")

    def __init__(self, package: str, advisory: str, ids: Sequence[str], severity: str,
                 fixed: Sequence[str], affected: str, unaffected: str, summary: str) -> None:
        self.package, self.advisory, self.severity = package, advisory, severity
        self.ids, self.fixed = tuple(ids), tuple(fixed)
        self.affected, self.unaffected, self.summary = affected, unaffected, summary

    def row(self) -> str:
        cols = (self.package, self.advisory, ",".join(self.ids), self.severity,
                ",".join(self.fixed), self.affected, self.unaffected, self.summary)
        return "\t".join(_flat(c) for c in cols)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Advisory) and self.row() == other.row()

    def __hash__(self) -> int:
        return hash(self.row())

    def __repr__(self) -> str:
        return f"Advisory({self.row()!r})"


class Summary:
    """A feed's advisories for one tool as last fetched."""

    __slots__ = ("advisories", "feed", "fetched", "scheme")

    def __init__(self, feed: str, scheme: str, fetched: float,
                 advisories: Sequence[Advisory]) -> None:
        self.feed, self.scheme, self.fetched = feed, scheme, fetched
        self.advisories = list(advisories)

    def age(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.fetched)


def _flat(text: str) -> str:
    return " ".join(text.split()) if ("\t" in text or "\n" in text or "\r" in text) \
        else text


def summary_path(cache_dir: str | os.PathLike[str], name: str) -> str:
    return f"{os.fspath(cache_dir)}/audit/{name}"


def save(cache_dir: str | os.PathLike[str], name: str, summary: Summary) -> None:
    """Write `name`'s summary atomically; a cache that cannot be written is no error
    (the next audit fetches again)."""
    path = summary_path(cache_dir, name)
    head = f"{HEADER}\t{summary.feed}\t{summary.scheme}\t{summary.fetched:.0f}\n"
    body = "".join(a.row() + "\n" for a in summary.advisories)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(head + body)
        os.replace(tmp, path)
    except OSError:
        import contextlib  # only here: `use` never writes

        with contextlib.suppress(OSError):
            os.unlink(tmp)


def load(cache_dir: str | os.PathLike[str], name: str) -> Summary | None:
    """`name`'s summary as last saved; None when never fetched or unreadable."""
    try:
        with open(summary_path(cache_dir, name), encoding="utf-8") as f:
            text = f.read()
    except (OSError, ValueError):
        return None
    rows = text.split("\n")
    head = rows[0].split("\t")
    if len(head) != 4 or head[0] != HEADER or not head[3].isdigit():
        return None
    out = []
    for row in rows[1:]:
        c = row.split("\t")
        if len(c) == 8:
            out.append(Advisory(c[0], c[1], _list(c[2]), c[3], _list(c[4]), c[5], c[6],
                                c[7]))
    return Summary(head[1], head[2], float(head[3]), out)


def _list(text: str) -> list[str]:
    return text.split(",") if text else []


# Findings -----------------------------------------------------------------------------------

def feed_of(tool: str) -> tuple[str, str]:
    """(summary file, package name) for an installed thing: a runtime's own file, or
    the Arch file and the pkgname of ``<repo>/<pkgname>``; ("", "") when no feed covers
    it (``aur/...``: the Arch tracker knows only the repositories' packages)."""
    if tool in RUNTIME_FEEDS:
        return tool, tool
    repo, slash, pkgname = tool.partition("/")
    if slash and repo != "aur" and pkgname:
        return ARCH, pkgname
    return "", ""


def cached_findings(cache_dir: str, installed: Iterable[tuple[str, str]]) -> list[Finding]:
    """Vulnerability and end-of-life findings for (tool, version) pairs from what the
    feeds cached: never the network, never a JSON parse (`omg use`, the policy engine).
    What cannot be judged (no cache, a version that does not parse) gives no finding."""
    return findings(cache_dir, installed, [])


def findings(cache_dir: str, installed: Iterable[tuple[str, str]], warnings: list[str],
             summaries: dict[str, Summary | None] | None = None, *,
             support_dir: str | None = None) -> list[Finding]:
    """`cached_findings`, telling `warnings` what it could not judge; `summaries`
    (file -> summary) lets a caller that already loaded them pass them in;
    `support_dir`: where `omg.support`'s summaries are, when not in `cache_dir`."""
    loaded: dict[str, Summary | None] = {} if summaries is None else summaries
    lines: dict[str, list[support.Line]] = {}
    # Per file, its rows by package: a system has a thousand packages, the Arch file
    # thousands of rows.
    by_package: dict[str, dict[str, list[Advisory]]] = {}
    out: list[Finding] = []
    day = support.today()
    for tool, version in installed:
        name, package = feed_of(tool)
        if name:
            if name not in loaded:
                loaded[name] = load(cache_dir, name)
            found = loaded[name]
            if found is not None:
                if name not in by_package:
                    by_package[name] = {}
                    for adv in found.advisories:
                        by_package[name].setdefault(adv.package, []).append(adv)
                out += _hits(tool, version, by_package[name].get(package, []), found,
                             warnings)
        if tool in support.PRODUCTS:
            if tool not in lines:
                lines[tool] = support.load(support_dir or cache_dir, tool)
            eol = end_of_life(tool, version, lines[tool], day)
            out += [eol] if eol is not None else []
    return out


def _hits(tool: str, version: str, advisories: Sequence[Advisory], summary: Summary,
          warnings: list[str]) -> list[Finding]:
    from omg.audit.versions import go_semver, satisfies

    out = []
    version_as = go_semver(version) if tool == "go" else version
    for adv in advisories:
        try:
            hit = satisfies(summary.scheme, adv.affected, version_as) and \
                not satisfies(summary.scheme, adv.unaffected, version_as)
        except ValueError as exc:
            warnings.append(f"{summary.feed}: {tool} {version} against {adv.advisory}: "
                            f"cannot compare ({exc})")
            continue
        if hit:
            out.append(Finding(tool, version, VULNERABILITY, adv.severity, summary.feed,
                               adv.summary, adv.advisory, adv.ids, adv.fixed,
                               upgrade_command(tool, version, summary.scheme, adv.fixed)))
    return out


def upgrade_command(tool: str, version: str, scheme: str, fixed: Sequence[str]) -> str:
    """What to type to get a fixed version: for a runtime, ``omg install tool@V`` with V
    the lowest fixed version above `version` in the longest shared line (20.10.0 ->
    20.18.1 rather than 22.x); for an Arch package, ``omg update`` (the repositories'
    fixed version arrives with the next update); "" when nothing is fixed yet."""
    if not fixed:
        return ""
    if "/" in tool:
        return "omg update"
    from omg.audit.versions import compare

    best: tuple[int, str] | None = None
    for f in fixed:
        try:
            if compare(scheme, f, version) <= 0:
                continue
        except ValueError:
            continue
        shared = _shared_prefix(f, version)
        if best is None or shared > best[0] or (
                shared == best[0] and compare(scheme, f, best[1]) < 0):
            best = (shared, f)
    return f"omg install {tool}@{best[1]}" if best is not None else ""


def _shared_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split("."), b.split("."), strict=False):
        if x != y:
            break
        n += 1
    return n


def end_of_life(tool: str, version: str, lines: Sequence[support.Line], day: str
                ) -> Finding | None:
    """The END_OF_LIFE finding of `version` if its line in `lines` is end-of-life on
    `day` (the policy engine also makes it from the support data an install read)."""
    line = support.line_of(version, lines)
    if line is None or not line.eol(day):
        return None
    since = f" since {line.eol_from}" if line.eol_from else ""
    better = support.newest_supported(lines, day)
    return Finding(tool, version, END_OF_LIFE, EOL_SEVERITY, EOL_FEED,
                   f"the {tool} {line.name} line is end-of-life{since}",
                   advisory=f"eol:{tool}@{line.name}",
                   fixed_in=(better.name,) if better is not None else (),
                   upgrade=f"omg install {tool}@{better.name}" if better is not None else "")
