"""Pure parsing of ``TOOL@SPEC``, version ordering and spec matching.

No I/O and no heavy imports: the fast path, the profile use cases and the
runtime providers all share this module. A spec is one of

- ``latest`` (or no ``@`` at all): the highest final release;
- an exact version: ``20.10.0``, ``3.13.0rc1``, ``1.2-3``;
- a partial version: ``20`` or ``20.10``, the highest release whose leading
  numeric components are these (``20.1`` matches ``20.1.5``, not ``20.10.0``).

Providers may understand more (``lts``, ``stable``); `matches` treats any other
word as an exact version, so such specs resolve only through a provider.
"""

# No `from __future__ import annotations` here, on purpose: see omg/fast.py.
import re
from collections.abc import Iterable
from typing import NamedTuple

from store.errors import UsageError

TOOL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+_.-]{0,63}$")
#: A version, a prefix, a channel word, or an LTS line as Node names it (`lts/iron`, `lts/*`).
SPEC_RE = re.compile(r"^(?:lts/(?:\*|[A-Za-z0-9_-]{1,32})|[A-Za-z0-9+_.~-]{1,64})$")
_NUMERIC_RE = re.compile(r"^v?(\d+(?:\.\d+)*)(.*)$")
_PARTIAL_RE = re.compile(r"^v?\d+(?:\.\d+)*$")
_TOKEN_RE = re.compile(r"\d+|[A-Za-z]+")

LATEST = "latest"

#: Pre-release labels in PEP 440 / semver order; unknown labels sort with "alpha".
_PRE_RANK = {"dev": 0, "a": 1, "alpha": 1, "b": 2, "beta": 2, "c": 3, "rc": 3, "pre": 3,
             "preview": 3}
_POST_LABELS = frozenset({"post", "p", "patch", "r", "rev", "pl"})


class ToolSpec(NamedTuple):
    tool: str
    spec: str = LATEST

    def __str__(self) -> str:
        return f"{self.tool}@{self.spec}"


def version_pin(spec: ToolSpec, version: str) -> str:
    """What a project's version file records for `spec` resolved to `version`.

    The spec as written (``20`` keeps following 20.x), except ``latest``: a file
    saying "latest" would pin nothing, so it gets the version that was chosen.
    """
    return version if spec.spec == LATEST else spec.spec


def parse_tool_spec(text: str) -> ToolSpec:
    """``node@20.10`` -> ToolSpec("node", "20.10"); ``node`` -> ToolSpec("node", "latest")."""
    tool, sep, spec = text.partition("@")
    if not sep:
        spec = LATEST
    if not TOOL_RE.match(tool):
        raise UsageError(f"malformed tool spec {text!r}: expected TOOL@VERSION, e.g. node@20")
    if not SPEC_RE.match(spec) or spec.startswith((".", "-")):
        raise UsageError(f"malformed version in {text!r}: expected a version, a prefix "
                         f"such as 20 or 20.10, or 'latest'")
    return ToolSpec(tool, spec)


def _token(tok: str) -> tuple[int, int, str]:
    return (1, int(tok), "") if tok.isdigit() else (0, 0, tok.lower())


def version_key(version: str) -> tuple[object, ...]:
    """A sort key: 1.9 < 1.10, 1.0rc1 < 1.0 < 1.0-1 (post), non-numeric words first."""
    m = _NUMERIC_RE.match(version)
    if not m:
        return (0, tuple(_token(t) for t in _TOKEN_RE.findall(version)), version)
    release = tuple(int(p) for p in m.group(1).split("."))
    # 1.0 == 1.0.0 for ordering; the original string breaks the tie deterministically.
    trimmed = release
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed = trimmed[:-1]
    rest = m.group(2)
    if not rest or rest.startswith("+"):
        phase: tuple[object, ...] = (1,)  # a final release; "+build" metadata does not order
    else:
        tokens = _TOKEN_RE.findall(rest)
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
    m = _NUMERIC_RE.match(version)
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def _variant(text: str) -> str:
    """What follows a `+` that starts with a letter: a variant of one version (Rust's
    components, `1.78.0+minimal+rust-src`), where a `+` and a number is a build
    (Java's `21.0.3+9`)."""
    _, sep, tail = text.partition("+")
    return tail if sep and tail[:1].isalpha() else ""


def matches(spec: str, version: str) -> bool:
    """Does `version` satisfy `spec` (exact, partial numeric prefix, or latest)?

    A variant matches only a spec naming the same variant: `1.78` is not `1.78.0+minimal`.
    """
    if spec == version or spec.lstrip("v") == version.lstrip("v"):
        return True
    variant = _variant(spec)
    if variant != _variant(version):
        return False
    if variant:
        spec, version = spec[: -len(variant) - 1], version[: -len(variant) - 1]
    if spec == LATEST:
        return True
    if not _PARTIAL_RE.match(spec):
        return False
    want = tuple(int(p) for p in spec.lstrip("v").split("."))
    have = _release(version)
    return have is not None and len(have) > len(want) and have[: len(want)] == want


def select(spec: str, versions: Iterable[str]) -> str | None:
    """The version a spec resolves to among `versions`, or None.

    An exact match wins outright; otherwise the highest matching final release,
    or the highest pre-release when no final release matches.
    """
    candidates = [v for v in versions if matches(spec, v)]
    if not candidates:
        return None
    for v in candidates:
        if v == spec:
            return v
    finals = [v for v in candidates if not is_prerelease(v)]
    return max(finals or candidates, key=version_key)
