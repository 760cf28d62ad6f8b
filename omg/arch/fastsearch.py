"""The `omg search` fast path: answer from the LMDB search index and the AUR cache.

`run(args)` returns an exit code, or None to hand over to the typer CLI (unknown
options, a cold or expired AUR cache, any error: the CLI reports errors the one
standard way). It imports neither typer, rich, httpx, pyalpm, dataclasses nor
omg.config (whose imports cost more than this whole search): `_home_and_raw` mirrors
omg.config.load's precedence for the two things search needs, OMG_HOME and [arch].
The index is opened read-only without a write transaction (a write commit costs an
fsync); only when a sync db changed is it reopened writable to store the rebuild.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

_FLAGS = {"--json", "--repo"}


def _home_and_raw() -> tuple[Path, dict[str, Any]]:
    env = os.environ
    home_env = env.get("OMG_HOME")
    xdg_config = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    files = [Path("/etc/omg/config.toml"),
             Path(env.get("OMG_CONFIG") or xdg_config / "omg" / "config.toml")]
    raw: dict[str, Any] = {}
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        import tomllib

        for key, value in tomllib.loads(data.decode()).items():
            if isinstance(value, dict) and isinstance(raw.get(key), dict):
                raw[key] = {**raw[key], **value}
            else:
                raw[key] = value
    xdg_data = Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    home = Path(home_env or raw.get("home") or xdg_data / "omg").absolute()
    return home, raw


def run(args: list[str]) -> int | None:
    if not args or args[0] != "search":
        return None
    rest = args[1:]
    terms = [a for a in rest if not a.startswith("-")]
    flags = [a for a in rest if a.startswith("-")]
    if not terms or any(f not in _FLAGS for f in flags):
        return None
    try:
        from omg.arch import aur, search, settings
        from store.errors import OmgError
        from store.index import Index

        home, raw = _home_and_raw()
        arch = settings.from_raw(home, raw)
        db_dir = home / "db"
        opened: list[Any] = []

        def writable() -> Any:
            if not os.access(db_dir if db_dir.exists() else home, os.W_OK) and db_dir.exists():
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
        if type(exc).__name__ == "CacheMiss" or isinstance(exc, (OmgError, ValueError)):
            return None
        raise
    _ = aur
    if "--json" in flags:
        import json

        json.dump([h.to_json() for h in result.hits], sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(search.render(result))
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0 if result.hits else 1
