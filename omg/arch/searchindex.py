"""The package search index: three LMDB rows per sync db, rebuilt only when the db changes.

Table ``search``, for each repository R, plain UTF-8 values (not msgpack: the warm
`omg search` reads them without msgpack, through `raw_get`):

- ``stamp:R``: ``FORMAT NUL path NUL mtime_ns NUL size`` of the db file the rows
  come from. pacman replaces the file on every -Sy, so a changed file always has a
  new stat; comparing one short row is the whole staleness check.
- ``text:R``: ``name TAB version TAB desc [TAB provided-name]...`` lines, sorted by
  name: the order search shows a repo's results in, so a query never sorts them.
  The provided names are without their versions (pacman -Ss matches those too).
- ``lower:R``: the same lines lower-cased, of the same length, so a match found by
  `str.find` there is at the same offset in ``text:R`` and its rank can be read from
  its position (`search`). Empty when lower-casing changes a line's length (U+0130
  does): search then lower-cases line by line.

All three are written in one transaction. A read-only index (shared store) still
answers: a stale db is then parsed in memory.
"""

from __future__ import annotations

import os

from store.errors import PermissionDenied

# Not `from typing import ...` (start-up cost); type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from omg.arch.pacmanconf import PacmanConf
    from store.index import Index

FORMAT = 4
TABLE = "search"


class RepoIndex:
    """One repo's rows: `text` lines ``name\\tversion\\tdesc[\\tprovides...]``, `lower` the
    same lower-cased (or "" when that changes lengths: `exact` is then False)."""

    __slots__ = ("exact", "lower", "rebuilt", "repo", "text")

    def __init__(self, repo: str, text: str, lower: str, rebuilt: bool) -> None:
        self.repo, self.text, self.lower, self.rebuilt = repo, text, lower, rebuilt
        self.exact = len(lower) == len(text)

    @property
    def pkgs(self) -> list[list[str]]:
        """[name, version, desc] of each line."""
        return [r.split("\t", 3)[:3] for r in self.text.split("\n") if r]

    def lines_with(self, needle: str) -> list[str]:
        """The lines whose lower-cased text contains `needle`, in order."""
        if not self.exact or not needle:  # "" would find itself forever below
            return [line for line in self.text.split("\n") if line and needle in line.lower()]
        text, lower, out = self.text, self.lower, []
        pos = lower.find(needle)
        while pos != -1:
            start = lower.rfind("\n", 0, pos) + 1
            end = lower.find("\n", pos)
            if end == -1:
                end = len(lower)
            out.append(text[start:end])
            pos = lower.find(needle, end)
        return out


def build(repo: str, text: str, rebuilt: bool = True) -> RepoIndex:
    lower = text.lower()
    # Lower-casing never shortens a line, so equal totals mean every line kept its length.
    return RepoIndex(repo, text, lower if len(lower) == len(text) else "", rebuilt)


def raw_get(index: Index, table: str, keys: list[bytes]) -> list[bytes | None]:
    """Values as stored (no msgpack), from a store.index.Index."""
    db = index.table(table)
    if db is None:
        return [None] * len(keys)
    with index.env.begin(db=db) as txn:
        return [txn.get(k) for k in keys]


def raw_put(index: Index, table: str, items: dict[bytes, bytes]) -> None:
    """One write transaction of a store.index.Index (PermissionDenied when read-only)."""
    with index.write() as txn:
        db = index.table(table)
        for key, value in items.items():
            txn.put(key, value, db=db)


def stamp(path: str, st: os.stat_result) -> bytes:
    return f"{FORMAT}\0{path}\0{st.st_mtime_ns}\0{st.st_size}".encode()


def _clean(text: str) -> str:
    return text.replace("\t", " ").replace("\n", " ")


def _provided_name(provide: str) -> str:
    """``libfoo.so=1-64`` -> ``libfoo.so``: what pacman -Ss matches of a provision."""
    for i, c in enumerate(provide):
        if c in "<>=":
            return provide[:i]
    return provide


def parse_db(repo: str, path: str) -> RepoIndex:
    """Read the sync db file itself (the cold path): lines sorted by name."""
    from omg.arch import syncdb

    rows = []
    for fields in syncdb.read_db(path):
        name, version, desc, provides = syncdb.compact(fields)
        name = _clean(name)
        provided = "".join(f"\t{_clean(_provided_name(p))}" for p in provides)
        rows.append((name, f"{name}\t{_clean(version)}\t{_clean(desc)}{provided}"))
    rows.sort(key=lambda r: r[0])  # stable: equal names keep the db's order
    return build(repo, "\n".join(r[1] for r in rows))


def read_fresh(index: Index | None, repo: str, want: bytes) -> RepoIndex | None:
    """The stored rows of `repo` when their stamp is `want`, else None."""
    if index is None:
        return None
    got, text, lower = raw_get(index, TABLE, [f"{k}:{repo}".encode()
                                              for k in ("stamp", "text", "lower")])
    if got != want or text is None or lower is None:
        return None
    return RepoIndex(repo, text.decode(), lower.decode(), False)


def store(index: Index, rows: RepoIndex, want: bytes) -> None:
    r = rows.repo
    raw_put(index, TABLE, {f"stamp:{r}".encode(): want, f"text:{r}".encode(): rows.text.encode(),
                           f"lower:{r}".encode(): rows.lower.encode()})


def sync_dir(conf: PacmanConf, dbpath: str | None) -> str:
    return os.path.join(dbpath or conf.dbpath, "sync")


def sync_dbs(conf: PacmanConf, dbpath: str | None) -> list[tuple[str, str, bytes]]:
    """(repo, db file, its stamp) of every repo of `conf` whose db file exists, in order."""
    out = []
    base = sync_dir(conf, dbpath)
    for repo in conf.repos:
        path = os.path.join(base, f"{repo.name}.db")
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        out.append((repo.name, path, stamp(path, st)))
    return out


def load(index: Index | None, conf: PacmanConf, dbpath: str | None,
         writable: Callable[[], Index | None] | None = None) -> list[RepoIndex]:
    """Every repo of `conf` whose db file exists, in pacman.conf order.

    `writable`: called (once) for a writable index when a rebuild must be stored.
    """
    out = []
    for name, path, want in sync_dbs(conf, dbpath):
        rows = read_fresh(index, name, want)
        if rows is None:
            rows = parse_db(name, path)
            if writable is not None:  # once: each call reopens the index
                index = writable() or index
                writable = None
            if index is not None and not index.readonly:
                import contextlib  # here: the warm path never stores

                with contextlib.suppress(PermissionDenied):
                    store(index, rows, want)
        out.append(rows)
    return out


def local_installed(conf: PacmanConf, dbpath: str | None) -> dict[str, str]:
    """name -> version of the local db, from its directory names (no parsing needed)."""
    out: dict[str, str] = {}
    try:
        entries = os.listdir(os.path.join(dbpath or conf.dbpath, "local"))
    except OSError:
        return out
    for entry in entries:
        parts = entry.rsplit("-", 2)
        if len(parts) == 3:
            out[parts[0]] = f"{parts[1]}-{parts[2]}"
    return out


def store_names(store_dir: str | os.PathLike[str]) -> set[str]:
    """Package names present in the store (cheap: directory names only)."""
    out: set[str] = set()
    try:
        entries = os.listdir(store_dir)
    except OSError:
        return out
    for entry in entries:
        if len(entry) > 33 and entry[32] == "-" and not entry.endswith(".meta"):
            rest = entry[33:]
            out.add(rest.rsplit("-", 1)[0])
            out.add(rest.rsplit("-", 2)[0])
    return out
