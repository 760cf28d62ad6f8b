"""`omg search`: repo results from the search index merged with the AUR, ranked.

Matching is pacman -Ss's: every term must match the name, the description or (repo
packages) one of the names it provides; a term with a regex character
(`REGEX_CHARS`) is a POSIX extended regex, case-insensitive, as pacman's regcomp
(`prepare()` compiles it with `re`, POSIX classes translated; `re` is imported only
then), the others a plain case-insensitive substring (`str.find`, the fast path).
Ranking: exact name, then name prefix, then name contains, then description or
provides only; inside a rank, repo packages in pacman.conf order before the AUR, repo ones by name,
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
from store.errors import OmgError, UsageError

# Not `from typing import ...` (start-up cost); type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from os import PathLike
    from re import Pattern
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
    #: A prepared term: a lower-cased substring, or a compiled (case-insensitive) regex.
    Term = str | Pattern[str]

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

    def __eq__(self, other: object) -> bool:
        """Equal results say the same, from whichever backend (tests/contract/)."""
        if not isinstance(other, SearchResult):
            return NotImplemented
        return (self.rows, self.warnings) == (other.rows, other.warnings)

    __hash__ = None  # type: ignore[assignment]  # mutable lists: no hash

    def __repr__(self) -> str:
        return f"SearchResult({self.rows!r}, {self.warnings!r})"

    @property
    def hits(self) -> list[Hit]:
        return [Hit(*row) for row in self.rows]


def result_of(hits: list[dict[str, object]], warnings: list[str]) -> SearchResult:
    """The `SearchResult` whose ``--json`` hits (`Hit.to_json`) these are: omgd's answer."""
    rows = [tuple(h[f] for f in _FIELDS) for h in hits]
    return SearchResult(rows, list(warnings))  # type: ignore[arg-type]


#: Characters that make a term a regular expression (POSIX ERE's specials).
REGEX_CHARS = frozenset(".^$*+?()[]{}|\\")
#: POSIX bracket classes (inside a bracket expression) in Python's `re` spelling.
POSIX_CLASSES = {"[:alpha:]": "a-zA-Z", "[:digit:]": "0-9", "[:alnum:]": "a-zA-Z0-9",
                 "[:upper:]": "A-Z", "[:lower:]": "a-z", "[:space:]": " \\t\\n\\r\\f\\v",
                 "[:blank:]": " \\t", "[:xdigit:]": "0-9A-Fa-f", "[:punct:]":
                 "!-/:-@\\[-`{-~", "[:print:]": " -~", "[:graph:]": "!-~",
                 "[:cntrl:]": "\\x00-\\x1f\\x7f"}


def prepare(raw: Sequence[str]) -> list[Term]:
    """The terms of a search, prepared: plain ones lower-cased, the others compiled.
    A UsageError names a term that is not a valid regular expression."""
    out: list[Term] = []
    for t in raw:
        if not t:
            continue
        if REGEX_CHARS.isdisjoint(t):
            out.append(t.lower())
            continue
        import re  # only for a regex term: the usual search never pays for it

        source = t
        for posix, python in POSIX_CLASSES.items():
            source = source.replace(posix, python)
        try:
            out.append(re.compile(source, re.IGNORECASE))
        except re.error as exc:
            raise UsageError(f"invalid regular expression {t!r}: {exc.msg}",
                             hint="quote it, or escape the special character with \\"
                             ) from None
    return out


NO_AUR_TERM = "the AUR was not searched: the pattern has no plain part to ask it for"


def aur_term(prepared: list[Term]) -> str:
    """What to ask the AUR (which searches plain substrings): the longest plain term,
    or the longest plain part of a regex (filtered locally afterwards); "" for none."""
    candidates = [t if isinstance(t, str) else _literal(t.pattern) for t in prepared]
    best = max(candidates, key=len, default="").lower()
    # aurweb refuses shorter args ("Query arg too small."); a plain term still asks,
    # for that answer as its warning, but a pattern's fragment is no term of the user's.
    return best if len(best) >= 2 or best in prepared else ""


def _literal(pattern: str) -> str:
    """The longest run of characters every match of `pattern` contains; "" when it has
    a top-level alternation (no run is sure). Groups, classes and optional characters
    end runs (a group's contents count for nothing)."""
    pieces, cur, depth, i = [], "", 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "|" and depth == 0:
            return ""
        if c == "\\":
            nxt = pattern[i + 1:i + 2]
            if nxt and not nxt.isalnum() and depth == 0:
                cur += nxt
            else:
                pieces.append(cur)
                cur = ""
            i += 2
            continue
        if c == "[":
            c, i = "", _class_end(pattern, i)
        elif c in "?*{":
            cur = cur[:-1]  # the character before is optional
            if c == "{":
                end = pattern.find("}", i)
                i = len(pattern) if end == -1 else end
            c = ""
        elif c in "()":
            depth += 1 if c == "(" else -1
            c = ""
        elif c in ".^$+":
            c = ""
        if c and depth == 0:
            cur += c
        else:
            pieces.append(cur)
            cur = ""
        i += 1
    pieces.append(cur)
    return max(pieces, key=len)


def _class_end(pattern: str, start: int) -> int:
    """The index of the `]` closing the bracket expression at `start` (a `]` first, or
    after `^`, is a member; so is an escaped one)."""
    i = start + 1
    if pattern[i:i + 1] == "^":
        i += 1
    if pattern[i:i + 1] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i


def _rank_re(pattern: Pattern[str], name: str, desc: str, provides: Sequence[str],
             ) -> int | None:
    if pattern.fullmatch(name):
        return 0
    if pattern.match(name):
        return 1
    if pattern.search(name):
        return 2
    if pattern.search(desc) or any(pattern.search(p) for p in provides):
        return 3
    return None


def _rank(name: str, desc: str, terms: Sequence[Term], provides: Sequence[str] = (),
          ) -> int | None:
    lname, ldesc = name.lower(), desc.lower()
    rank = 0
    for t in terms:
        if not isinstance(t, str):
            found = _rank_re(t, name, desc, provides)
            if found is None:
                return None
            rank = max(rank, found)
            continue
        if lname == t:
            r = 0
        elif lname.startswith(t):
            r = 1
        elif t in lname:
            r = 2
        elif t in ldesc or any(t in p.lower() for p in provides):
            r = 3
        else:
            return None
        rank = max(rank, r)
    return rank


def _scan_one(repo: RepoIndex, t: str, local: dict[str, str], in_store: set[str]) -> Buckets:
    """One term without tab or newline, over an exact index: `_rank` from positions.

    The first match in a line decides: before the line's first tab it is in the
    name (at the start: prefix, or the whole name: exact); past it, the term must
    be found again in the description or the provides after it (the version does
    not count).
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
        tab3 = find("\t", tab2 + 1, end)
        buckets[r].append((rname, name, text[tab1 + 1:tab2],
                           text[tab2 + 1:end if tab3 == -1 else tab3],
                           local.get(name), name in in_store, None, None, False, r))
        pos = find(t, end)
    return buckets


def _scan(repo: RepoIndex, terms: list[Term], local: dict[str, str],
          in_store: set[str]) -> Buckets:
    """Any terms: pre-filter lines on the first plain one (or what a pattern's every
    match contains), then `_rank` each candidate."""
    plain = [t for t in terms if isinstance(t, str)]
    first = plain[0] if plain else ""
    if (len(terms) == 1 and plain and repo.exact and first and "\t" not in first
            and "\n" not in first):
        return _scan_one(repo, first, local, in_store)
    if not plain:
        first = max((_literal(t.pattern).lower() for t in terms if not isinstance(t, str)),
                    key=len, default="")
    buckets: Buckets = ([], [], [], [])
    rname = repo.repo
    lines = repo.lines_with(first) if first else [ln for ln in repo.text.split("\n") if ln]
    for line in lines:
        name, version, rest = line.split("\t", 2)
        desc, *provides = rest.split("\t")
        r = _rank(name, desc, terms, provides)
        if r is not None:
            buckets[r].append((rname, name, version, desc, local.get(name), name in in_store,
                               None, None, False, r))
    return buckets


def rank_rows(repos: list[RepoIndex], aur_rows: list[aur.AurRow], terms: list[Term],
              local: dict[str, str], in_store: set[str]) -> list[Row]:
    """Repo and AUR results of prepared `terms` (`prepare()`), in their final order."""
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
    prepared = prepare(terms)
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
    asked = aur_term(prepared)
    if not repos_only and aur_mode != "off" and not asked and prepared:
        warnings.append(NO_AUR_TERM)
    elif not repos_only and aur_mode != "off" and asked:
        try:
            aur_rows = aur.search(arch.aur_url, asked, index=index,
                                  ttl=arch.aur_ttl, fetch=aur_mode == "fetch")
        except OmgError as exc:  # NetworkError; aur.CacheMiss and the rest propagate
            warnings.append(f"{exc.message}; showing repository results only")
    return SearchResult(rank_rows(repos, aur_rows, prepared, local, in_store), warnings)


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
