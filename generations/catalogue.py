"""A small cache of what the store holds, so `omg use` needs neither LMDB nor hashing.

``profiles/.catalogue.json`` maps each store path name to its package name,
version and exported environment, and each env plan key to the env built for
it. It is only a cache: every read is checked against the store directory
listing (a path no longer on disk is ignored, a path on disk but not in the
file is looked up in the store and added), and an env hit is confirmed by
comparing the env's manifest with the plan's. Losing the file, or a lost
update between two concurrent writers, costs a slower next run, nothing else.
"""

from __future__ import annotations

import json
import os

from store.fsutil import atomic_write

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from store.layout import Layout

CATALOGUE_FORMAT = 1
FILE_NAME = ".catalogue.json"
ENV_PACKAGE = "profile"


class Catalogue:
    def __init__(self, layout: Layout, index: Callable[[], Any] | None = None) -> None:
        """`index` returns the process's open `Index` (LMDB wants one per process)."""
        self.layout = layout
        self._index = index
        self.path = layout.profiles / FILE_NAME
        self._paths: dict[str, list[Any]] = {}
        self._envs: dict[str, str] = {}
        self._dirty = False
        try:
            data = json.loads(self.path.read_bytes())
            if isinstance(data, dict) and data.get("format") == CATALOGUE_FORMAT:
                self._paths = dict(data.get("paths", {}))
                self._envs = dict(data.get("envs", {}))
        except (OSError, ValueError):
            pass

    def on_disk(self) -> set[str]:
        try:
            return {n for n in os.listdir(self.layout.store)
                    if len(n) > 33 and n[32] == "-" and not n.endswith(".meta")}
        except FileNotFoundError:
            return set()

    def packages(self) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
        """package name -> [(version, store path name, env)] for every non-env store path."""
        names = self.on_disk()
        missing = sorted(n for n in names if n not in self._paths)
        if missing:
            self._learn(missing)
        stale = [n for n in self._paths if n not in names]
        for n in stale:
            del self._paths[n]
            self._dirty = True
        out: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for name in sorted(names):
            entry = self._paths.get(name)
            if not entry or entry[0] == ENV_PACKAGE:
                continue
            out.setdefault(entry[0], []).append((entry[1], name, entry[2] or {}))
        return out

    def _learn(self, names: list[str]) -> None:
        from store.local import LocalStore

        store = LocalStore(self.layout, index=self._index() if self._index else None)
        try:
            for name in names:
                try:
                    rec = store.get(name)
                except Exception:  # mid-ingest or damaged: not a candidate this time
                    continue
                origin = rec.origin if isinstance(rec.origin, dict) else {}
                env = origin.get("env") if isinstance(origin.get("env"), dict) else {}
                self._paths[name] = [rec.name, rec.version, env]
                self._dirty = True
        finally:
            if self._index is None:
                store.close()

    def env(self, key: str, manifest: bytes) -> str | None:
        name = self._envs.get(key)
        if not name:
            return None
        try:
            if (self.layout.store_path(name) / "manifest.json").read_bytes() == manifest:
                return name
        except OSError:
            pass
        return None

    def remember_env(self, key: str, name: str) -> None:
        if self._envs.get(key) != name:
            self._envs[key] = name
            self._dirty = True
        if name not in self._paths:
            self._paths[name] = [ENV_PACKAGE, name[33:].partition("-")[2], {}]
            self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        data = json.dumps({"format": CATALOGUE_FORMAT, "paths": self._paths,
                           "envs": self._envs}, sort_keys=True).encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, data, 0o644, durable=False)
        except OSError:
            pass  # a cache: a read-only profiles/ (shared store) just stays slower
        self._dirty = False
