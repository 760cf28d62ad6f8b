"""The `omg search` fast path: answer from the LMDB search index and the AUR cache.

`run(args)` returns an exit code, or None to hand over to the typer CLI (unknown
options, a cold or expired AUR cache, any error: the CLI reports errors the one
standard way). It imports neither typer, rich, httpx, pyalpm, nor (when no config
file exists) typing, pathlib or msgpack: settings come from `fastconfig`, the index
is read through a read-only `store.index.Index`. Only when a sync db changed is the index
reopened writable (store.index) to store the rebuild.

In the shared mode (this user cannot write OMG_HOME and omgd's socket is there)
omgd answers from its in-memory index (`daemonsearch`); when it cannot, the
search runs here as in the single-user mode, without a word.
"""

from __future__ import annotations

import os
import sys

from omg.arch import aur
from store.errors import OmgError, UsageError

# Not `from typing import ...` (start-up cost); type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from omg.arch.fastconfig import SearchSettings
    from omg.arch.search import SearchAnswer, SearchResult
    from store.index import Index

_FLAGS = {"--json", "--repo"}


def run(args: list[str]) -> int | None:
    if not args or args[0] != "search":
        return None
    rest = args[1:]
    terms = [a for a in rest if not a.startswith("-")]
    flags = [a for a in rest if a.startswith("-")]
    if not terms or any(f not in _FLAGS for f in flags):
        return None
    try:
        terms = needs_terms(terms)
    except OmgError as exc:
        from omg.cli.output import report_error  # light: json, sys, store.errors

        return report_error(exc)
    json_out, repos_only = "--json" in flags, "--repo" in flags
    try:
        settings = _settings()
        answer = _ask_daemon(settings, terms, repos_only, json_out)
        if answer is not None:
            body = answer["hits"] if json_out else answer["text"]
            return _emit(body, answer["warnings"], answer["count"], json_out)
        result = _local(settings, terms, repos_only)
    except Exception as exc:
        if isinstance(exc, (aur.CacheMiss, OmgError, ValueError)):
            return None
        raise
    body = [h.to_json() for h in result.hits] if json_out else _render(result)
    return _emit(body, result.warnings, len(result.rows), json_out)


def needs_terms(terms: list[str]) -> list[str]:
    """The terms that say something; a UsageError if none does (``omg search ""``)."""
    said = [t for t in terms if t.strip()]
    if not said:
        raise UsageError("search needs a term", hint="omg search WORD...")
    return said


def _settings() -> SearchSettings:
    from omg.arch import fastconfig

    settings = fastconfig.load()
    if settings is None:  # a config file exists: omg.config reads it
        from omg import config

        settings = fastconfig.from_config(config.load())
    return settings


def _ask_daemon(settings: SearchSettings, terms: list[str], repos_only: bool,
                json_out: bool) -> SearchAnswer | None:
    """omgd's answer in the shared mode, else None (single-user: one access(2))."""
    from omg import locate

    socket_path = locate.shared_socket(settings.home, settings.raw, os.environ)
    if socket_path is None:
        return None
    from omg.arch import daemonsearch

    return daemonsearch.ask(socket_path, settings, terms, repos_only=repos_only,
                            hits=json_out)


def _local(settings: SearchSettings, terms: list[str], repos_only: bool) -> SearchResult:
    from omg.arch import search

    db_dir = os.path.join(settings.home, "db")
    opened: list[Index] = []

    def writable() -> Index | None:
        if os.path.exists(db_dir) and not os.access(db_dir, os.W_OK):
            return None
        # LMDB allows one environment per path and process: drop the read-only one
        # (its rows were already copied out) before opening read-write.
        while opened:
            opened.pop().close()
        from store.index import Index

        idx = Index(db_dir)
        opened.append(idx)
        return idx

    try:
        if os.path.exists(os.path.join(db_dir, "data.mdb")):
            from store.index import Index

            opened.append(Index(db_dir, readonly=True))
        return search.search(settings, opened[0] if opened else None,
                             os.path.join(settings.home, "store"), terms, aur_mode="cache",
                             repos_only=repos_only, writable=writable)
    finally:
        for idx in opened:
            idx.close()


def repo_names(prefix: str) -> list[tuple[str, str]]:
    """(name, description) of the repositories' packages whose name starts with
    `prefix`, for shell completion: the local search index, no daemon, no AUR."""
    low = prefix.lower()
    result = _local(_settings(), [prefix], True)
    return [(row[1], row[3]) for row in result.rows if row[1].lower().startswith(low)]


def _render(result: SearchResult) -> str:
    from omg.arch import search

    return search.render(result)


def _emit(body: str | list[dict[str, object]] | None, warnings: list[str], count: int,
          json_out: bool) -> int:
    if json_out:
        from omg.cli.output import print_json  # light: json, sys, store.errors

        print_json(body)
    else:
        sys.stdout.write(str(body))  # text: `daemonsearch.ask` checked it is
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0 if count else 1
