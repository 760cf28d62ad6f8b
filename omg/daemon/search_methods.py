"""omgd's ``search`` method: `omg search` answered from the index in the daemon's memory.

The daemon keeps one `omg.arch.memsearch.MemorySearch` for its store (created on
the first search, reloaded per sync db as the dbs change) and answers with the
rendered text (or the hits, for ``--json``) plus the settings the answer depends
on (`source`): a client whose own settings differ searches locally instead. No
parameter names a path: the daemon searches with its own pacman.conf, sync dbs,
AUR URL and store, and anyone may ask (the sync dbs and the store are readable
by every user anyway).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from omg.daemon.base import Context, Method, Params
from omg.daemon.peer import Peer
from omg.daemon.wire import search_source
from store.errors import UsageError

if TYPE_CHECKING:
    from omg.arch.memsearch import MemorySearch

MAX_TERMS = 16
MAX_TERM = 200
_create = threading.Lock()


def searcher(ctx: Context) -> MemorySearch:
    """The context's MemorySearch, made once (under a lock: threads race for the first)."""
    from omg.arch.memsearch import MemorySearch

    with _create:
        found = ctx.extra.get("search")
        if not isinstance(found, MemorySearch):
            from omg.arch.settings import from_settings

            found = MemorySearch(from_settings(ctx.settings), ctx.store.index,
                                 ctx.store.layout.store, ctx.write_lock)
            ctx.extra["search"] = found
    return found


def _search(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    terms = params["terms"]
    if not 1 <= len(terms) <= MAX_TERMS or any(len(t) > MAX_TERM or "\0" in t for t in terms):
        raise UsageError(f"search: 1 to {MAX_TERMS} terms of at most {MAX_TERM} characters")
    from omg.arch.search import REGEX_CHARS

    # Python's re can backtrack for minutes on a crafted pattern ("(.*)*x"), and anyone
    # may ask: the daemon runs no patterns. The client then searches locally, in its
    # own process, as it does whenever the daemon does not answer.
    if any(not REGEX_CHARS.isdisjoint(t) for t in terms):
        raise UsageError("search: omgd does not run patterns; the client searches them")
    found = searcher(ctx)
    answer = found.answer(terms, repos_only=bool(params.get("repos_only")),
                          hits=bool(params.get("hits")))
    return {**answer, "source": search_source(found.arch)}


METHODS = (
    Method("search", _search, {"terms": ("list[str]", True), "repos_only": ("bool?", False),
                               "hits": ("bool?", False)}),
)
