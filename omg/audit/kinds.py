"""The words findings are made of: severities and kinds, with no import at all.

Apart from `omg.audit.finding` (a dataclass, which costs `dataclasses` and `re`) so that
the policy engine can judge findings on the path of `omg use` for nothing;
`omg.audit.finding` re-exports every name here.
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
#: A newer patch release of the same line exists (what `[policy] outdated` judges).
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
