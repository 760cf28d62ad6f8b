"""`omg search`: repo results from the search index merged with the AUR, ranked.

Ranking: exact name, then name prefix, then name contains, then description only;
inside a rank, repo packages in pacman.conf order before the AUR, repo ones by name,
AUR ones by popularity then votes, then name. The index keeps each repo's lines
sorted by name, so results go straight into one bucket per (rank, repo) and are
never sorted; with one term (the usual search) the rank is read from where
`str.find` matched, without splitting the line (`_scan_one`). Results are plain
tuples (`Row`, the fields of `Hit`): `Hit` objects are made only for `--json`.

Light imports only (no typer, rich, httpx, pyalpm, typing, pathlib): the fast path
runs this module, with `aur_mode="cache"` so a cold AUR cache hands over to the CLI.
"""

from __future__ import annotations

from omg.arch import aur, pacmanconf, searchindex
from store.errors import OmgError

# Not `from typing import ...` (start-up cost); type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from os import PathLike
    from typing import TypedDict

    from omg.arch.fastconfig import SearchSettings
    from omg.arch.searchindex import RepoIndex
    from omg.arch.settings import ArchSettings
    from store.index import Index

    class SearchAnswer(TypedDict):
        """A search rendered (`text`) or as `--json` hits: what `omg search` prints,
        and omgd's ``search`` reply (which adds its `source`)."""

        text: str | None
        hits: list[dict[str, object]] | None
        count: int
        warnings: list[str]

    #: repo, name, version, description, installed, in_store, votes, popularity,
    #: out_of_date, rank: the fields of `Hit`, in order.
    Row = tuple[str, str, str, str, str | None, bool, int | None, float | None, bool, int]
    Buckets = tuple[list[Row], list[Row], list[Row], list[Row]]

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

    def to_json(self) -> dict[str, object]:
        return {f: getattr(self, f) for f in _FIELDS}


class SearchResult:
    """`rows` in their final order; `hits` makes `Hit` objects of them on demand."""

    __slots__ = ("rows", "warnings")

    def __init__(self, rows: list[Row], warnings: list[str] | None = None) -> None:
        self.rows, self.warnings = rows, warnings or []

    @property
    def hits(self) -> list[Hit]:
        return [Hit(*row) for row in self.rows]


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


def _scan_one(repo: RepoIndex, t: str, local: dict[str, str], in_store: set[str]) -> Buckets:
    """One term without tab or newline, over an exact index: `_rank` from positions.

    The first match in a line decides: before the line's first tab it is in the
    name (at the start: prefix, or the whole name: exact); past it, the term must
    be found again in the description (the version does not count).
    """
    text, lower, rname = repo.text, repo.lower, repo.repo
    buckets: Buckets = ([], [], [], [])
    find, rfind, n, size = lower.find, lower.rfind, len(t), len(lower)
    pos = find(t)
    while pos != -1:
        start = rfind("\n", 0, pos) + 1
        end = find("\n", pos)
        if end == -1:
            end = size
        tab1 = find("\t", start, end)
        tab2 = find("\t", tab1 + 1, end)
        if pos < tab1:
            r = 2 if pos != start else 0 if tab1 - start == n else 1
        elif find(t, tab2 + 1, end) != -1:
            r = 3
        else:
            pos = find(t, end)
            continue
        name = text[start:tab1]
        buckets[r].append((rname, name, text[tab1 + 1:tab2], text[tab2 + 1:end],
                           local.get(name), name in in_store, None, None, False, r))
        pos = find(t, end)
    return buckets


def _scan(repo: RepoIndex, terms: list[str], local: dict[str, str],
          in_store: set[str]) -> Buckets:
    """Any terms: pre-filter lines on the first, then `_rank` each candidate."""
    first = terms[0] if terms else ""
    if len(terms) == 1 and repo.exact and first and "\t" not in first and "\n" not in first:
        return _scan_one(repo, first, local, in_store)
    buckets: Buckets = ([], [], [], [])
    rname = repo.repo
    for line in repo.lines_with(first):
        name, version, desc = line.split("\t", 2)
        r = _rank(name, desc, terms)
        if r is not None:
            buckets[r].append((rname, name, version, desc, local.get(name), name in in_store,
                               None, None, False, r))
    return buckets


def rank_rows(repos: list[RepoIndex], aur_rows: list[aur.AurRow], terms: list[str],
              local: dict[str, str], in_store: set[str]) -> list[Row]:
    """Repo and AUR results of lower-cased `terms`, in their final order."""
    per_repo = [_scan(repo, terms, local, in_store) for repo in repos]
    seen = {row[1] for buckets in per_repo for bucket in buckets for row in bucket}
    aur_buckets: Buckets = ([], [], [], [])
    for name, version, desc, votes, pop, ood in aur_rows:
        rank = _rank(name, desc, terms)
        if rank is None or name in seen:
            continue
        aur_buckets[rank].append(("aur", name, version, desc, local.get(name),
                                  name in in_store, votes, pop, ood, rank))
    rows: list[Row] = []
    for r in range(4):
        for buckets in per_repo:
            rows += buckets[r]
        rows += sorted(aur_buckets[r], key=lambda h: (-(h[7] or 0.0), -(h[6] or 0), h[1]))
    if any(repo.repo == "aur" for repo in repos):  # its rows and the AUR's share an order
        order = {repo.repo: i for i, repo in enumerate(repos)}
        big = len(order)
        rows.sort(key=lambda h: (h[9], order.get(h[0], big), -(h[7] or 0.0), -(h[6] or 0),
                                 h[1]))
    return rows


def search(arch: ArchSettings | SearchSettings, index: Index | None,
           store_dir: str | PathLike[str], terms: list[str], *,
           aur_mode: str = "fetch", repos_only: bool = False,
           writable: Callable[[], Index | None] | None = None) -> SearchResult:
    """aur_mode: "fetch" (cache, then network), "cache" (raise aur.CacheMiss), "off".

    `arch`: ArchSettings or fastconfig.SearchSettings (pacman_conf, dbpath, aur_url,
    aur_ttl). `index`: a store.index.Index or None.
    """
    terms = [t.lower() for t in terms if t]
    conf = pacmanconf.parse(arch.pacman_conf)
    local = searchindex.local_installed(conf, arch.dbpath)
    in_store = searchindex.store_names(store_dir)
    current = [index]

    def reopen() -> Index | None:  # the fast path swaps its read-only index for a writable one
        current[0] = (writable() if writable else None) or current[0]
        return current[0]

    repos = searchindex.load(index, conf, arch.dbpath, reopen if writable else None)
    index = current[0]
    warnings: list[str] = []
    aur_rows: list[aur.AurRow] = []
    if not repos_only and aur_mode != "off" and terms:
        try:
            aur_rows = aur.search(arch.aur_url, max(terms, key=len), index=index,
                                  ttl=arch.aur_ttl, fetch=aur_mode == "fetch")
        except OmgError as exc:  # NetworkError; aur.CacheMiss and the rest propagate
            warnings.append(f"{exc.message}; showing repository results only")
    return SearchResult(rank_rows(repos, aur_rows, terms, local, in_store), warnings)


def render(result: SearchResult, *, color: bool = False) -> str:
    return render_rows(result.rows)


def render_rows(rows: list[Row]) -> str:
    out = []
    for repo, name, version, desc, installed, in_store, votes, pop, ood, _r in rows:
        extra = ""
        if votes is not None:  # AUR rows (not repo == "aur": a pacman repo may be so named)
            extra = f" (+{votes} {pop or 0.0:.2f})"
            if ood:
                extra += " (out of date)"
        mark = ""
        if installed or in_store:
            marks = []
            if installed:
                marks.append("installed" if installed == version else f"installed: {installed}")
            if in_store:
                marks.append("store")
            mark = f" [{', '.join(marks)}]"
        out.append(f"{repo}/{name} {version}{extra}{mark}\n    {desc}\n")
    return "".join(out)
