"""Go: the Go vulnerability database (vuln.go.dev, OSV), modules ``stdlib`` and
``toolchain``.

Its static layout, which any mirror can serve: ``index/modules.json`` lists each
module's advisories (id, modified), and ``ID/<id>.json`` is one OSV entry. Only the
entries for ``stdlib`` and ``toolchain`` are read (a few hundred small files rather than
the whole zip), each kept a week by the cached fetch (their ids never change meaning;
the index is asked daily). OSV ``ranges`` are SEMVER with Go's versions as semver
(``1.21.0-rc.2``); the database gives no severity, so Go findings are "unknown".
"""

from __future__ import annotations

from omg.audit.cache import Advisory
from omg.audit.feeds import strings, text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from omg.providers.base import Context

MODULES = ("stdlib", "toolchain")
ENTRY_TTL = 7 * 86400.0


def fetch(ctx: Context, base: str, warnings: list[str]) -> dict[str, list[Advisory]]:
    from omg.audit.feeds import FEEDS

    feed = FEEDS["go_vulns"]
    url = f"{base}/index/modules.json"
    out: list[Advisory] = []
    for vuln_id in parse_index(url, ctx.fetch(url, feed.mirror_var, feed.ttl).body):
        entry_url = f"{base}/ID/{vuln_id}.json"
        out += parse_entry(entry_url, ctx.fetch(entry_url, feed.mirror_var, ENTRY_TTL).body,
                           warnings)
    return {"go": out}


def parse_index(url: str, body: bytes) -> list[str]:
    """The advisory ids of `MODULES` in ``index/modules.json``."""
    from omg.providers.base import bad_index, parse_json

    data = parse_json(url, body)
    if not isinstance(data, list):
        raise bad_index(url, "expected a list of modules")
    ids: list[str] = []
    for module in data:
        if isinstance(module, dict) and module.get("path") in MODULES:
            vulns = module.get("vulns")
            ids += [v["id"] for v in vulns if isinstance(v, dict) and _is_id(v.get("id"))] \
                if isinstance(vulns, list) else []
    return list(dict.fromkeys(ids))


def _is_id(value: object) -> bool:
    """GO-YYYY-NNNN: also what makes the entry URL safe to build."""
    return isinstance(value, str) and value.startswith("GO-") and \
        value[3:].replace("-", "").isdigit()


def parse_entry(url: str, body: bytes, warnings: list[str]) -> list[Advisory]:
    """One OSV entry's rows (one per module it affects); a bad one is one warning."""
    from omg.audit.ranges import osv_ranges
    from omg.providers.base import parse_json
    from store.errors import IntegrityError

    try:
        data = parse_json(url, body)
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ValueError("not an OSV entry")
        affected = [a for a in data.get("affected") or [] if isinstance(a, dict) and
                    isinstance(a.get("package"), dict) and
                    a["package"].get("name") in MODULES]
        ranges = [osv_ranges("semver", a.get("ranges"), a.get("versions")) for a in affected]
    except (ValueError, IntegrityError) as exc:
        warnings.append(f"Go vulnerability database: {url} skipped: {exc}")
        return []
    summary = text(data.get("summary")) or text(data.get("details"))[:200]
    return [Advisory("go", data["id"], strings(data.get("aliases")), "unknown", fixed,
                     constraint, "", summary) for constraint, fixed in ranges if constraint]
