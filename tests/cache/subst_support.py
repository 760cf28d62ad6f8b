"""Helpers of the substitution tests: a store path pushed into a file cache, a store's
picture (to assert "nothing added"), a storage that counts its GETs."""

from __future__ import annotations

import os
from pathlib import Path

from omg.cache import keys, storage
from omg.cache import manifest as mf
from omg.cache.push import push
from store.layout import Layout
from store.local import LocalStore


def push_path(layout: Layout, url: str, name: str, key: keys.SecretKey) -> mf.Manifest:
    """Push store path `name` (references first) to the cache at `url`, signed by `key`
    (`omg cache push`'s function); its manifest as the cache has it."""
    st = storage.open_storage(url)
    push(layout, st, [name], key, platform="linux-x64-gnu")
    return mf.decode(st.get(mf.manifest_key(name)) or b"", name)


def picture(layout: Layout) -> tuple[list[str], list[str], list[str], list[str]]:
    """What a failed pull must leave as it was: store paths, pool, claims, staging."""
    def listing(d: Path) -> list[str]:
        if not d.exists():
            return []
        return sorted(str(p.relative_to(d)) for p in d.rglob("*"))

    store = layout.store
    names = sorted(n for n in os.listdir(store) if not n.startswith(".")) \
        if store.exists() else []
    return (names, listing(layout.links), listing(store / ".claims"),
            [n for n in listing(layout.staging) if not n.endswith(".lock")])


class Counting:
    """A cache storage that counts the GETs of each kind of key."""

    def __init__(self, inner: storage.CacheStorage) -> None:
        self.inner = inner
        self.url = inner.url
        self.writable = inner.writable
        self.gets: list[str] = []

    def get(self, key: str) -> bytes | None:
        self.gets.append(key)
        return self.inner.get(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def put(self, key: str, data: bytes) -> None:
        self.inner.put(key, data)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def close(self) -> None:
        self.inner.close()

    def objects(self) -> list[str]:
        return [k for k in self.gets if k.startswith("objects/")]


def verify_clean(store: LocalStore) -> None:
    problems = store.verify()
    assert not problems, problems
