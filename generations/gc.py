"""The mark half of garbage collection, and roots (invariant 3).

Roots: every generation link of every profile of every user (projects too),
every symlink under ``gcroots/`` (into the store, or to a profile, followed to
the store path it reaches), and every store path named in ``temproots/``
(operations in flight that keep their own list). `plan_gc` is pure: given all
store paths, the roots and each path's references, it returns the dead ones.

The lock protocol (after Nix): whoever may link a store path holds the gc lock
shared from choosing the path until it is reachable from a root; `collect`
holds it exclusive while it marks and sweeps, so nothing it considers dead can
be linked meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from generations.profile import (
    all_profiles,
    current_number,
    delete,
    env_of,
    generations,
    linked_numbers,
)
from store.layout import Layout, store_hash_of


def plan_gc(all_paths: Iterable[str], roots: Iterable[str],
            references: Mapping[str, Iterable[str]]) -> set[str]:
    """Store paths not in the closure of `roots` (roots not in `all_paths` are ignored)."""
    everything = set(all_paths)
    live: set[str] = set()
    todo = [r for r in roots if r in everything]
    while todo:
        name = todo.pop()
        if name in live:
            continue
        live.add(name)
        todo.extend(r for r in references.get(name, ()) if r in everything and r not in live)
    return everything - live


def _store_name_of(layout: Layout, target: str) -> str | None:
    """The store path a link target lands in (following links through profiles)."""
    real = os.path.realpath(target)
    store = os.path.realpath(layout.store)
    if not real.startswith(store + os.sep):
        return None
    first = real[len(store) + 1:].split(os.sep, 1)[0]
    return first if store_hash_of(first) else None


def find_roots(layout: Layout) -> dict[str, list[str]]:
    """Store path name -> the roots that hold it (for `omg gc --print-roots` and tests)."""
    roots: dict[str, list[str]] = {}

    def add(name: str | None, why: str) -> None:
        if name:
            roots.setdefault(name, []).append(why)

    for ref in all_profiles(layout):
        # The links are the roots: no record is read, so a corrupt one cannot stop gc.
        for n in linked_numbers(ref):
            env = env_of(ref, n)
            if store_hash_of(env):
                add(env, str(ref.gen_link(n)))
    for base in (layout.gcroots, layout.temproots):
        for dirpath, dirnames, filenames in os.walk(base):
            for entry in dirnames + filenames:
                full = os.path.join(dirpath, entry)
                if os.path.islink(full):
                    add(_store_name_of(layout, full), full)
                elif base == layout.temproots and entry in filenames:
                    try:
                        with open(full) as f:
                            for line in f:
                                line = line.strip()
                                if store_hash_of(line):
                                    add(line, full)
                    except OSError:
                        continue
    return roots


class GcResult(NamedTuple):
    dead: list[str]
    freed_bytes: int
    dry_run: bool
    deleted_generations: list[tuple[str, int]]
    live: int


def delete_older_than(layout: Layout, cutoff: float,
                      index: Any = None) -> list[tuple[str, int]]:
    """Delete generations made before `cutoff`, never a profile's current one."""
    deleted: list[tuple[str, int]] = []
    for ref in all_profiles(layout):
        with ref.locked():
            cur = current_number(ref)
            for gen in generations(ref):
                if gen.number != cur and gen.time < cutoff:
                    delete(ref, gen.number, index)
                    deleted.append((f"{ref.user}/{ref.label}", gen.number))
    return deleted


def collect(store: Any, *, dry_run: bool = False, older_than: float | None = None,
            now: float = 0.0, progress: Callable[[str], None] | None = None) -> GcResult:
    """Mark and sweep under the exclusive gc lock; `store` is a `LocalStore`.

    `older_than` (seconds) first deletes generations older than that (not when
    `dry_run`: then they only count as kept).
    """
    layout: Layout = store.layout
    deleted_gens: list[tuple[str, int]] = []
    if older_than is not None and not dry_run:
        deleted_gens = delete_older_than(layout, now - older_than, store.index)
    with store.gc_guard(exclusive=True):
        names = store.names()
        refs = {r.path: r.references for r in store.records()}
        roots = find_roots(layout)
        dead = sorted(plan_gc(names, roots, refs))
        if dry_run:
            freed = sum(_size(store, n) for n in dead)
            return GcResult(dead, freed, True, deleted_gens, len(names) - len(dead))
        result = store.sweep(dead)
    return GcResult(result.deleted, result.freed_bytes, False, deleted_gens,
                    len(names) - len(dead))


def _size(store: Any, name: str) -> int:
    try:
        return int(store.get(name).size)
    except Exception:
        return 0

