"""The `omg search` fast path: answer from the LMDB search index and the AUR cache.

`run(args)` returns an exit code, or None to hand over to the typer CLI (unknown
options, a cold or expired AUR cache, any error: the CLI reports errors the one
standard way). It imports neither typer, rich, httpx nor pyalpm; settings come
from the same light `omg.config.load()` the other fast paths use. The index is
opened read-only without a write transaction (a write commit costs an fsync);
only when a sync db changed is it reopened writable to store the rebuild.
"""

from __future__ import annotations

import os
import sys
from typing import Any

_FLAGS = {"--json", "--repo"}


def run(args: list[str]) -> int | None:
    if not args or args[0] != "search":
        return None
    rest = args[1:]
    terms = [a for a in rest if not a.startswith("-")]
    flags = [a for a in rest if a.startswith("-")]
    if not terms or any(f not in _FLAGS for f in flags):
        return None
    from omg import config
    from omg.arch import aur, search, settings
    from store.errors import OmgError
    from store.index import Index

    try:
        loaded = config.load()
        home = loaded.home
        arch = settings.from_raw(home, dict(loaded.raw))
        db_dir = home / "db"
        opened: list[Any] = []

        def writable() -> Any:
            if db_dir.exists() and not os.access(db_dir, os.W_OK):
                return None
            # LMDB allows one environment per path and process: drop the read-only one
            # (its rows were already copied out) before opening read-write.
            while opened:
                opened.pop().close()
            idx = Index(db_dir)
            opened.append(idx)
            return idx

        try:
            index = Index(db_dir, readonly=True) if (db_dir / "data.mdb").exists() else None
            if index is not None:
                opened.append(index)
            result = search.search(arch, index, home / "store", terms, aur_mode="cache",
                                   repos_only="--repo" in flags, writable=writable)
        finally:
            for idx in opened:
                idx.close()
    except Exception as exc:
        if isinstance(exc, (aur.CacheMiss, OmgError, ValueError)):
            return None
        raise
    if "--json" in flags:
        from omg.cli.output import print_json  # light: json, sys, store.errors

        print_json([h.to_json() for h in result.hits])
    else:
        sys.stdout.write(search.render(result))
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0 if result.hits else 1
