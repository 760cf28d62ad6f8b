"""What an audit finds about one installed thing, and how bad it is.

Pure and import-free: the policy engine reads findings on the hot paths of `install`,
`use` and `sync`, from cached data, so this module loads nothing (not even
`dataclasses`, ~30 ms with the `re`, `inspect` and `enum` it pulls in).
"""

from __future__ import annotations

#: Severities, weakest first. A feed's own word is mapped onto these by `severity_of`;
#: one it does not say, or one we cannot read, is "unknown", ranked below "low" so that
#: `--fail-on low` does not fire on it but `--fail-on unknown` does.
SEVERITIES = ("unknown", "low", "medium", "high", "critical")

#: What a finding is about.
VULNERABILITY = "vulnerability"
END_OF_LIFE = "eol"
UNSIGNED = "unsigned"
#: A newer final release of the same line exists (what `[policy] outdated` judges).
OUTDATED = "outdated"
KINDS = (VULNERABILITY, END_OF_LIFE, UNSIGNED, OUTDATED)

_ALIASES = {"moderate": "medium", "important": "high", "severe": "high", "none": "low",
            "informational": "low", "info": "low"}


def severity_of(text: object) -> str:
    """A feed's severity word (any case; CVSS-style aliases too) as one of `SEVERITIES`."""
    if not isinstance(text, str):
        return "unknown"
    word = text.strip().lower()
    word = _ALIASES.get(word, word)
    return word if word in SEVERITIES else "unknown"


def rank(severity: str) -> int:
    """Order of a severity (higher is worse); an unknown word ranks as "unknown"."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


_FIELDS = ("tool", "version", "kind", "severity", "feed", "summary", "advisory", "ids",
           "fixed_in", "upgrade")


class Finding:
    """One problem with one installed version (immutable, compared by value).

    `ids`: the public identifiers (CVE-..., GHSA-...); `advisory`: the feed's own id
    (``security-wg:1``, ``GO-2024-2599``, ``PSF-2024-1``, ``AVG-2843``);
    `fixed_in`: versions that fix it, as the feed says; `upgrade`: the command a user
    types to get a fixed version ("" when there is none).
    """

    __slots__ = _FIELDS
    tool: str
    version: str
    kind: str
    severity: str
    feed: str
    summary: str
    advisory: str
    ids: tuple[str, ...]
    fixed_in: tuple[str, ...]
    upgrade: str

    def __init__(self, tool: str, version: str, kind: str, severity: str, feed: str,
                 summary: str, advisory: str = "", ids: tuple[str, ...] = (),
                 fixed_in: tuple[str, ...] = (), upgrade: str = "") -> None:
        values = (tool, version, kind, severity, feed, summary, advisory, tuple(ids),
                  tuple(fixed_in), upgrade)
        for name, value in zip(_FIELDS, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Finding is immutable: cannot set {name}")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Finding) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in _FIELDS)
        return f"Finding({inner})"

    def as_dict(self) -> dict[str, object]:
        """The fields by name, tuples as lists (for `--json`)."""
        return {n: list(v) if isinstance(v, tuple) else v
                for n, v in zip(_FIELDS, self._values(), strict=True)}

    def at_least(self, severity: str) -> bool:
        return rank(self.severity) >= rank(severity)
