"""Ruby: ruby-advisory-db's advisories for the interpreter, ``rubies/ruby/*.yml``.

Served as one archive of the repository (GitHub's tarball of
``rubysec/ruby-advisory-db``, or a mirror's copy), read as a stream. Each file is a
small YAML mapping: ``cve``, ``ghsa``, ``title``, ``cvss_v2``/``cvss_v3``/``cvss_v4``,
``patched_versions`` and ``unaffected_versions`` (lists of gem requirements: a version
is hit unless one of them holds).

No YAML library is a dependency of omg, so `read_yaml` reads the subset these files
use (top-level ``key: scalar``, ``key:`` followed by a ``- item`` list, block scalars
``|``/``>``, nested mappings skipped); a file outside it is one warning. Severity is
bundler-audit's: from CVSS v3 (or v4), else v2.
"""

from __future__ import annotations

from omg.audit.cache import Advisory
from omg.audit.feeds import tar_members, text

DIRECTORY = "rubies/ruby"
LABEL = "ruby-advisory-db"


def parse(url: str, body: bytes, warnings: list[str]) -> list[Advisory]:
    out: list[Advisory] = []
    for name, data in tar_members(url, body, DIRECTORY, ".yml", warnings, LABEL):
        try:
            out.append(parse_entry(name, data.decode("utf-8")))
        except (ValueError, UnicodeDecodeError) as exc:
            warnings.append(f"{LABEL}: {name} skipped: {exc}")
    return out


def parse_entry(name: str, text_: str) -> Advisory:
    from omg.audit.ranges import ANY, gem_requirements

    data = read_yaml(text_)
    ids = []
    if isinstance(data.get("cve"), str):
        ids.append(f"CVE-{data['cve']}")
    if isinstance(data.get("ghsa"), str):
        ids.append(f"GHSA-{data['ghsa']}")
    patched = _list(data.get("patched_versions"))
    unaffected = gem_requirements([*patched, *_list(data.get("unaffected_versions"))])
    fixed = [r.split(",")[0].lstrip("~>= ").strip() for r in patched]
    advisory = name.removesuffix(".yml")
    return Advisory("ruby", advisory, ids, severity(data), fixed, ANY, unaffected,
                    text(data.get("title")))


def _list(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def severity(data: dict[str, object]) -> str:
    """bundler-audit's criticality: CVSS v3 (v4) bands, else v2's (no "critical")."""
    for key, bands in (("cvss_v3", _V3), ("cvss_v4", _V3), ("cvss_v2", _V2)):
        try:
            score = float(str(data[key]))
        except (KeyError, ValueError):
            continue
        return next(name for limit, name in bands if score >= limit)
    return "unknown"


_V3 = ((9.0, "critical"), (7.0, "high"), (4.0, "medium"), (0.1, "low"), (0.0, "unknown"))
_V2 = ((7.0, "high"), (4.0, "medium"), (0.0, "low"))


def read_yaml(source: str) -> dict[str, object]:
    """The top level of a ruby-advisory-db file (see the module docstring)."""
    out: dict[str, object] = {}
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.startswith(("#", "---", " ", "\t")):
            continue
        key, colon, value = line.partition(":")
        if not colon or not key.replace("_", "").isalnum():
            raise ValueError(f"unexpected YAML line: {line[:60]!r}")
        value = value.strip()
        block, i = _indented(lines, i)
        if value in ("|", ">", "|-", ">-"):
            out[key] = "\n".join(b.strip() for b in block)
        elif value:
            out[key] = _scalar(value)
        elif block and block[0].lstrip().startswith("- "):
            out[key] = [_scalar(b.lstrip()[2:].strip()) for b in block
                        if b.lstrip().startswith("- ")]
        # else: a nested mapping (`related:`), not needed
    return out


def _indented(lines: list[str], i: int) -> tuple[list[str], int]:
    block = []
    while i < len(lines) and (not lines[i].strip() or lines[i][:1] in (" ", "\t")):
        block.append(lines[i])
        i += 1
    return block, i


def _scalar(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    if value[:1] in "[{&*!|>":
        raise ValueError(f"unsupported YAML value: {value[:40]!r}")
    return value.split(" #", 1)[0].strip()
