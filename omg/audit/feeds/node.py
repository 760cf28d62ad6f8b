"""Node.js: the security working group's ``vuln/core/index.json``.

An object of advisories keyed by number; each has ``cve`` (a list), ``vulnerable`` and
``patched`` (npm semver ranges: a version is hit when in ``vulnerable`` and not in
``patched``), ``severity`` and a ``description`` or ``overview``. The advisory id omg
shows is ``security-wg:<key>`` (the feed has no other). Fixed versions are the lower
bounds of ``patched``'s alternatives.
"""

from __future__ import annotations

from omg.audit.cache import Advisory
from omg.audit.feeds import strings, text
from omg.audit.finding import severity_of


def parse(url: str, body: bytes, warnings: list[str]) -> list[Advisory]:
    """The advisories of `body`; IntegrityError when it is not the index at all, one
    warning per entry that cannot be read."""
    from omg.providers.base import bad_index, parse_json

    data = parse_json(url, body)
    if not isinstance(data, dict):
        raise bad_index(url, "expected an object of advisories")
    out = []
    for key, entry in data.items():
        try:
            out.append(_advisory(str(key), entry))
        except ValueError as exc:
            warnings.append(f"Node.js security-wg: advisory {key} skipped: {exc}")
    return out


def _advisory(key: str, entry: object) -> Advisory:
    from omg.audit.ranges import npm_range

    if not isinstance(entry, dict) or not isinstance(entry.get("vulnerable"), str):
        raise ValueError("no 'vulnerable' range")
    patched = entry.get("patched") if isinstance(entry.get("patched"), str) else ""
    unaffected = npm_range(patched) if patched else ""
    return Advisory("node", f"security-wg:{key}", strings(entry.get("cve")),
                    severity_of(entry.get("severity")), _lower_bounds(unaffected),
                    npm_range(entry["vulnerable"]), unaffected,
                    text(entry.get("description")) or text(entry.get("overview"))[:200])


def _lower_bounds(constraint: str) -> list[str]:
    out = []
    for alternative in constraint.split("||"):
        out += [t[2:] for t in alternative.split() if t.startswith(">=")]
    return out
