"""Support data (end of life, LTS) for the seven runtimes, from the endoflife.date API.

Source: the endoflife.date API v1, ``<mirror>/products/<product>`` (default mirror
``https://endoflife.date/api/v1``; ``OMG_ENDOFLIFE_MIRROR`` or ``[mirrors] endoflife``).
v1, not the older ``/api/<product>.json``: that one is deprecated (endoflife.date keeps
it "at least one year" after v1) and its fields mix dates and booleans, where v1 says
``isEol`` and ``eolFrom`` apart. A product is a list of release lines (``name`` "22",
"3.12", "1.83"); a version belongs to the line whose name is the longest dotted prefix
of it (``21.0.3+9`` -> "21"). End of life is decided here, from ``eolFrom`` against
today, as endoflife.date decides ``isEol`` (today > eolFrom); the server's ``isEol``
counts only when there is no date, since a cached answer outlives the day it was made.

The document goes through the provider context's cached fetch (the LMDB ``upstream``
table, conditional requests, a one-day expiry, offline from the cache). Support data is
advice: unreachable, not cached, or malformed, it is one note and no warnings, never an
error, and a version with no line in it gets no warning (no guess).

`omg use` and `omg sync` must not touch the network nor load the JSON parser, so every
parse also writes a summary per runtime, ``<cache>/support/<tool>`` (a line per release
line, tab-separated), and `load` reads only that (`[policy] eol`, omg/audit/): this
module imports only `os` and `time` at the top.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from omg.providers.base import Context

#: omg's runtime -> the endoflife.date product that describes the builds omg installs
#: (Java: Adoptium's Temurin, not Oracle's `java`).
PRODUCTS = {"node": "nodejs", "bun": "bun", "python": "python", "go": "go", "rust": "rust",
            "ruby": "ruby", "java": "eclipse-temurin"}
DEFAULT_MIRROR = "https://endoflife.date/api/v1"
MIRROR_VAR = "OMG_ENDOFLIFE_MIRROR"
#: endoflife.date regenerates its answers about daily.
TTL = 86400.0
_HEADER = "omg-support 1"


class Line:
    """One release line: its name, LTS name ("" when not LTS), end-of-life date ("" when
    not known) and the server's own end-of-life flag (None when it did not say)."""

    __slots__ = ("eol_from", "is_eol", "lts", "name")

    def __init__(self, name: str, lts: str, eol_from: str, is_eol: bool | None) -> None:
        self.name, self.lts, self.eol_from, self.is_eol = name, lts, eol_from, is_eol

    def eol(self, today: str) -> bool | None:
        """End of life on `today` (YYYY-MM-DD); None when upstream does not know."""
        return today > self.eol_from if self.eol_from else self.is_eol

    def __repr__(self) -> str:
        return f"Line({self.name!r}, {self.lts!r}, {self.eol_from!r}, {self.is_eol!r})"


def today() -> str:
    return time.strftime("%Y-%m-%d")


def line_of(version: str, lines: Sequence[Line]) -> Line | None:
    """The line `version` belongs to: the longest dotted prefix that names one."""
    names = {ln.name: ln for ln in lines}
    parts = version.split(".")
    for n in range(len(parts), 0, -1):
        found = names.get(".".join(parts[:n]))
        if found is not None:
            return found
    return None


def newest_supported(lines: Sequence[Line], day: str) -> Line | None:
    """The newest line not at end of life (lines are kept newest first)."""
    return next((ln for ln in lines if ln.eol(day) is False), None)


def warnings(tool: str, version: str, lines: Sequence[Line], day: str) -> list[str]:
    """What to tell someone about to use `tool` `version`; nothing without data."""
    line = line_of(version, lines)
    if line is None or not line.eol(day):
        return []
    since = f" since {line.eol_from}" if line.eol_from else ""
    text = f"{tool} {version}: the {tool} {line.name} line is end-of-life{since}"
    better = newest_supported(lines, day)
    return [text + (f"; consider {tool}@{better.name}" if better is not None else "")]


# Fetching and parsing (install, list --remote, outdated) -------------------------------


def url_for(ctx: Context, tool: str) -> str | None:
    product = PRODUCTS.get(tool)
    if product is None:
        return None
    return f"{ctx.mirror_of('endoflife', DEFAULT_MIRROR)}/products/{product}"


def fetch(ctx: Context, tool: str, cache_dir: str | os.PathLike[str] | None = None
          ) -> list[Line] | None:
    """`tool`'s release lines (newest first), or None with one note in `ctx.notices`.

    With `cache_dir`, the summary `use` reads is written there too.
    """
    from store.errors import IntegrityError, OmgError

    url = url_for(ctx, tool)
    if url is None:
        return None
    try:
        lines = parse(url, ctx.fetch(url, MIRROR_VAR, TTL).body)
    except IntegrityError as exc:
        ctx.forget(url)  # a bad answer is not kept: the next command asks again
        ctx.notices.append(f"support data for {tool} ignored: {exc.message}")
        return None
    except OmgError as exc:
        ctx.notices.append(f"no support data for {tool} (no end-of-life warnings): "
                           f"{exc.message}")
        return None
    if cache_dir is not None:
        save(cache_dir, tool, lines)
    return lines


def parse(url: str, body: bytes) -> list[Line]:
    """An API v1 product answer's release lines, newest first; IntegrityError if it is
    not one."""
    from omg.providers.base import bad_index, parse_json
    from omg.spec import version_key

    data = parse_json(url, body)
    result = data.get("result") if isinstance(data, dict) else None
    releases = result.get("releases") if isinstance(result, dict) else None
    if not isinstance(releases, list):
        raise bad_index(url, "expected {'result': {'releases': [...]}}")
    lines = [_line(url, item) for item in releases]
    return sorted(lines, key=lambda ln: version_key(ln.name), reverse=True)


def _line(url: str, item: object) -> Line:
    from omg.providers.base import bad_index

    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise bad_index(url, "a release lacks its 'name'")
    eol_from, is_eol = item.get("eolFrom"), item.get("isEol")
    codename = item.get("codename")
    if not (eol_from is None or _is_date(eol_from)) or not isinstance(is_eol, bool | None):
        raise bad_index(url, f"release {item['name']}: bad isEol/eolFrom")
    lts = (codename if isinstance(codename, str) and codename else "lts") \
        if item.get("isLts") is True else ""
    return Line(item["name"], lts, eol_from or "", is_eol)


def _is_date(value: object) -> bool:
    return (isinstance(value, str) and len(value) == 10 and value[4] == value[7] == "-"
            and value.replace("-", "").isdigit())


# The summary `use` reads -----------------------------------------------------------------


def summary_path(cache_dir: str | os.PathLike[str], tool: str) -> str:
    return f"{os.fspath(cache_dir)}/support/{tool}"


def save(cache_dir: str | os.PathLike[str], tool: str, lines: Sequence[Line]) -> None:
    """Write `tool`'s summary atomically; a cache that cannot be written is no error."""
    path = summary_path(cache_dir, tool)
    flag = {True: "1", False: "0", None: ""}
    text = "".join(f"{ln.name}\t{ln.lts}\t{ln.eol_from}\t{flag[ln.is_eol]}\n" for ln in lines)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{_HEADER}\n{text}")
        os.replace(tmp, path)
    except OSError:
        import contextlib  # only here: `use` never writes

        with contextlib.suppress(OSError):
            os.unlink(tmp)


def load(cache_dir: str | os.PathLike[str], tool: str) -> list[Line]:
    """`tool`'s lines as last fetched; none when never fetched or unreadable."""
    try:
        with open(summary_path(cache_dir, tool), encoding="utf-8") as f:
            text = f.read()
    except (OSError, ValueError):
        return []
    rows = text.split("\n")
    if rows[0] != _HEADER:
        return []
    flags = {"1": True, "0": False}
    out = []
    for row in rows[1:]:
        cols = row.split("\t")
        if len(cols) == 4 and cols[0]:
            out.append(Line(cols[0], cols[1], cols[2], flags.get(cols[3])))
    return out
