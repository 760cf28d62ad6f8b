"""`omg search`: repo results from the search index merged with the AUR, ranked.

Ranking: exact name, then name prefix, then name contains, then description only;
inside a rank, repo packages in pacman.conf order before the AUR, AUR ones by
popularity then votes. Light imports only (no typer, rich, httpx, pyalpm): the fast
path runs this module, with `fetch=False` so a cold AUR cache hands over to the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omg.arch import aur, pacmanconf, searchindex
from store.errors import OmgError

if TYPE_CHECKING:
    from omg.arch.settings import ArchSettings

_FIELDS = ("repo", "name", "version", "description", "installed", "in_store", "votes",
           "popularity", "out_of_date", "rank")


class Hit:
    """One result; `installed` is the local db's version. (No dataclass: start-up cost.)"""

    __slots__ = _FIELDS

    def __init__(self, repo: str, name: str, version: str, description: str,
                 installed: str | None = None, in_store: bool = False,
                 votes: int | None = None, popularity: float | None = None,
                 out_of_date: bool = False, rank: int = 0) -> None:
        self.repo, self.name, self.version, self.description = repo, name, version, description
        self.installed, self.in_store, self.votes = installed, in_store, votes
        self.popularity, self.out_of_date, self.rank = popularity, out_of_date, rank

    def to_json(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in _FIELDS}


class SearchResult:
    __slots__ = ("hits", "warnings")

    def __init__(self, hits: list[Hit], warnings: list[str] | None = None) -> None:
        self.hits, self.warnings = hits, warnings or []


def _rank(name: str, desc: str, terms: list[str]) -> int | None:
    lname, ldesc = name.lower(), desc.lower()
    rank = 0
    for t in terms:
        if lname == t:
            r = 0
        elif lname.startswith(t):
            r = 1
        elif t in lname:
            r = 2
        elif t in ldesc:
            r = 3
        else:
            return None
        rank = max(rank, r)
    return rank


def search(arch: ArchSettings, index: Any, store_dir: Any, terms: list[str], *,
           aur_mode: str = "fetch", repos_only: bool = False,
           writable: Any = None) -> SearchResult:
    """aur_mode: "fetch" (cache, then network), "cache" (raise aur.CacheMiss), "off"."""
    terms = [t.lower() for t in terms if t]
    conf = pacmanconf.parse(arch.pacman_conf)
    local = searchindex.local_installed(conf, arch.dbpath)
    in_store = searchindex.store_names(store_dir)
    hits: list[Hit] = []
    order: dict[str, int] = {}
    first = terms[0] if terms else ""
    current = [index]

    def reopen() -> Any:  # the fast path swaps its read-only index for a writable one
        current[0] = writable() or current[0]  # None: not writable, keep the read-only one
        return current[0]

    repos = searchindex.load(index, conf, arch.dbpath, reopen if writable else None)
    index = current[0]
    for i, repo in enumerate(repos):
        order[repo.repo] = i
        for line in repo.lines_with(first):  # cheap pre-filter on the whole line
            name, version, desc = line.split("\t", 2)
            r = _rank(name, desc, terms)
            if r is not None:
                hits.append(Hit(repo.repo, name, version, desc, local.get(name),
                                name in in_store, rank=r))
    warnings: list[str] = []
    if not repos_only and aur_mode != "off" and terms:
        term = max(terms, key=len)
        try:
            results = aur.search(arch.aur_url, term, index=index, ttl=arch.aur_ttl,
                                 fetch=aur_mode == "fetch")
        except OmgError as exc:  # NetworkError; aur.CacheMiss and the rest propagate
            warnings.append(f"{exc.message}; showing repository results only")
            results = []
        seen = {h.name for h in hits}
        for res in results:
            name, desc = str(res.get("Name", "")), str(res.get("Description") or "")
            rank = _rank(name, desc, terms)
            if rank is None or name in seen:
                continue
            hits.append(Hit("aur", name, str(res.get("Version", "")), desc, local.get(name),
                            name in in_store, votes=int(res.get("NumVotes") or 0),
                            popularity=float(res.get("Popularity") or 0.0),
                            out_of_date=bool(res.get("OutOfDate")), rank=rank))
    big = len(order)
    hits.sort(key=lambda h: (h.rank, order.get(h.repo, big), -(h.popularity or 0.0),
                             -(h.votes or 0), h.name))
    return SearchResult(hits, warnings)


def render(result: SearchResult, *, color: bool = False) -> str:
    lines = []
    for h in result.hits:
        extra = ""
        if h.repo == "aur":
            extra = f" (+{h.votes} {h.popularity:.2f})"
            if h.out_of_date:
                extra += " (out of date)"
        marks = []
        if h.installed:
            marks.append("installed" if h.installed == h.version else f"installed: {h.installed}")
        if h.in_store:
            marks.append("store")
        mark = f" [{', '.join(marks)}]" if marks else ""
        lines.append(f"{h.repo}/{h.name} {h.version}{extra}{mark}")
        lines.append(f"    {h.description}")
    return "\n".join(lines) + ("\n" if lines else "")
