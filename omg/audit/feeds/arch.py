"""Arch Linux: the security tracker's ``/all.json``, as arch-audit reads it.

A list of advisory groups (AVG-...): ``packages`` (pkgnames), ``status`` (Unknown,
Vulnerable, Fixed, Testing, Not affected), ``severity`` (Unknown, Low, Medium, High,
Critical), ``affected``, ``fixed`` (null until fixed), ``issues`` (CVEs), ``type``.
As arch-audit decides: a group "Not affected" hits nothing; otherwise an installed
version before ``fixed`` (pacman's vercmp) is hit, every version when nothing is fixed.
One summary row per (group, package).
"""

from __future__ import annotations

from omg.audit.cache import Advisory
from omg.audit.feeds import strings, text
from omg.audit.finding import severity_of


def parse(url: str, body: bytes, warnings: list[str]) -> list[Advisory]:
    from omg.providers.base import bad_index, parse_json

    data = parse_json(url, body)
    if not isinstance(data, list):
        raise bad_index(url, "expected a list of advisory groups")
    out: list[Advisory] = []
    for group in data:
        try:
            out += _rows(group)
        except ValueError as exc:
            name = group.get("name") if isinstance(group, dict) else None
            warnings.append(f"Arch security tracker: {name or 'a group'} skipped: {exc}")
    return out


def _rows(group: object) -> list[Advisory]:
    from omg.audit.ranges import arch_range

    if not isinstance(group, dict) or not isinstance(group.get("name"), str):
        raise ValueError("not an advisory group")
    if group.get("status") == "Not affected":
        return []
    fixed = group.get("fixed")
    affected = arch_range(fixed)
    summary = text(group.get("type")) or "security issue"
    return [Advisory(pkg, group["name"], strings(group.get("issues")),
                     severity_of(group.get("severity")),
                     [fixed] if isinstance(fixed, str) and fixed else [], affected, "",
                     summary)
            for pkg in strings(group.get("packages"))]
