"""``TOOL@SPEC``: the one parser, version ordering and spec matching. Pure, no I/O.

Every caller parses specs here: the CLI, the hot path of `omg use`, the daemon and
the providers. A spec is one of

- ``latest`` (or no ``@`` at all): the highest final release;
- an exact version: ``20.10.0``, ``3.13.0rc1``, ``1.2-3``;
- a partial version: ``20`` or ``20.10``, the highest release whose leading numeric
  components are these (``20.1`` matches ``20.1.5``, not ``20.10.0``);
- a range in the tool's own ecosystem's notation: ``^20``, ``20.x``, ``>=20 <22``
  (npm, for node and bun), ``>=3.11,<3.13`` or ``3.12.*`` (PEP 440, for python),
  ``~> 3.2`` (RubyGems), ... matched by univers (aboutcode's version-range library,
  which reads every ecosystem's native notation and the ``vers:`` spec), the
  highest final release in it winning;
- a word a provider understands (``lts``, ``lts/iron``, ``stable``, ``nightly``);
  anywhere else it is an exact version, so such specs resolve only through a provider.

An Arch package may be named by where it came from: ``aur/foo[@SPEC]`` (built from
the AUR) or ``<repo>/foo`` (a repository package ingested into the store); the
prefix is `ToolSpec.repo`, and resolution keeps only store paths of that origin.

Cheap to import on purpose (only `store.results`; no `re`, no `typing`): the hot path
of `omg use` parses its arguments here. Regular expressions are compiled on first use
by the ordering functions, and univers is imported only for a range.
"""

from __future__ import annotations

from store.errors import UsageError
from store.results import Result

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Iterable
    from typing import Any

LATEST = "latest"
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
#: A tool name: a letter or digit, then these; at most 64.
_TOOL_CHARS = _ALNUM | frozenset("+_.-")
#: A plain spec (version, prefix, channel word): at most 64 of these, not starting . or -.
_PLAIN_CHARS = _ALNUM | frozenset("+_.~-")
#: What a range may hold besides a plain spec's characters.
_RANGE_CHARS = _PLAIN_CHARS | frozenset("^*<>=!|, ")
MAX_SPEC = 64
MAX_RANGE = 200

#: Tool -> univers scheme: whose notation a range of that tool is written in.
RANGE_SCHEMES = {"node": "npm", "bun": "npm", "python": "pypi", "ruby": "gem",
                 "go": "golang", "rust": "npm", "java": "npm"}  # cargo, Temurin: semver

#: Pre-release labels in PEP 440 / semver order; unknown labels sort with "alpha".
_PRE_RANK = {"dev": 0, "a": 1, "alpha": 1, "b": 2, "beta": 2, "c": 3, "rc": 3, "pre": 3,
             "preview": 3}
_POST_LABELS = frozenset({"post", "p", "patch", "r", "rev", "pl"})


#: `ToolSpec.repo` of a package built from the AUR.
AUR = "aur"
#: A repository name before ``/`` (pacman.conf section names): at most 64 of these.
_REPO_CHARS = _ALNUM | frozenset("_-")


class ToolSpec(Result):
    tool: str
    spec: str = LATEST
    #: "" for a tool; ``aur`` or a repository name for an Arch package named so.
    repo: str = ""

    def __str__(self) -> str:
        return f"{self.repo}/{self.tool}@{self.spec}" if self.repo else f"{self.tool}@{self.spec}"


def version_pin(spec: ToolSpec, version: str) -> str:
    """What a project's version file records for `spec` resolved to `version`.

    The spec as written (``20`` keeps following 20.x), except ``latest``: a file
    saying "latest" would pin nothing, so it gets the version that was chosen.
    """
    return version if spec.spec == LATEST else spec.spec


def one_word(spec: str) -> str:
    """`spec` without blanks, for a version file read a word per tool (`.tool-versions`):
    ``>=18 <21`` -> ``>=18,<21``, ``^18 || ^20`` -> ``^18,||,^20``, ``>= 3.1, < 3.4`` ->
    ``>=3.1,<3.4``; `parse_tool_spec` reads the word back as the same range."""
    if " " not in spec:
        return spec
    alternatives = [",".join(_comparators(alt) or alt.split()) for alt in spec.split("||")]
    return ",||,".join(alternatives)


def is_range(spec: str) -> bool:
    """Written in range notation (``^20``, ``~1.2``, ``>=3.11``, ``20.x``, ``3.12.*``)?

    A ``~`` inside a version (Debian's ``1.0~rc1``) is part of the version, and nvm's
    ``lts/*`` is a word, not a range.
    """
    return not _lts_ok(spec) and (spec.startswith("~") or any(c in "^*<>=!|, " for c in spec)
            or any(part in ("x", "X") for part in spec.split(".")))


def parse_tool_spec(text: str) -> ToolSpec:
    """``node@20.10`` -> ToolSpec("node", "20.10"); ``node`` -> ToolSpec("node", "latest");
    ``aur/foo@1.2-1`` -> ToolSpec("foo", "1.2-1", "aur")."""
    tool, sep, spec = text.partition("@")
    if not sep:
        spec = LATEST
    repo, slash, name = tool.rpartition("/")
    if slash:
        if not (0 < len(repo) <= 64 and set(repo) <= _REPO_CHARS):
            raise UsageError(f"malformed package spec {text!r}: expected aur/NAME or "
                             "REPO/NAME, e.g. aur/yay@12.3.5-1")
        tool = name
    if not (0 < len(tool) <= 64 and tool[0] in _ALNUM and set(tool) <= _TOOL_CHARS):
        raise UsageError(f"malformed tool spec {text!r}: expected TOOL@VERSION, e.g. node@20")
    spec = spec.strip()
    if _plain_ok(spec) or _lts_ok(spec):
        return ToolSpec(tool, spec, repo)
    parts = _comparators(spec) if set(spec) <= _RANGE_CHARS else None
    if spec and len(spec) <= MAX_RANGE and is_range(spec) and parts:
        spec = " ".join(parts) if "," not in spec and "||" not in spec else " ".join(
            spec.split())
        _range(spec, tool)  # a malformed range is a usage error now, not "no match" later
        return ToolSpec(tool, spec, repo)
    raise UsageError(f"malformed version in {text!r}: expected a version, a prefix "
                     "such as 20 or 20.10, a range such as ^20, or 'latest'")


def parse_exact(text: str) -> ToolSpec:
    """``TOOL@VERSION`` naming one version of a runtime (a binary cache's entry, an
    installed version): parsed as every spec is, then no range and no missing version,
    which could only be "not found" later. (An Arch package's ``epoch:pkgver-pkgrel``
    is pacman's word, not a spec: `omg.arch.names` checks those.)"""
    parsed = parse_tool_spec(text)
    if "@" not in text or is_range(parsed.spec):
        raise UsageError(f"{text!r}: expected TOOL@VERSION naming one version (no range)")
    return parsed


_OPERATORS = ("===", "~>", ">=", "<=", "==", "!=", "~=", "^", "~", ">", "<", "=")


def _comparators(spec: str) -> list[str] | None:
    """A range's parts as ``OPERATOR VERSION`` (RubyGems' ``~> 3.2`` joined up), or None
    when a part is not one: an operator alone or doubled (``>=``, ``^^20``) is a typo,
    and so are several bare versions (``2 0``), except around a hyphen (``1.2 - 1.4``)."""
    words = spec.replace("||", " ").replace(",", " ").split()
    parts: list[str] = []
    for word in words:
        if parts and parts[-1] in _OPERATORS:
            parts[-1] += word
        else:
            parts.append(word)
    hyphen = "-" in parts
    for part in parts:
        if part == "-" and hyphen:
            continue
        op = next((o for o in _OPERATORS if part.startswith(o)), "")
        rest = part[len(op):]
        if not rest or rest[0] not in "0123456789xX*v" or (not op and len(parts) > 1
                                                           and not hyphen):
            return None
    return parts


def _plain_ok(spec: str) -> bool:
    return (0 < len(spec) <= MAX_SPEC and set(spec) <= _PLAIN_CHARS
            and spec[0] not in ".-~" and not is_range(spec))


def _lts_ok(spec: str) -> bool:
    """Node's LTS lines as nvm writes them: ``lts/*``, ``lts/iron``, ``lts-*``."""
    head, name = spec[:3], spec[4:]
    return head == "lts" and spec[3:4] in ("/", "-") and (
        name == "*" or (0 < len(name) <= 32 and set(name) <= (_ALNUM | frozenset("_-"))))


# Ordering -----------------------------------------------------------------------------

_regex: dict[str, re.Pattern[str]] = {}


def _re(name: str) -> re.Pattern[str]:
    """The ordering's regular expressions, compiled on first use (not on the hot path)."""
    if not _regex:
        import re

        _regex.update(numeric=re.compile(r"^v?(\d+(?:\.\d+)*)(.*)$"),
                      partial=re.compile(r"^v?\d+(?:\.\d+)*$"),
                      token=re.compile(r"\d+|[A-Za-z]+"))
    return _regex[name]


def _token(tok: str) -> tuple[int, int, str]:
    return (1, int(tok), "") if tok.isdigit() else (0, 0, tok.lower())


def version_key(version: str) -> tuple[object, ...]:
    """A sort key: 1.9 < 1.10, 1.0rc1 < 1.0 < 1.0-1 (post), non-numeric words first."""
    m = _re("numeric").match(version)
    if not m:
        return (0, tuple(_token(t) for t in _re("token").findall(version)), version)
    release = tuple(int(p) for p in m.group(1).split("."))
    # 1.0 == 1.0.0 for ordering; the original string breaks the tie deterministically.
    trimmed = release
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed = trimmed[:-1]
    rest = m.group(2)
    if not rest or rest.startswith("+"):
        phase: tuple[object, ...] = (1,)  # a final release; "+build" metadata does not order
    else:
        tokens = _re("token").findall(rest)
        if not tokens:
            phase = (1,)
        elif tokens[0].isdigit() or tokens[0].lower() in _POST_LABELS:
            phase = (2, tuple(_token(t) for t in tokens))
        else:
            rank = _PRE_RANK.get(tokens[0].lower(), 1)
            phase = (0, rank, tuple(_token(t) for t in tokens[1:]))
    return (1, trimmed, phase, version)


def is_prerelease(version: str) -> bool:
    key = version_key(version)
    return key[0] == 1 and key[2][0] == 0  # type: ignore[index]


def _release(version: str) -> tuple[int, ...] | None:
    m = _re("numeric").match(version)
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def _variant(text: str) -> str:
    """What follows a `+` that starts with a letter: a variant of one version (Rust's
    components, `1.78.0+minimal+rust-src`), where a `+` and a number is a build
    (Java's `21.0.3+9`)."""
    _, sep, tail = text.partition("+")
    return tail if sep and tail[:1].isalpha() else ""


def matches(spec: str, version: str, tool: str = "") -> bool:
    """Does `version` satisfy `spec` (exact, partial numeric prefix, range, or latest)?

    A variant matches only a spec naming the same variant: `1.78` is not `1.78.0+minimal`.
    """
    if spec == version or spec.lstrip("v") == version.lstrip("v"):
        return True
    variant = _variant(spec)
    if variant != _variant(version):
        return False
    if variant:
        spec, version = spec[: -len(variant) - 1], version[: -len(variant) - 1]
    if spec in (LATEST, version) or spec.lstrip("v") == version.lstrip("v"):
        return True
    if _lts_ok(spec):
        return False  # a provider's word: the store cannot tell which versions are LTS
    if is_range(spec):
        return in_range(spec, version, tool)
    if not _re("partial").match(spec):
        return False
    want = tuple(int(p) for p in spec.lstrip("v").split("."))
    have = _release(version)
    return have is not None and len(have) > len(want) and have[: len(want)] == want


def in_range(spec: str, version: str, tool: str = "") -> bool:
    """`version` within the range `spec`, read in `tool`'s ecosystem's notation."""
    return _range(spec, tool)(version)


_ranges: dict[tuple[str, str], object] = {}


def _range(spec: str, tool: str) -> Callable[[str], bool]:
    """A membership test for one range, parsed once (univers is slow to import)."""
    key = (spec, tool)
    found = _ranges.get(key)
    if found is None:
        found = _ranges[key] = _parse_range(spec, RANGE_SCHEMES.get(tool, "npm"))
    return found  # type: ignore[return-value]


def _parse_range(spec: str, scheme: str) -> Callable[[str], bool]:
    from univers.version_range import RANGE_CLASS_BY_SCHEMES

    # Any: univers annotates few of its methods, and mypy strict refuses untyped calls.
    range_class: Any = RANGE_CLASS_BY_SCHEMES[scheme]
    native = spec.replace(",", " ") if scheme == "npm" else spec
    if scheme != "npm":
        native = ",".join(_wildcard_bounds(part.strip()) for part in native.split(","))
    try:
        if spec.startswith("vers:"):
            parsed = range_class.from_string(spec)
        else:
            try:
                parsed = range_class.from_native(native)
            except NotImplementedError:  # univers reads no native notation for it:
                # plain comparators (`>=1.21,<1.23`) are the vers: spec's own syntax
                parts = native.replace(",", " ").split()
                parsed = range_class.from_string(f"vers:{scheme}/{'|'.join(parts)}")
    except Exception as exc:  # univers raises ValueError, TypeError, InvalidVersion, ...
        raise UsageError(f"malformed version range {spec!r} ({scheme} notation): "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                         hint="e.g. ^20, 20.x, >=20 <22 (npm); >=3.11,<3.13, 3.12.* "
                              "(python); ~> 3.2 (ruby)") from None

    def contains(version: str) -> bool:
        try:
            return range_class.version_class(version.lstrip("v")) in parsed
        except Exception:  # a version this scheme cannot read is not in its range
            return False

    return contains


def _wildcard_bounds(part: str) -> str:
    """``3.12.*`` or ``==3.12.*`` (PEP 440 prefix matching, which univers does not
    read) as the bounds it means: ``>=3.12,<3.13``."""
    head = part.removeprefix("==").strip()
    numbers = head.removesuffix(".*").split(".")
    if not head.endswith(".*") or not all(n.isdigit() for n in numbers):
        return part
    upper = [*numbers[:-1], str(int(numbers[-1]) + 1)]
    return f">={'.'.join(numbers)},<{'.'.join(upper)}"


def select(spec: str, versions: Iterable[str], tool: str = "") -> str | None:
    """The version a spec resolves to among `versions`, or None.

    An exact match wins outright; otherwise the highest matching final release,
    or the highest pre-release when no final release matches.
    """
    candidates = [v for v in versions if matches(spec, v, tool)]
    if not candidates:
        return None
    for v in candidates:
        if v == spec:
            return v
    finals = [v for v in candidates if not is_prerelease(v)]
    return max(finals or candidates, key=version_key)

