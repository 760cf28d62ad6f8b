"""What an audit finds about one installed thing, and how bad it is.

Pure and standard-library only: the policy engine reads findings on the hot paths of
`install`, `use` and `sync`, from cached data, so this module loads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omg.audit.kinds import (
    END_OF_LIFE,
    KINDS,
    OUTDATED,
    SEVERITIES,
    UNSIGNED,
    VULNERABILITY,
    rank,
    severity_of,
)

__all__ = ["END_OF_LIFE", "KINDS", "OUTDATED", "SEVERITIES", "UNSIGNED", "VULNERABILITY",
           "Finding", "rank", "severity_of"]


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
