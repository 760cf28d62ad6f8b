"""`omg search` in the shared mode: ask omgd, which holds the search index in memory.

One ``search`` request through `omg.daemon.client.call` (the lean one-request
call of the fast paths). Any failure (no daemon, a stale socket, a hang-up, a
timeout, an error reply, an answer for other settings) returns None and the
caller searches locally, silently: the daemon is a cache here, never a
requirement.
"""

from __future__ import annotations

# Not `from typing import ...` (start-up cost); type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeGuard

    from omg.arch.fastconfig import SearchSettings
    from omg.arch.search import SearchAnswer
    from omg.arch.settings import ArchSettings

#: A cold daemon may rebuild an index or ask the AUR (10 s) before it answers.
TIMEOUT = 30.0


def call(socket_path: str, params: dict[str, object], timeout: float = TIMEOUT) -> object:
    """The ``search`` method's result; raises `OmgError` on any failure
    (`DaemonUnavailable` when omgd cannot be reached)."""
    from omg.daemon import client

    return client.call(socket_path, "search", params, timeout)


def ask(socket_path: str, settings: ArchSettings | SearchSettings, terms: list[str], *,
        repos_only: bool = False, hits: bool = False) -> SearchAnswer | None:
    """The daemon's answer ({text or hits, count, warnings}) or None: search locally."""
    try:
        answer = call(socket_path, {"terms": terms, "repos_only": repos_only, "hits": hits})
    except Exception:  # any failure means: search locally
        return None
    from omg.daemon.wire import search_source  # imported with the client already

    if not isinstance(answer, dict) or answer.get("source") != search_source(settings):
        return None  # another store or other pacman settings than this user's
    return answer if _is_answer(answer, hits) else None


def _is_answer(answer: dict[str, object], hits: bool) -> TypeGuard[SearchAnswer]:
    body = answer.get("hits") if hits else answer.get("text")
    warnings = answer.get("warnings")
    return (isinstance(body, list if hits else str) and isinstance(answer.get("count"), int)
            and isinstance(warnings, list) and all(isinstance(w, str) for w in warnings))
