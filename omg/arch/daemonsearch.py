"""`omg search` in the shared mode: ask omgd, which holds the search index in memory.

One ``search`` request through `omg.daemon.oneshot` (omg.daemon.client
imports more than the search it would save costs). Any
failure (no daemon, a hang-up, a timeout, an error reply, an answer for other
settings) returns None and the caller searches locally, silently: the daemon is a
cache here, never a requirement.
"""

from __future__ import annotations

import os

# Not `from typing import ...` (start-up cost); type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from omg.arch.fastconfig import SearchSettings

#: A cold daemon may rebuild an index or ask the AUR (10 s) before it answers.
TIMEOUT = 30.0


def source_of(settings: Any) -> dict[str, Any]:
    """What a search answer depends on, compared between the client and the daemon."""
    return {"home": os.path.abspath(settings.home),
            "pacman_conf": os.path.abspath(settings.pacman_conf),
            "dbpath": os.path.abspath(settings.dbpath) if settings.dbpath else None,
            "aur_url": settings.aur_url}


def call(socket_path: str, params: dict[str, Any], timeout: float = TIMEOUT) -> Any:
    """The ``search`` method's result; raises on any failure (OSError, ValueError, ...)."""
    from omg.daemon import oneshot

    return oneshot.call(socket_path, "search", params, timeout)


def ask(socket_path: str, settings: SearchSettings, terms: list[str], *,
        repos_only: bool = False, hits: bool = False) -> dict[str, Any] | None:
    """The daemon's answer ({text or hits, count, warnings}) or None: search locally."""
    try:
        answer = call(socket_path, {"terms": terms, "repos_only": repos_only, "hits": hits})
    except Exception:  # any failure means: search locally
        return None
    if not isinstance(answer, dict) or answer.get("source") != source_of(settings):
        return None  # another store or other pacman settings than this user's
    body = answer.get("hits") if hits else answer.get("text")
    warnings = answer.get("warnings")
    if (not isinstance(body, list if hits else str) or not isinstance(answer.get("count"), int)
            or not isinstance(warnings, list)
            or not all(isinstance(w, str) for w in warnings)):
        return None
    return answer
