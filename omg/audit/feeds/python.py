"""Python: the PSF advisory database (CPython's CNA), OSV entries.

Served as one archive of the repository (GitHub's tarball of ``psf/advisory-database``,
or a mirror's copy), read as a stream: the files ``advisories/python/PSF-*.json``.

The PSF's own entries give their ranges as GIT commits only; versions come from what
OSV.dev adds when it imports them (``affected[].versions``, enumerated from CPython's
tags, ``v3.12.1``) and from ECOSYSTEM ranges where an entry has them. An entry with
neither cannot be matched to a version: it is counted in one warning per fetch, never
guessed. A mirror that serves OSV.dev's copies of the entries in the same layout gives
full coverage. PEP 440 order.
"""

from __future__ import annotations

from omg.audit.cache import Advisory
from omg.audit.feeds import strings, tar_members, text

DIRECTORY = "advisories/python"
LABEL = "PSF advisory database"


def parse(url: str, body: bytes, warnings: list[str]) -> list[Advisory]:
    out: list[Advisory] = []
    commits_only = 0
    for name, data in tar_members(url, body, DIRECTORY, ".json", warnings, LABEL):
        rows = parse_entry(f"{url}#{name}", data, warnings)
        commits_only += rows is None
        out += rows or []
    if commits_only:
        warnings.append(f"{LABEL}: {commits_only} advisories give commits only, no "
                        "versions: not checked (a mirror of OSV.dev's copies lists them)")
    return out


def parse_entry(url: str, body: bytes, warnings: list[str]) -> list[Advisory] | None:
    """One entry's row, [] when it cannot be read (one warning), None when it names
    commits only."""
    from omg.audit.ranges import osv_ranges, union
    from omg.providers.base import parse_json
    from store.errors import IntegrityError

    try:
        data = parse_json(url, body)
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ValueError("not an OSV entry")
        if data.get("withdrawn"):
            return []
        found = [osv_ranges("python", a.get("ranges"), a.get("versions"))
                 for a in data.get("affected") or [] if isinstance(a, dict)]
    except (ValueError, IntegrityError) as exc:
        warnings.append(f"{LABEL}: {url} skipped: {exc}")
        return []
    constraint = union(c for c, _ in found)
    if not constraint:
        return None
    fixed = list(dict.fromkeys(f for _, fs in found for f in fs))
    summary = text(data.get("summary")) or text(data.get("details"))[:200]
    return [Advisory("python", data["id"], strings(data.get("aliases")), _severity(data),
                     fixed, constraint, "", summary)]


def _severity(data: dict[str, object]) -> str:
    """OSV's ``database_specific.severity`` when given (most PSF entries have none)."""
    from omg.audit.finding import severity_of

    specific = data.get("database_specific")
    return severity_of(specific.get("severity")) if isinstance(specific, dict) else "unknown"
