"""GC: pure planning (hypothesis), roots, sweeping, --dry-run, --older-than."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from generations.gc import find_roots, plan_gc
from omg import profiles as P

from .helpers import World, snapshot


@given(st.integers(1, 25).flatmap(lambda n: st.tuples(
    st.just(n),
    st.sets(st.integers(0, n - 1)),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))))
def test_plan_gc_keeps_exactly_the_closure(case: tuple[int, set[int], list[tuple[int, int]]]
                                           ) -> None:
    n, roots, edges = case
    names = [f"p{i}" for i in range(n)]
    refs: dict[str, list[str]] = {}
    for a, b in edges:
        refs.setdefault(names[a], []).append(names[b])
    dead = plan_gc(names, [names[r] for r in roots] + ["not-in-store"], refs)
    live = set(names) - dead
    # closed under references, contains the roots, and nothing else is reachable
    assert {names[r] for r in roots} <= live
    for a in live:
        assert set(refs.get(a, [])) <= live
    reach = {names[r] for r in roots}
    frontier = list(reach)
    while frontier:
        x = frontier.pop()
        for y in refs.get(x, []):
            if y not in reach:
                reach.add(y)
                frontier.append(y)
    assert live == reach


def test_gc_keeps_roots_closures_and_frees_the_rest(tmp_path: Path) -> None:
    w = World(tmp_path)
    try:
        lib = w.add("libfoo", "1.0", ["foo-config"])
        app = w.store.add(_dir(tmp_path, "app"), "app", "1.0", references=[lib]).record.path
        n18 = w.add("node", "18.0.0")
        n20 = w.add("node", "20.0.0")
        junk = w.add("junk", "1", ["junk"])
        rooted = w.add("venvpython", "3.12.0")
        (w.layout.gcroots / "venvs").mkdir(parents=True)
        os.symlink(str(w.layout.store_path(rooted)), w.layout.gcroots / "venvs" / "v1")
        os.symlink(str(w.layout.store_path(app)), w.layout.gcroots / "app")
        P.use(w.home, ["node@18"])
        P.use(w.home, ["node@20"], profile="other")
        roots = find_roots(w.layout)
        assert rooted in roots and app in roots
        before = snapshot(w.layout.store, w.layout.profiles)
        dry = P.gc(w.layout, dry_run=True, store=w.store)
        assert dry.dead == [junk] and dry.dry_run
        assert snapshot(w.layout.store, w.layout.profiles) == before
        res = P.gc(w.layout, store=w.store)
        assert res.dead == [junk] and res.freed_bytes > 0
        names = set(w.store.names())
        assert {lib, app, n18, n20, rooted} <= names and junk not in names
        # deleting a generation frees its env and runtime on the next gc
        P.use(w.home, ["node@20"])
        P.delete_generations(w.home, [1])
        res = P.gc(w.layout, store=w.store)
        assert n18 in res.dead and n20 not in res.dead
        assert P.list_generations(w.home)[0].number == 2
    finally:
        w.close()


def test_gc_older_than_deletes_old_generations_first_never_current(tmp_path: Path) -> None:
    w = World(tmp_path)
    try:
        n18 = w.add("node", "18.0.0")
        w.add("node", "20.0.0")
        P.use(w.home, ["node@18"], now=100.0)
        P.use(w.home, ["node@20"], now=200.0)
        res = P.gc(w.layout, older_than=50.0, store=w.store, now=1000.0)
        assert res.deleted_generations == [("tester/default", 1)]
        assert n18 in res.dead
        assert [g.number for g in P.list_generations(w.home)] == [2]
    finally:
        w.close()


def _dir(tmp: Path, name: str) -> Path:
    d = tmp / f"src-{name}"
    d.mkdir()
    (d / "data").write_text(name)
    return d


def test_a_corrupt_generation_record_does_not_stop_gc(tmp_path: Path) -> None:
    """The generation links are the roots; gc never needs to read a record."""
    w = World(tmp_path)
    try:
        n18 = w.add("node", "18.0.0")
        w.add("node", "20.0.0")
        first = P.use(w.home, ["node@18"])
        P.use(w.home, ["node@20"])
        Path(w.home.ref().gen_record(first.generation)).write_text("{not json")
        result = P.gc(w.layout, store=w.store)
        assert n18 not in result.dead  # generation 1 still holds it
        assert w.layout.store_path(first.env).is_dir()
    finally:
        w.close()
