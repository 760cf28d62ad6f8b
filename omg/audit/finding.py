"""What an audit finds about one installed thing, and how bad it is.

Pure and standard-library only: the policy engine reads findings on the hot paths of
`install`, `use` and `sync`, from cached data, so this module loads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Severities, weakest first. A feed's own word is mapped onto these by `severity_of`;
#: one it does not say, or one we cannot read, is "unknown", ranked below "low" so that
#: `--fail-on low` does not fire on it but `--fail-on unknown` does.
SEVERITIES = ("unknown", "low", "medium", "high", "critical")

#: What a finding is about.
VULNERABILITY = "vulnerability"
END_OF_LIFE = "eol"
UNSIGNED = "unsigned"
KINDS = (VULNERABILITY, END_OF_LIFE, UNSIGNED)

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


@dataclass(frozen=True)
class Finding:
    """One problem with one installed version.

    `ids`: the public identifiers (CVE-..., GHSA-...); `advisory`: the feed's own id
    (``NSWG-CORE-2023-01``, ``GO-2024-2599``, ``PSF-2024-1``, ``AVG-2843``);
    `fixed_in`: versions that fix it, as the feed says; `upgrade`: the command a user
    types to get a fixed version ("" when there is none).
    """

    tool: str
    version: str
    kind: str
    severity: str
    feed: str
    summary: str
    advisory: str = ""
    ids: tuple[str, ...] = field(default=())
    fixed_in: tuple[str, ...] = field(default=())
    upgrade: str = ""

    def at_least(self, severity: str) -> bool:
        return rank(self.severity) >= rank(severity)
