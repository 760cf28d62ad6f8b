"""Each feed's range syntax, turned into `omg.audit.versions`' constraint notation.

One parser per syntax: npm semver ranges (Node's security-wg), OSV ``ranges`` events
(SEMVER and ECOSYSTEM) and ``versions`` lists (Go, Python), RubyGems requirements (Ruby),
Arch's affected/fixed pair. They run when a feed is fetched, never on the hot path; a
range they cannot read raises ValueError, which the feed turns into a warning naming
the advisory (the rest is still checked).

npm ranges are desugared as node-semver does (``^1.2.3`` is ``>=1.2.3 <2.0.0-0``, ``4.x``
is ``>=4.0.0 <5.0.0-0``, ``<= 10`` is ``<11.0.0-0``, ``a - b``), without node-semver's
rule that a prerelease only matches a comparator naming the same release (Node's
releases are never prereleases).
"""

from __future__ import annotations

import contextlib
import re

from omg.audit.versions import check

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

ANY = "*"
NONE = ""


def union(alternatives: Iterable[str]) -> str:
    """The constraint matching any of `alternatives` (constraints themselves)."""
    parts = [a for a in alternatives if a]
    return ANY if ANY in parts else " || ".join(dict.fromkeys(parts))


# npm semver ranges -----------------------------------------------------------------------

_PARTIAL = r"v?(?:[0-9]+|[xX*])(?:\.(?:[0-9]+|[xX*])){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
_HYPHEN = re.compile(rf"^\s*({_PARTIAL})\s+-\s+({_PARTIAL})\s*$")
_TERM = re.compile(rf"(<=|>=|<|>|=|\^|~>|~)?\s*({_PARTIAL})")


def npm_range(text: str) -> str:
    """An npm semver range (``<=0.8.25 || >=0.10.0 <0.10.19 || ^4.0.0``)."""
    return union(_npm_set(part) for part in text.split("||")) if text.strip() else ANY


def _npm_set(text: str) -> str:
    hyphen = _HYPHEN.match(text)
    if hyphen:
        low, high = _partial(hyphen[1]), _partial(hyphen[2])
        return " ".join(_cmp(">=", low) + _cmp("<=", high)) or ANY
    terms: list[str] = []
    pos, rest = 0, text.strip()
    while pos < len(rest):
        m = _TERM.match(rest, pos)
        if m is None:
            raise ValueError(f"not an npm range: {text.strip()!r}")
        terms += _cmp(m[1] or "=", _partial(m[2]))
        pos = m.end()
        while pos < len(rest) and rest[pos] in " \t,":
            pos += 1
    return " ".join(terms) or ANY


def _partial(text: str) -> tuple[list[int], str]:
    """The numbers given (an x or * ends them) and the prerelease, ``-beta.1``."""
    core, dash, pre = text.removeprefix("v").split("+", 1)[0].partition("-")
    nums: list[int] = []
    for part in core.split("."):
        if not part.isdigit():
            break
        nums.append(int(part))
    if dash and len(nums) < 3:
        raise ValueError(f"not a version: {text!r}")
    return nums, "-" + pre if dash else ""


def _v(nums: Sequence[int], pre: str = "") -> str:
    return ".".join(str(n) for n in [*nums, 0, 0, 0][:3]) + pre


def _bump(nums: Sequence[int], at: int) -> str:
    """The lowest prerelease of the next version at position `at`."""
    head = list(nums[:at + 1])
    head[at] += 1
    return _v(head, "-0")


def _cmp(op: str, partial: tuple[list[int], str]) -> list[str]:
    nums, pre = partial
    n = len(nums)
    if op in ("~", "~>"):
        if n == 0:
            return []
        return [f">={_v(nums, pre)}", f"<{_bump(nums, 0 if n == 1 else 1)}"]
    if op == "^":
        if n == 0:
            return []
        at = next((i for i, x in enumerate(nums) if x != 0), n - 1)
        return [f">={_v(nums, pre)}", f"<{_bump(nums, at)}"]
    if n == 3:
        return [f"{op}{_v(nums, pre)}"]
    if n == 0:  # *, x: any version, or none for < and >
        return [] if op in ("=", ">=", "<=") else ["<0.0.0-0"]
    return {"=": [f">={_v(nums)}", f"<{_bump(nums, n - 1)}"],
            ">=": [f">={_v(nums)}"],
            ">": [f">={_bump(nums, n - 1)[:-2]}"],
            "<": [f"<{_v(nums, '-0')}"],
            "<=": [f"<{_bump(nums, n - 1)}"]}[op]


# OSV -----------------------------------------------------------------------------------------

def osv_ranges(scheme: str, ranges: object, versions: object) -> tuple[str, list[str]]:
    """An OSV ``affected`` entry's ``ranges`` (SEMVER/ECOSYSTEM events; GIT ranges are
    skipped: commits are not versions) and ``versions`` list, as (constraint, fixed
    versions)."""
    alternatives: list[str] = []
    fixed: list[str] = []
    for rng in ranges if isinstance(ranges, list) else []:
        if not isinstance(rng, dict) or rng.get("type") not in ("SEMVER", "ECOSYSTEM"):
            continue
        events = rng.get("events")
        if not isinstance(events, list):
            raise ValueError("a range without events")
        alts, fix = _osv_events(events)
        alternatives += alts
        fixed += fix
    check(scheme, union(alternatives))
    for v in versions if isinstance(versions, list) else []:
        # Enumerated from git tags: a tag that is no version (``legacy-trunk``) is no
        # release anyone installs.
        with contextlib.suppress(ValueError):
            check(scheme, f"={_tag(v)}")
            alternatives.append(f"={v}")
    constraint = union(alternatives)
    return constraint, [f for f in dict.fromkeys(fixed)]


def _tag(version: object) -> str:
    """A version named by a git tag (``v3.12.1``) or plainly; no spaces allowed."""
    if not isinstance(version, str) or not version.isprintable() or \
            not version.strip() or " " in version or "|" in version:
        raise ValueError(f"not a version: {version!r}")
    return version


def _osv_events(events: Sequence[object]) -> tuple[list[str], list[str]]:
    alternatives, fixed = [], []
    low: str | None = None
    for event in events:
        if not isinstance(event, dict) or len(event) != 1:
            raise ValueError(f"not an OSV event: {event!r}")
        ((kind, value),) = event.items()
        if not isinstance(value, str):
            raise ValueError(f"not an OSV event: {event!r}")
        value = _tag(value)
        if kind == "introduced":
            low = value
            continue
        if low is None or kind not in ("fixed", "last_affected", "limit"):
            raise ValueError(f"OSV event {kind!r} out of order")
        start = "" if low == "0" else f">={low} "
        alternatives.append(start + ("<=" if kind == "last_affected" else "<") + value)
        if kind == "fixed":
            fixed.append(value)
        low = None
    if low is not None:
        alternatives.append(ANY if low == "0" else f">={low}")
    return alternatives, fixed


# RubyGems ------------------------------------------------------------------------------------

_GEM_REQ = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*([0-9A-Za-z.\-]+)\s*$")


def gem_requirements(requirements: Iterable[str]) -> str:
    """ruby-advisory-db's ``patched_versions``/``unaffected_versions``: a list of gem
    requirements (``~> 2.6.8``, ``>= 2.5, < 2.5.9``), any one of which matches."""
    return union(_gem_requirement(r) for r in requirements)


def _gem_requirement(text: str) -> str:
    terms = []
    for part in text.split(","):
        m = _GEM_REQ.match(part)
        if m is None:
            raise ValueError(f"not a gem requirement: {text!r}")
        op, version = m[1] or "=", m[2]
        check("gem", f"={version}")
        if op == "~>":
            terms += [f">={version}", f"<{_pessimistic_bound(version)}"]
        else:
            terms.append(f"{op}{version}")
    return " ".join(terms)


def _pessimistic_bound(version: str) -> str:
    """``Gem::Version#bump``: drop the prerelease part and the last segment, then add one
    to the new last (``2.6.8`` -> ``2.7``, ``3`` -> ``4``)."""
    segs = version.split(".")
    while segs and not segs[-1].isdigit():
        segs.pop()
    if len(segs) > 1:
        segs.pop()
    if not segs:
        raise ValueError(f"not a gem version: {version!r}")
    return ".".join([*segs[:-1], str(int(segs[-1]) + 1)])


# Arch -----------------------------------------------------------------------------------------

def arch_range(fixed: object) -> str:
    """As arch-audit reads a tracker group: every version before ``fixed`` is affected;
    all of them when nothing is fixed yet."""
    if fixed is None or fixed == "":
        return ANY
    if not isinstance(fixed, str):
        raise ValueError(f"not a package version: {fixed!r}")
    constraint = f"<{_tag(fixed)}"
    check("vercmp", constraint)
    return constraint
