"""The package search index: one LMDB row per sync db, rebuilt only when the db changes.

Table ``search``, key ``db:<repo>``: {"v", "path", "mtime", "size", "rows": one string of
``name\tversion\tdesc`` lines, "lower": the same lines lower-cased}. One string per
repo rather than 15,000 msgpack items: unpacking it is a copy, and matching a term is
a substring scan of lines (this is what keeps `omg search` near Python's start-up).
Staleness is the db file's (mtime_ns, size): pacman replaces the file on every -Sy,
so a changed file always has a new stat. A read-only
index (shared store) still answers: a stale db is then parsed in memory.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from omg.arch.pacmanconf import PacmanConf
from store.errors import PermissionDenied

FORMAT = 2
TABLE = "search"


class RepoIndex:
    """`text`: ``name\tversion\tdesc`` lines; `lower`: text.lower(), same length."""

    __slots__ = ("lower", "rebuilt", "repo", "text")

    def __init__(self, repo: str, text: str, lower: str, rebuilt: bool) -> None:
        if len(lower) != len(text):  # a few Unicode letters change length when lowered
            lower = "\n".join(line.lower()[:len(line)].ljust(len(line))
                              for line in text.split("\n"))
        self.repo, self.text, self.lower, self.rebuilt = repo, text, lower, rebuilt

    @property
    def pkgs(self) -> list[list[str]]:
        return [r.split("\t", 2) for r in self.text.split("\n") if r]

    def lines_with(self, needle: str) -> list[str]:
        """The lines whose lower-cased text contains `needle` (one find per hit, no split)."""
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


def _clean(text: str) -> str:
    return text.replace("\t", " ").replace("\n", " ")


def db_dir(conf: PacmanConf, dbpath: str | None) -> Path:
    return Path(dbpath or conf.dbpath)


def load(index: Any, conf: PacmanConf, dbpath: str | None,
         writable: Any = None) -> list[RepoIndex]:
    """`writable`: called to get a writable index when a rebuild must be stored."""
    out = []
    base = db_dir(conf, dbpath) / "sync"
    for repo in conf.repos:
        path = base / f"{repo.name}.db"
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        key = f"db:{repo.name}".encode()
        row = index.get(TABLE, key) if index is not None else None
        if (row is not None and row.get("v") == FORMAT and row.get("path") == str(path)
                and row.get("mtime") == st.st_mtime_ns and row.get("size") == st.st_size):
            out.append(RepoIndex(repo.name, row["rows"], row["lower"], False))
            continue
        from omg.arch import syncdb  # only a rebuild reads the db itself

        rows = []
        for fields in syncdb.read_db(path):
            name, version, desc, _provides = syncdb.compact(fields)
            rows.append(f"{_clean(name)}\t{_clean(version)}\t{_clean(desc)}")
        text = "\n".join(rows)
        lower = text.lower()
        if writable is not None:  # once: each call reopens the index
            index = writable() or index
            writable = None
        if index is not None and not index.readonly:
            with contextlib.suppress(PermissionDenied):
                index.put(TABLE, key, {"v": FORMAT, "path": str(path), "mtime": st.st_mtime_ns,
                                       "size": st.st_size, "rows": text, "lower": lower})
        out.append(RepoIndex(repo.name, text, lower, True))
    return out


def local_installed(conf: PacmanConf, dbpath: str | None) -> dict[str, str]:
    """name -> version of the local db, from its directory names (no parsing needed)."""
    out: dict[str, str] = {}
    try:
        entries = os.listdir(db_dir(conf, dbpath) / "local")
    except OSError:
        return out
    for entry in entries:
        parts = entry.rsplit("-", 2)
        if len(parts) == 3:
            out[parts[0]] = f"{parts[1]}-{parts[2]}"
    return out


def store_names(store_dir: Path) -> set[str]:
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
