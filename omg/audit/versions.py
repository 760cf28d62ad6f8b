"""Version order in each feed's scheme, and the one constraint notation every feed's
ranges are turned into.

Each feed writes its ranges in its own syntax (npm semver ranges, OSV events, RubyGems
requirements, Arch's affected/fixed); `omg.audit.ranges` turns them, once, at fetch
time, into a *constraint*: alternatives joined by ``" || "``, each a space-separated
conjunction of ``<op><version>`` (ops ``>= > <= < = !=``), ``*`` for every version and
the empty string for none. So the hot path (`omg use` through `cached_findings`) only
compares versions: no feed syntax, no regular expressions, no imports at all here.

Schemes: ``semver`` (Node, Go: semver 2.0 order, a leading ``v`` ignored, missing
minor/patch read as 0), ``python`` (PEP 440's release/pre/post/dev order, which CPython
tags follow), ``gem`` (``Gem::Version#<=>``, Ruby), ``vercmp`` (pacman's
``alpm_pkg_vercmp``: `pyalpm.vercmp` when importable, else the port below, which the
tests check against it). An unparsable version raises ValueError: callers warn.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

SCHEMES = ("semver", "python", "gem", "vercmp")
OPS = (">=", "<=", "!=", ">", "<", "=")


def compare(scheme: str, a: str, b: str) -> int:
    """-1, 0 or 1 as `a` sorts before, with or after `b` in `scheme`."""
    if scheme == "vercmp":
        return vercmp(a, b)
    if scheme == "gem":
        return gem_cmp(a, b)
    ka, kb = _key(scheme, a), _key(scheme, b)
    return (ka > kb) - (ka < kb)


#: Parsed versions and constraints: an audit compares the same few hundred strings
#: thousands of times (every installed version against every advisory of its tool).
_KEYS: dict[tuple[str, str], tuple[object, ...]] = {}
_GEMS: dict[str, list[int | str]] = {}
_CONSTRAINTS: dict[str, list[list[tuple[str, str]]]] = {}


def _key(scheme: str, version: str) -> tuple[object, ...]:
    found = _KEYS.get((scheme, version))
    if found is None:
        found = _KEYS[(scheme, version)] = \
            semver_key(version) if scheme == "semver" else python_key(version)
    return found


def _parsed(constraint: str) -> list[list[tuple[str, str]]]:
    found = _CONSTRAINTS.get(constraint)
    if found is None:
        found = _CONSTRAINTS[constraint] = [
            [(op, t[len(op):]) for t in alt.split() for op in (_op(t),)]
            for alt in constraint.split("||") if alt.split()]
    return found


def satisfies(scheme: str, constraint: str, version: str) -> bool:
    """Whether `version` is in `constraint` (see the module docstring)."""
    if scheme in ("semver", "python"):  # keys: each bound parsed once, tuples compared
        key = _key(scheme, version)
        return any(all(_TEST[op](key, bound) for op, bound in terms)
                   for terms in _keyed(scheme, constraint))
    return any(all(op == "*" or _TEST[op](compare(scheme, version, bound), 0)
                   for op, bound in terms)
               for terms in _parsed(constraint))


_TEST: dict[str, Callable[[Any, Any], bool]] = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    "<": lambda a, b: a < b, "=": lambda a, b: a == b, "!=": lambda a, b: a != b,
    "*": lambda a, b: True}
_KEYED: dict[tuple[str, str], list[list[tuple[str, tuple[object, ...]]]]] = {}


def _keyed(scheme: str, constraint: str) -> list[list[tuple[str, tuple[object, ...]]]]:
    found = _KEYED.get((scheme, constraint))
    if found is None:
        found = _KEYED[(scheme, constraint)] = [
            [(op, () if op == "*" else _key(scheme, bound)) for op, bound in terms]
            for terms in _parsed(constraint)]
    return found


def check(scheme: str, constraint: str) -> None:
    """ValueError unless every version `constraint` names parses in `scheme`."""
    for terms in _parsed(constraint):
        for op, bound in terms:
            if op != "*":
                compare(scheme, bound, bound)


def _op(term: str) -> str:
    if term == "*":
        return "*"
    for op in OPS:
        if term.startswith(op):
            return op
    raise ValueError(f"not a comparison: {term!r}")


# semver ------------------------------------------------------------------------------------

def semver_key(version: str) -> tuple[object, ...]:
    """Semver 2.0 precedence: a release sorts after its prereleases, numeric prerelease
    identifiers before alphanumeric ones; build metadata ignored."""
    text = version[1:] if version[:1] == "v" else version
    text = text.split("+", 1)[0]
    core, dash, pre = text.partition("-")
    parts = core.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and p.isascii() for p in parts):
        raise ValueError(f"not a semver version: {version!r}")
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    if not dash:
        return (*nums, 1, ())
    ids = pre.split(".")
    if not all(i and (i.isascii() and (i.isalnum() or set(i) <= _IDCHARS)) for i in ids):
        raise ValueError(f"not a semver version: {version!r}")
    return (*nums, 0, tuple((0, int(i), "") if i.isdigit() else (1, 0, i) for i in ids))


_IDCHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


# PEP 440 (CPython's tags) --------------------------------------------------------------

_STAGES = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}


def python_key(version: str) -> tuple[object, ...]:
    """PEP 440 order for `N(.N)*[{a|b|rc}N][.postN][.devN]` (a leading ``v`` allowed)."""
    text = version.lower()
    text = text[1:] if text[:1] == "v" else text
    i = 0
    while i < len(text) and (text[i].isdigit() or text[i] == "."):
        i += 1
    rel, rest = text[:i], text[i:]
    if not rel or rel.startswith(".") or ".." in rel or not rel.isascii():
        raise ValueError(f"not a PEP 440 version: {version!r}")
    if rel.endswith("."):
        rel, rest = rel[:-1], "." + rest
    release = [int(p) for p in rel.split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    pre, post, dev = _python_suffix(version, rest)
    if pre is None:
        # A dev release sorts before the prereleases of its release, a post release after.
        pre = (-1, 0) if dev is not None and post is None else (3, 0)
    return (tuple(release), pre, -1 if post is None else post,
            float("inf") if dev is None else dev)


def _python_suffix(version: str, rest: str
                   ) -> tuple[tuple[int, int] | None, int | None, int | None]:
    pre: tuple[int, int] | None = None
    post = dev = None
    rest = rest.lstrip(".-_")
    for name in sorted(_STAGES, key=len, reverse=True):
        if rest.startswith(name) and not rest.startswith("post") \
                and not rest.startswith("dev"):
            rest, n = _number(version, rest[len(name):])
            pre = (_STAGES[name], n)
            break
    rest = rest.lstrip(".-_")
    if rest.startswith("post"):
        rest, post = _number(version, rest[4:])
        rest = rest.lstrip(".-_")
    if rest.startswith("dev"):
        rest, dev = _number(version, rest[3:])
    if rest:
        raise ValueError(f"not a PEP 440 version: {version!r}")
    return pre, post, dev


def _number(version: str, text: str) -> tuple[str, int]:
    text = text.lstrip(".-_")
    i = 0
    while i < len(text) and text[i].isdigit() and text[i].isascii():
        i += 1
    return text[i:], int(text[:i]) if i else 0


# RubyGems --------------------------------------------------------------------------------

def gem_segments(version: str) -> list[int | str]:
    """`Gem::Version#canonical_segments`: numbers and letter runs, trailing zeros of the
    release part and of the prerelease part dropped."""
    text = version.strip().replace("-", ".pre.")
    if not text or not text[0].isascii() or not text[0].isalnum() or \
            not all(c.isascii() and (c.isalnum() or c == ".") for c in text):
        raise ValueError(f"not a RubyGems version: {version!r}")
    segs: list[int | str] = []
    i = 0
    while i < len(text):
        j = i
        if text[i].isdigit():
            while j < len(text) and text[j].isdigit():
                j += 1
            segs.append(int(text[i:j]))
        elif text[i].isalpha():
            while j < len(text) and text[j].isalpha():
                j += 1
            segs.append(text[i:j])
        else:
            j += 1
        i = j
    cut = next((n for n, s in enumerate(segs) if isinstance(s, str)), len(segs))
    return _strip_zeros(segs[:cut]) + _strip_zeros(segs[cut:])


def _gem(version: str) -> list[int | str]:
    found = _GEMS.get(version)
    if found is None:
        found = _GEMS[version] = gem_segments(version)
    return found


def _strip_zeros(segs: list[int | str]) -> list[int | str]:
    while segs and segs[-1] == 0:
        segs = segs[:-1]
    return segs


def gem_cmp(a: str, b: str) -> int:
    sa, sb = _gem(a), _gem(b)
    for i in range(max(len(sa), len(sb))):
        x = sa[i] if i < len(sa) else 0
        y = sb[i] if i < len(sb) else 0
        if x == y:
            continue
        if isinstance(x, str) and isinstance(y, int):
            return -1
        if isinstance(x, int) and isinstance(y, str):
            return 1
        return -1 if x < y else 1  # type: ignore[operator]  # same type here
    return 0


# pacman --------------------------------------------------------------------------------------

def vercmp(a: str, b: str) -> int:
    """pacman's version order (``[epoch:]pkgver[-pkgrel]``)."""
    if not a.isprintable() or not b.isprintable() or not a or not b:
        raise ValueError(f"not a package version: {a!r} / {b!r}")
    try:
        import pyalpm  # libalpm's own, when installed
    except ImportError:
        return port_vercmp(a, b)
    result: int = pyalpm.vercmp(a, b)
    return (result > 0) - (result < 0)


def port_vercmp(a: str, b: str) -> int:
    """A port of libalpm's `alpm_pkg_vercmp` (lib/libalpm/version.c)."""
    if a == b:
        return 0
    e1, v1, r1 = _parse_evr(a)
    e2, v2, r2 = _parse_evr(b)
    ret = _rpmvercmp(e1, e2)
    if ret == 0:
        ret = _rpmvercmp(v1, v2)
        if ret == 0 and r1 is not None and r2 is not None:
            ret = _rpmvercmp(r1, r2)
    return ret


def _parse_evr(evr: str) -> tuple[str, str, str | None]:
    s = 0
    while s < len(evr) and _isdigit(evr[s]):
        s += 1
    se = evr.rfind("-", s)
    release = None
    if se >= 0:
        release, evr = evr[se + 1:], evr[:se]
    if s < len(evr) and evr[s] == ":":
        return evr[:s] or "0", evr[s + 1:], release
    return "0", evr, release


def _isdigit(c: str) -> bool:
    return "0" <= c <= "9"


def _isalpha(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z"


def _rpmvercmp(a: str, b: str) -> int:
    if a == b:
        return 0
    one = two = p1 = p2 = 0
    n1, n2 = len(a), len(b)
    while one < n1 and two < n2:
        while one < n1 and not (_isdigit(a[one]) or _isalpha(a[one])):
            one += 1
        while two < n2 and not (_isdigit(b[two]) or _isalpha(b[two])):
            two += 1
        if not (one < n1 and two < n2):
            break
        if one - p1 != two - p2:  # separators of different lengths decide
            return -1 if one - p1 < two - p2 else 1
        p1, p2 = one, two
        same = _isdigit if _isdigit(a[p1]) else _isalpha
        isnum = same is _isdigit
        while p1 < n1 and same(a[p1]):
            p1 += 1
        while p2 < n2 and same(b[p2]):
            p2 += 1
        if two == p2:  # numeric against alpha: the number is newer
            return 1 if isnum else -1
        s1, s2 = a[one:p1], b[two:p2]
        if isnum:
            s1, s2 = s1.lstrip("0"), s2.lstrip("0")
            if len(s1) != len(s2):
                return 1 if len(s1) > len(s2) else -1
        if s1 != s2:
            return -1 if s1 < s2 else 1
        one, two = p1, p2
    if one >= n1 and two >= n2:
        return 0
    # A remaining alpha part never beats an empty one.
    if (one >= n1 and not _isalpha(b[two])) or (one < n1 and _isalpha(a[one])):
        return -1
    return 1


def go_semver(version: str) -> str:
    """A Go release as the Go vulnerability database writes it: ``1.21rc2`` ->
    ``1.21.0-rc.2``, ``1.21`` -> ``1.21.0`` (semver order then holds)."""
    for tag in ("rc", "beta"):
        head, found, n = version.partition(tag)
        if found and n.isdigit():
            return f"{head}.0-{tag}.{n}" if head.count(".") == 1 else f"{head}-{tag}.{n}"
    return version
