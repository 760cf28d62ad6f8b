"""The mark half of garbage collection, and roots (invariant 3).

Roots: every generation link of every profile of every user (projects too),
every symlink under ``gcroots/`` (into the store, or to a profile, followed to
the store path it reaches), and every store path named in ``temproots/``
(operations in flight that keep their own list; a file named for a process
that is gone is none: generations/temproots.py). `plan_gc` is pure: given all
store paths, the roots and each path's references, it returns the dead ones.
It asks for references level by level, only of paths it found live, so gc
reads the records of live paths alone (and a record it cannot read stops gc
before anything is deleted: when in doubt, keep).

The lock protocol (after Nix): whoever may link a store path holds the gc lock
shared from choosing the path until it is reachable from a root; `collect`
holds it exclusive while it marks and sweeps, so nothing it considers dead can
be linked meanwhile. SIGINT and SIGTERM during a collection stop it between two
store paths (`store.sweep.StopSignals`): it exits as `Interrupted`, each path
either whole in the store or out of it.

Only `os` at import time: ``omg gc`` calls `collect` from its lean path.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from generations import links
from store.fsutil import unlink_quietly, walk_tree
from store.results import SHAPES, many

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from generations.keep import KeepPolicy
    from store.index import Index
    from store.layout import Layout
    from store.local import LocalStore
    from store.sweep import StopSignals

    #: A path's references: a mapping, or a function answering for a batch of names.
    References = Mapping[str, Iterable[str]] | Callable[[list[str]], Mapping[str, Iterable[str]]]


def plan_gc(all_paths: Iterable[str], roots: Iterable[str],
            references: References) -> set[str]:
    """Store paths not in the closure of `roots` (roots not in `all_paths` are ignored).

    `references` is asked only about live paths, one batch per level of the walk.
    """
    everything = set(all_paths)
    fetch = references if callable(references) else lambda _names: references
    live: set[str] = set()
    level = sorted({r for r in roots if r in everything})
    while level:
        live.update(level)
        refs = fetch(level)
        level = sorted({r for name in level for r in refs.get(name, ())
                        if r in everything and r not in live})
    return everything - live


def _store_name_of(store_real: str, target: str) -> str | None:
    """The store path a link target lands in (following links through profiles)."""
    real = os.path.realpath(target)
    if not real.startswith(store_real + os.sep):
        return None
    first = real[len(store_real) + 1:].split(os.sep, 1)[0]
    return first if _is_store_name(first) else None


def _is_store_name(name: str) -> bool:
    from store.sweep import is_store_name

    return is_store_name(name)


def find_roots(layout: Layout, stale: list[str] | None = None,
               ignore: set[str] | frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """Store path name -> the roots that hold it (for `omg gc --print-roots` and tests).

    Temporary roots of processes that are gone hold nothing; their files are added
    to `stale`, if given, for the collector to remove. Generation links in `ignore`
    (those a dry run would have deleted) hold nothing either.
    """
    from generations.temproots import stale as is_stale

    roots: dict[str, list[str]] = {}

    def add(name: str | None, why: str) -> None:
        if name:
            roots.setdefault(name, []).append(why)

    for _user, directory, name in links.profiles_in(os.fspath(layout.profiles)):
        # The links are the roots: no record is read, so a corrupt one cannot stop gc.
        for n in links.numbers(directory, name):
            if ignore and links.gen_link(directory, name, n) in ignore:
                continue
            env = links.env_of(directory, name, n)
            if env and _is_store_name(env):
                add(env, links.gen_link(directory, name, n))
    store_real = os.path.realpath(layout.store)
    temproots = os.fspath(layout.temproots)
    for base in (os.fspath(layout.gcroots), temproots):
        for dirpath, dirnames, filenames in walk_tree(base, onerror=_skip):
            for entry in dirnames + filenames:
                full = os.path.join(dirpath, entry)
                if os.path.islink(full):
                    add(_store_name_of(store_real, full), full)
                elif base == temproots and entry in filenames:
                    if is_stale(entry):
                        if stale is not None:
                            stale.append(full)
                        continue
                    for line in _lines(full):
                        if _is_store_name(line):
                            add(line, full)
    return roots


def _skip(exc: OSError) -> None:
    """A roots directory that is not there (or went away) holds no roots."""


def _lines(path: str) -> list[str]:
    try:
        with open(path) as f:
            return [line.strip() for line in f]
    except OSError:
        return []


class GcResult(NamedTuple):
    dead: list[str]
    freed_bytes: int
    dry_run: bool
    deleted_generations: list[tuple[str, int]]
    live: int
    #: Files of the download cache removed (omg.cache_prune), and their bytes.
    cache_files: int = 0
    cache_bytes: int = 0


SHAPES[GcResult] = {"deleted_generations": many(lambda p: (str(p[0]), int(p[1])))}


def expire(layout: Layout, now: float, *, older_than: float | None = None,
           policy: KeepPolicy | None = None, index: Index | None = None,
           dry_run: bool = False) -> list[tuple[str, int, str]]:
    """Delete the generations `generations.keep.expired` chooses in every profile
    (only list them when `dry_run`): (user/profile, number, its link) each."""
    from generations.keep import expired
    from generations.profile import all_profiles, current_number, delete, generations

    out: list[tuple[str, int, str]] = []
    if older_than is None and (policy is None or not policy.active):
        return out  # nothing to choose: no profile needs its lock
    for ref in all_profiles(layout):
        with ref.locked():
            cur = current_number(ref)
            gens = [(g.number, g.time) for g in generations(ref, strict=False)]
            for n in expired(gens, cur, now, older_than=older_than, policy=policy):
                out.append((f"{ref.user}/{ref.label}", n, ref.gen_link(n)))
                if not dry_run:
                    delete(ref, n, index)
    return out


def collect(store: LocalStore, *, dry_run: bool = False, older_than: float | None = None,
            policy: KeepPolicy | None = None, now: float = 0.0,
            progress: Callable[[str], None] | None = None) -> GcResult:
    """Mark and sweep under the exclusive gc lock; `store` is a `LocalStore`.

    First the generations older than `older_than` (seconds) or not kept by `policy`
    are deleted; with `dry_run` they are only listed, and the marking leaves their
    links out, so the paths it reports are those a real run would delete. A SIGINT
    or SIGTERM (in the main thread) stops it between two store paths with
    `Interrupted`.
    """
    from store.sweep import StopSignals

    layout = store.layout
    gone = expire(layout, now, older_than=older_than, policy=policy,
                  index=None if dry_run else store.index, dry_run=dry_run)
    deleted_gens = [(who, n) for who, n, _ in gone]
    with store.gc_guard(exclusive=True), StopSignals() as stop:
        names = store.names()
        stale: list[str] = []
        roots = find_roots(layout, stale, ignore={link for _, _, link in gone})
        _ = store.index  # opened before anything moves: a damaged one stops gc here
        dead = sorted(plan_gc(names, roots, store.references))
        live = len(names) - len(dead)
        if dry_run:
            sizes = store.sizes(dead)
            return GcResult(dead, sum(sizes.values()), True, deleted_gens, live)
        _stopped(stop, 0, len(dead))
        for path in stale:
            unlink_quietly(path)
        result = store.sweep(dead, stop.__bool__)
        if not result.complete:
            _stopped(stop, len(result.deleted), len(dead))
    return GcResult(result.deleted, result.freed_bytes, False, deleted_gens, live)


def _stopped(stop: StopSignals, done: int, dead: int) -> None:
    """Raise `Interrupted` if a signal came: the one line an interrupted gc prints."""
    if not stop:
        return
    from store.errors import Interrupted

    raise Interrupted(f"gc interrupted: {done} of {dead} dead store paths removed; "
                      "run `omg gc` again to finish")
