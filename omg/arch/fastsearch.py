"""The `omg search` fast path: answer from the LMDB search index and the AUR cache.

`run(args)` returns an exit code, or None to hand over to the typer CLI (unknown
options, a cold or expired AUR cache, any unexpected state). It imports neither
typer, rich, httpx nor pyalpm.
"""

from __future__ import annotations

import sys

_FLAGS = {"--json", "--repo", "--aur"}


def run(args: list[str]) -> int | None:
    if not args or args[0] != "search":
        return None
    rest = args[1:]
    terms = [a for a in rest if not a.startswith("-")]
    flags = [a for a in rest if a.startswith("-")]
    if not terms or any(f not in _FLAGS for f in flags) or "--aur" in flags:
        return None
    from omg import config
    from omg.arch import aur, search, settings
    from store.errors import OmgError
    from store.index import Index

    try:
        s = config.load()
        arch = settings.from_settings(s)
        layout = s.layout
        index = Index.for_home(layout.db) if layout.db.exists() else None
        try:
            result = search.search(arch, index, layout.store, terms, aur_mode="cache",
                                   repos_only="--repo" in flags)
        finally:
            if index is not None:
                index.close()
    except aur.CacheMiss:
        return None
    except OmgError:
        return None  # the CLI reports errors the one standard way
    if "--json" in flags:
        import json

        json.dump([h.to_json() for h in result.hits], sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(search.render(result))
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0 if result.hits else 1
