"""Profile use cases in-process: use, rollback, generations, delete, current, which, check."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from generations import profile as gp
from omg import profiles as P
from store.errors import NotFound, OmgError, UsageError
from store.fsutil import force_remove

from .helpers import USER, World, snapshot


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path)
    world.add("node", "18.19.0", ["node", "npm"])
    world.add("node", "20.1.0", ["node", "npm"])
    world.add("node", "20.10.0", ["node", "npm"])
    world.add("python", "3.12.1", ["python", "node"])
    yield world
    world.close()


def profile_link(w: World, name: str = "default") -> Path:
    return w.layout.profiles / USER / name


def run_bin(w: World, exe: str) -> str:
    import subprocess

    return subprocess.run([str(profile_link(w) / "bin" / exe)], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_use_rollback_and_continue(w: World) -> None:
    r = P.use(w.home, ["node@20"])
    assert (r.generation, r.tools[0].version) == (1, "20.10.0")
    assert os.readlink(profile_link(w)) == "default-1-link"
    assert run_bin(w, "node") == "node node 20.10.0"
    assert P.use(w.home, ["node@18"]).generation == 2
    assert run_bin(w, "node") == "node node 18.19.0"
    assert P.use(w.home, ["node@20.1"]).generation == 3
    rb = P.rollback(w.home)
    assert (rb.previous, rb.generation, rb.tools) == (3, 2, {"node": "18.19.0"})
    assert run_bin(w, "node") == "node node 18.19.0"
    assert P.rollback(w.home, to=1).generation == 1
    assert run_bin(w, "node") == "node node 20.10.0"
    # use after a rollback continues from the highest number
    assert P.use(w.home, ["python"]).generation == 4
    gens = P.list_generations(w.home)
    assert [g.number for g in gens] == [1, 2, 3, 4]
    assert [g.current for g in gens] == [False, False, False, True]
    assert gens[1].changes == ["node 20.10.0 -> 18.19.0"]
    assert gens[3].changes == ["node 20.1.0 -> 20.10.0", "+python 3.12.1"]
    assert gens[0].command == "omg use node@20"


def test_same_tools_same_env_and_idempotent_use(w: World) -> None:
    a = P.use(w.home, ["node@18"])
    b = P.use(w.home, ["node@18"])
    assert b.unchanged and b.generation == a.generation == 1
    c = P.use(w.home, ["node@20"])
    d = P.use(w.home, ["node@18"])
    assert d.env == a.env and d.generation == 3 and c.env != a.env
    # a separate profile with the same tools gets the same env store path
    assert P.use(w.home, ["node@18"], profile="work").env == a.env


def test_conflicting_executables_later_wins(w: World) -> None:
    P.use(w.home, ["node@20"])
    r = P.use(w.home, ["python"])
    assert [(c.path, c.winner, c.loser) for c in r.conflicts] == [("bin/node", "python",
                                                                   "node")]
    assert run_bin(w, "node") == "node python 3.12.1"
    assert run_bin(w, "npm") == "npm node 20.10.0"
    r = P.use(w.home, ["node@20"])  # node used again: it wins again
    assert [(c.path, c.winner) for c in r.conflicts] == [("bin/node", "node")]
    assert run_bin(w, "node") == "node node 20.10.0"
    assert P.which(w.home, "node").tool == "node"
    assert P.which(w.home, "python").tool == "python"


def test_several_specs_at_once_and_current_which(w: World) -> None:
    r = P.use(w.home, ["node@18.19.0", "python@3"])
    assert [t.tool for t in r.tools] == ["node", "python"]
    cur = P.current(w.home)
    assert cur.generation == 1
    assert sorted((t.tool, t.version) for t in cur.tools) == [("node", "18.19.0"),
                                                             ("python", "3.12.1")]
    wh = P.which(w.home, "npm")
    assert wh.version == "18.19.0" and wh.path.endswith("/bin/npm")
    assert wh.path.startswith(str(w.layout.store))
    with pytest.raises(NotFound):
        P.which(w.home, "ruby")
    manifest = json.loads((profile_link(w) / "manifest.json").read_text())
    assert manifest["format"] == 1 and manifest["executables"]["python"] == "python"


def test_diff_and_delete(w: World) -> None:
    P.use(w.home, ["node@18"], now=1000.0)
    P.use(w.home, ["python"], now=2000.0)
    P.use(w.home, ["node@20"], now=3000.0)
    P.use(w.home, ["node@20.1"], now=4000.0)
    d = P.diff_generations(w.home, 1, 3)
    assert d.added == {"python": "3.12.1"} and d.changed == {"node": ("18.19.0", "20.10.0")}
    assert P.delete_generations(w.home, [2]).deleted == [2]
    assert [g.number for g in P.list_generations(w.home)] == [1, 3, 4]
    res = P.delete_generations(w.home, older_than=2500.0, now=5000.0)
    assert res.deleted == [1]
    P.rollback(w.home)  # current is 3 now
    assert P.delete_generations(w.home, keep=0).deleted == [4]
    assert [g.number for g in P.list_generations(w.home)] == [3]
    assert P.use(w.home, ["node@18"]).generation == 5  # numbers are never reused


def test_delete_never_current(w: World) -> None:
    P.use(w.home, ["node@18"], now=1.0)
    P.use(w.home, ["node@20"], now=2.0)
    before = snapshot(w.layout.profiles, w.layout.store)
    with pytest.raises(UsageError):
        P.delete_generations(w.home, [1, 2])
    assert snapshot(w.layout.profiles, w.layout.store) == before
    assert P.delete_generations(w.home, older_than=0, now=100.0).deleted == [1]
    assert P.delete_generations(w.home, keep=0).deleted == []


@pytest.mark.parametrize("call", [
    lambda h: P.use(h, ["nodejs@20"]),
    lambda h: P.use(h, ["node@19"]),
    lambda h: P.use(h, ["node@20.1.0.9"]),
    lambda h: P.use(h, ["node@"]),
    lambda h: P.use(h, ["no de"]),
    lambda h: P.use(h, ["node@20", "python@2"]),  # all or nothing
    lambda h: P.use(h, []),
    lambda h: P.use(h, ["node@20"], profile="a/b"),
    lambda h: P.use(h, ["node@20"], profile=".."),
    lambda h: P.rollback(h, to=9),
    lambda h: P.delete_generations(h, [1]),
    lambda h: P.delete_generations(h, [7]),
    lambda h: P.diff_generations(h, 1, 8),
    lambda h: P.which(h, "../node"),
])
def test_bad_input_changes_nothing(w: World, call: object) -> None:
    P.use(w.home, ["node@18"])
    before = snapshot(w.layout.profiles, w.layout.store)
    with pytest.raises(OmgError) as exc:
        call(w.home)  # type: ignore[operator]
    assert "\n" not in exc.value.message
    assert snapshot(w.layout.profiles, w.layout.store) == before


def test_unknown_tool_names_installed(w: World) -> None:
    with pytest.raises(NotFound, match="installed: node, python"):
        P.use(w.home, ["ruby@3"])
    with pytest.raises(NotFound, match=r"installed: 18.19.0, 20.1.0, 20.10.0"):
        P.use(w.home, ["node@19"])


def test_rollback_without_previous(w: World) -> None:
    with pytest.raises(NotFound):
        P.rollback(w.home)
    P.use(w.home, ["node@18"])
    with pytest.raises(NotFound, match="before 1"):
        P.rollback(w.home)


def test_resolver_is_asked_only_when_the_store_cannot(w: World) -> None:
    asked: list[str] = []

    def resolver(spec: object) -> P.ResolvedTool | None:
        asked.append(str(spec))
        name = w.add("ruby", "3.3.0", ["ruby"])
        return P.ResolvedTool("ruby", "3.3.0", name)

    r = P.use(w.home, ["node@20", "ruby@3"], resolver=resolver)
    assert asked == ["ruby@3"]
    assert {t.tool for t in r.tools} == {"node", "ruby"}


def test_check_reports_missing_store_path(w: World) -> None:
    P.use(w.home, ["node@18"])
    P.use(w.home, ["node@20"])
    assert gp.check(w.layout) == []
    env1 = gp.env_of(P.Home(w.layout, USER).ref(), 1)
    force_remove(w.layout.store_path(env1))
    problems = gp.check(w.layout)
    assert len(problems) == 1 and problems[0].number == 1 and "missing" in str(problems[0])
    assert P.list_generations(w.home)[0].missing
    before = snapshot(w.layout.profiles)
    with pytest.raises(NotFound, match="missing"):
        P.rollback(w.home, to=1)
    assert snapshot(w.layout.profiles) == before
    # a runtime behind a live env missing too
    node20 = next(t.store_path for t in P.current(w.home).tools)
    force_remove(w.layout.store_path(node20))
    assert any(node20 in str(p) for p in gp.check(w.layout))


def test_rebuild_index(w: World) -> None:
    P.use(w.home, ["node@18"])
    P.use(w.home, ["node@20"], profile="work")
    w.store.index.clear(gp.INDEX_TABLE)
    assert P.rebuild_index(w.home) == 2
    rows = w.store.index.items(gp.INDEX_TABLE)
    assert sorted(r["profile"] for _, r in rows) == ["default", "work"]


def test_mirror_catches_up_after_the_fast_path(w: World) -> None:
    fast = P.Home(w.layout, USER, index=w.store.index, mirror=False)
    P.use(fast, ["node@18"])
    P.use(fast, ["node@20"])
    assert w.store.index.items(gp.INDEX_TABLE) == []
    P.list_generations(w.home)
    rows = w.store.index.items(gp.INDEX_TABLE)
    assert [r["number"] for _, r in rows] == [1, 2]
    P.delete_generations(fast, [1])
    assert gp.sync_mirror(w.store.index, w.home.ref()) == 1
    assert [r["number"] for _, r in w.store.index.items(gp.INDEX_TABLE)] == [2]


def test_crash_debris_is_harmless(w: World) -> None:
    """A record without its link (crash before the link) and a stray temporary link."""
    P.use(w.home, ["node@18"])
    ref = w.home.ref()
    Path(ref.gen_record(2)).write_text('{"format": 1, "number": 2}')  # crashed before its link
    os.symlink("default-1-link", Path(ref.directory) / ".default.tmp-99999")  # crashed swap
    assert [g.number for g in P.list_generations(w.home)] == [1]
    assert gp.current_number(ref) == 1
    assert P.use(w.home, ["node@20"]).generation == 3  # 2 is not reused
    assert not (Path(ref.directory) / ".default.tmp-99999").exists()  # debris cleaned under lock
    assert os.readlink(profile_link(w)) == "default-3-link"
    assert P.rollback(w.home).generation == 1


def test_newer_formats_are_refused(w: World) -> None:
    P.use(w.home, ["node@18"])
    ref = w.home.ref()
    Path(ref.gen_record(1)).chmod(0o644)
    Path(ref.gen_record(1)).write_text('{"format": 99, "number": 1}')
    with pytest.raises(OmgError, match="newer"):
        P.list_generations(w.home)


def test_use_over_a_missing_env_warns(w: World) -> None:
    P.use(w.home, ["python"])
    force_remove(w.layout.store_path(P.current(w.home).env))
    r = P.use(w.home, ["node@20"])
    assert r.generation == 2 and "missing store path" in r.warnings[0]
    assert [t.tool for t in P.current(w.home).tools] == ["node"]


def test_of_two_store_paths_with_one_version_the_one_added_last_wins(tmp_path: Path) -> None:
    """A rebuild of a version (other bytes, same name and version): `use` picks the
    newer, by exact version and by spec, through the store and through the catalogue."""
    import time

    w = World(tmp_path)
    try:
        first = w.add("tool", "1.0.0", extra={"build": "first"})
        time.sleep(0.01)
        second = w.add("tool", "1.0.0", extra={"build": "second"})
        assert first != second
        for _ in range(2):  # the second time, the catalogue answers
            for spec in ("tool@1.0.0", "tool@1"):
                assert P.use(w.home, [spec]).tools[0].store_path == second, spec
    finally:
        w.close()
