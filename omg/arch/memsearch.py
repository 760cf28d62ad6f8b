"""The search index held in memory by omgd, so `omg search` through it takes milliseconds.

Each query stats every sync db (one stat per repo) and reuses the rows it holds
while the stamp is the same; a changed db is reloaded, from the LMDB rows when
another process already rebuilt them, else from the file, and then stored in LMDB
for the clients that search without the daemon (they cannot write the shared
index). AUR answers come from the LMDB cache, or the network on a miss (and are
cached). The local db and the store are listed on every query: two listdirs, and
never stale. Thread-safe: rows are immutable once loaded; reloads take a lock,
LMDB writes the daemon's `write_lock` (one writer per process).

`answer` also keeps the last text answers with everything they
were made from (the repo rows held, the local db and store names, the AUR rows):
a repeated search whose inputs are all the same is one comparison, not a ranking
and a rendering again.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from omg.arch import aur, pacmanconf, search, searchindex
from omg.arch.searchindex import RepoIndex
from store.errors import OmgError

if TYPE_CHECKING:
    from os import PathLike

    from omg.arch.search import SearchAnswer
    from omg.arch.settings import ArchSettings
    from store.index import Index

    #: What an answer is made from: the repo rows held, the AUR rows, the local db
    #: (name -> version), the package names in the store, the warnings.
    Inputs = tuple[list[RepoIndex], list[aur.AurRow], dict[str, str], set[str], list[str]]

#: Text answers kept, and the longest kept (characters): at most 32 MiB or so in all.
#: `--json` answers (a map per hit) are not kept: rarer, and far larger.
MAX_ANSWERS = 32
MAX_ANSWER = 1 << 20


class MemorySearch:
    def __init__(self, arch: ArchSettings, index: Index, store_dir: str | PathLike[str],
                 write_lock: threading.Lock | None = None) -> None:
        """`arch`: ArchSettings; `index`: the daemon's writable store.index.Index."""
        self.arch, self.index, self.store_dir = arch, index, store_dir
        self.write_lock = write_lock if write_lock is not None else threading.Lock()
        self._held: dict[str, tuple[bytes, RepoIndex]] = {}
        self._reload = threading.Lock()
        self._answers: dict[tuple[tuple[str, ...], bool, bool], tuple[Inputs, SearchAnswer]] = {}
        with self.write_lock:  # Index opens tables lazily, which threads must not race
            for table in (searchindex.TABLE, aur.SEARCH_TABLE):
                index.table(table)

    def repos(self, conf: pacmanconf.PacmanConf) -> list[RepoIndex]:
        out = []
        for name, path, want in searchindex.sync_dbs(conf, self.arch.dbpath):
            held = self._held.get(path)
            if held is None or held[0] != want:
                held = self._load(name, path, want)
            out.append(held[1])
        return out

    def _load(self, repo: str, path: str, want: bytes) -> tuple[bytes, RepoIndex]:
        with self._reload:  # one rebuild per change, however many clients ask
            held = self._held.get(path)
            if held is not None and held[0] == want:
                return held
            rows = searchindex.read_fresh(self.index, repo, want)
            if rows is None:
                rows = searchindex.parse_db(repo, path)
                with self.write_lock:
                    searchindex.store(self.index, rows, want)
            held = (want, rows)
            self._held[path] = held
            return held

    def _aur(self, term: str) -> tuple[list[aur.AurRow], list[str]]:
        arch = self.arch
        with contextlib.suppress(aur.CacheMiss):
            return aur.cached_search(self.index, term, arch.aur_ttl), []
        try:
            rows = aur.fetch_search(arch.aur_url, term)  # without a lock: it may take seconds
        except OmgError as exc:  # as search.search: repo results and one warning
            return [], [f"{exc.message}; showing repository results only"]
        with self.write_lock:
            aur.put_search(self.index, term, rows)
        return rows, []

    def _inputs(self, terms: list[search.Term], repos_only: bool) -> Inputs:
        conf = pacmanconf.parse(self.arch.pacman_conf)
        repos = self.repos(conf)
        local = searchindex.local_installed(conf, self.arch.dbpath)
        in_store = searchindex.store_names(self.store_dir)
        aur_rows: list[aur.AurRow] = []
        warnings: list[str] = []
        asked = search.aur_term(terms)
        if not repos_only and terms and not asked:
            warnings = [search.NO_AUR_TERM]
        elif not repos_only and asked:
            aur_rows, warnings = self._aur(asked)
        return repos, aur_rows, local, in_store, warnings

    def query(self, terms: list[str], *, repos_only: bool = False) -> search.SearchResult:
        """What search.search(..., aur_mode="fetch") answers, from memory."""
        prepared = search.prepare(terms)
        repos, aur_rows, local, in_store, warnings = self._inputs(prepared, repos_only)
        return search.SearchResult(search.rank_rows(repos, aur_rows, prepared, local,
                                                    in_store), warnings)

    def answer(self, terms: list[str], *, repos_only: bool = False,
               hits: bool = False) -> SearchAnswer:
        """{text, hits, count, warnings}: `query` rendered (or as `--json` hits), cached."""
        prepared = search.prepare(terms)
        inputs = self._inputs(prepared, repos_only)
        repos, aur_rows, local, in_store, warnings = inputs
        key = (tuple(t if isinstance(t, str) else t.pattern for t in prepared), repos_only,
               hits)
        kept = self._answers.get(key)
        if kept is not None and not warnings and _same(kept[0], inputs):
            return kept[1]
        result = search.SearchResult(search.rank_rows(repos, aur_rows, prepared, local,
                                                      in_store), warnings)
        text = None if hits else search.render(result)
        out: SearchAnswer = {
            "text": text, "hits": [h.to_json() for h in result.hits] if hits else None,
            "count": len(result.rows), "warnings": list(warnings)}
        if not warnings and text is not None and len(text) <= MAX_ANSWER:
            self._answers.pop(key, None)
            while len(self._answers) >= MAX_ANSWERS:
                self._answers.pop(next(iter(self._answers)), None)
            self._answers[key] = (inputs, out)
        return out


def _same(old: Inputs, new: Inputs) -> bool:
    """The same repo rows held (identity: reloading makes new ones) and equal the rest."""
    return (len(old[0]) == len(new[0]) and all(a is b for a, b in zip(old[0], new[0], strict=True))
            and old[1:4] == new[1:4])
