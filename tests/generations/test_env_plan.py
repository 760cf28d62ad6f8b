"""Profile env planning (pure) and building: forest shape, conflicts, determinism."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from generations.env import plan_env
from generations.envstore import build_env
from generations.manifest import ToolInput, parse_manifest
from store.errors import IntegrityError

from .helpers import World

TREES = {
    "n": {"bin": [("node", False), ("npm", False)], "lib": [("node_modules", True)],
          "share": [("man", True)], "lib/node_modules": [("npm", True)]},
    "p": {"bin": [("python", False), ("node", False)], "share": [("man", True)],
          "share/man": [("man1", True)]},
}
TREES["n"]["share/man"] = [("man1", True)]
TREES["n"]["share/man/man1"] = [("node.1", False)]
TREES["p"]["share/man/man1"] = [("python.1", False)]


def lister(store_path: str, rel: str) -> list[tuple[str, bool]] | None:
    return TREES[store_path].get(rel)


def test_plan_links_and_conflicts() -> None:
    n, p = ToolInput("node", "20", "n"), ToolInput("python", "3", "p")
    plan = plan_env([n, p], lister)
    assert plan.links["bin/node"] == "../../p/bin/node"  # later wins
    assert plan.links["bin/npm"] == "../../n/bin/npm"
    assert plan.links["lib/node_modules"] == "../../n/lib/node_modules"  # one link, not a tree
    # share/man is provided by both: merged down to the files.
    assert plan.links["share/man/man1/node.1"] == "../../../../n/share/man/man1/node.1"
    assert plan.links["share/man/man1/python.1"] == "../../../../p/share/man/man1/python.1"
    assert [(c.path, c.winner, c.loser) for c in plan.conflicts] == [("bin/node", "python",
                                                                      "node")]
    assert plan.executables == {"node": "python", "npm": "node", "python": "python"}
    other = plan_env([p, n], lister)
    assert other.executables["node"] == "node"
    assert other.manifest_bytes() != plan.manifest_bytes()


def test_plan_is_deterministic_and_set_like() -> None:
    n, p = ToolInput("node", "20", "n"), ToolInput("python", "3", "p")
    a = plan_env([n, p], lister).manifest_bytes()
    assert a == plan_env([n, p], lister).manifest_bytes()
    assert b'"time"' not in a
    # A tool named twice keeps its last entry.
    n2 = ToolInput("node", "21", "n")
    assert [t.version for t in plan_env([n, p, n2], lister).tools] == ["3", "21"]


def test_build_is_content_addressed(tmp_path: Path) -> None:
    w = World(tmp_path)
    try:
        node = w.add("node", "20.1.0", ["node", "npm"])
        py = w.add("python", "3.12.0", ["python"])
        tools = [ToolInput("node", "20.1.0", node), ToolInput("python", "3.12.0", py)]

        def ls(sp: str, rel: str) -> list[tuple[str, bool]] | None:
            try:
                return sorted((e.name, e.is_dir()) for e in os.scandir(w.layout.store / sp / rel))
            except FileNotFoundError:
                return None

        a = build_env(w.layout, w.store.index, plan_env(tools, ls))
        b = build_env(w.layout, w.store.index, plan_env(tools, ls))
        assert a == b
        env = w.layout.store_path(a)
        assert os.readlink(env / "bin" / "node") == f"../../{node}/bin/node"
        assert (env / "bin" / "python").resolve() == (w.layout.store_path(py) / "bin" /
                                                      "python").resolve()
        assert not os.access(env, os.W_OK) or os.getuid() == 0
        assert oct(env.stat().st_mode & 0o777) == "0o555"
        rec = w.store.get(a)
        assert set(rec.references) == {node, py}
        assert w.store.verify([a]) == []
        assert w.store.closure([a]) == {a, node, py}
        assert os.listdir(w.layout.staging) == []  # the build area went with the ingest
        assert not list(w.layout.store.glob(".pending-*"))
    finally:
        w.close()


def test_env_hash_is_stable(tmp_path: Path) -> None:
    """The env of a plan has the name it had when envs were published by hand.

    These names came from the previous `build_env` (its own claim/seal/rename
    code, before envs went through `LocalStore.add`); they also equal the
    canonical hash of the tree on disk. A change here orphans every user's
    cached envs, so it must be deliberate.
    """
    from store.hashing import digest_name, tree_digest
    from store.scan import scan

    w = World(tmp_path)
    try:
        node = w.add("node", "20.1.0", ["node", "npm"],
                     {"lib/node_modules/npm/package.json": "{}\n",
                      "share/man/man1/node.1": "node\n"})
        py = w.add("python", "3.12.0", ["python", "npm"], {"share/man/man1/python.1": "py\n"})
        assert (node, py) == ("f4owuvfqcybq2l7ry3ro56nsckckdo5p-node-20.1.0",
                              "ffa3k7bfpjyrux435pwvxpxrip3p6ddj-python-3.12.0")

        def ls(sp: str, rel: str) -> list[tuple[str, bool]] | None:
            try:
                with os.scandir(w.layout.store / sp / rel) as it:
                    return sorted((e.name, e.is_dir(follow_symlinks=False)) for e in it)
            except (FileNotFoundError, NotADirectoryError):
                return None

        tools = [ToolInput("node", "20.1.0", node), ToolInput("python", "3.12.0", py)]
        label = "profile-node-20.1.0+python-3.12.0"
        for order, digest in ((tools, "h4i5cwygmel5i72q24ntzptlz2exn2y3"),
                              (tools[::-1], "uavyhnkceovqorpf7ue5z63yqy6xoubv")):
            name = build_env(w.layout, w.store.index, plan_env(order, ls))
            assert name == f"{digest}-{label}"
            assert build_env(w.layout, w.store.index, plan_env(order, ls)) == name
            assert digest_name(tree_digest(scan(w.layout.store_path(name)))) == digest
            assert w.store.get(name).origin == {"kind": "profile-env"}
    finally:
        w.close()


# Property: random tool trees -----------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

NAMES = st.sampled_from(["a", "b", "c"])


def _tree(depth: int) -> st.SearchStrategy[dict[str, object]]:
    leaf = st.just(None)
    if depth == 0:
        return st.dictionaries(NAMES, leaf, max_size=3)
    return st.dictionaries(NAMES, st.one_of(leaf, _tree(depth - 1)), max_size=3)


TOOL_TREE = st.dictionaries(st.sampled_from(["bin", "lib", "share"]), _tree(2), max_size=3)


@given(st.lists(TOOL_TREE, min_size=1, max_size=3))
def test_plan_properties(trees: list[dict[str, object]]) -> None:
    def node_at(sp: str, rel: str) -> object:
        cur: object = trees[int(sp[1:])]
        for part in rel.split("/"):
            if not isinstance(cur, dict) or part not in cur:
                return "missing"
            cur = cur[part]
        return cur

    def ls(sp: str, rel: str) -> list[tuple[str, bool]] | None:
        cur = node_at(sp, rel)
        if not isinstance(cur, dict):
            return None
        return sorted((k, isinstance(v, dict)) for k, v in cur.items())

    tools = [ToolInput(f"tool{i}", "1", f"t{i}") for i in range(len(trees))]
    plan = plan_env(tools, ls)
    assert plan.manifest_bytes() == plan_env(tools, ls).manifest_bytes()
    for rel, target in plan.links.items():
        parts = target.split("/")
        assert parts[: rel.count("/") + 1] == [".."] * (rel.count("/") + 1)
        sp = parts[rel.count("/") + 1]
        assert "/".join(parts[rel.count("/") + 2:]) == rel
        assert node_at(sp, rel) != "missing"  # every link lands on something real
        assert not any(rel.startswith(other + "/") for other in plan.links)  # no nesting
        assert rel not in plan.dirs
    # every entry of every tool is reachable through the env
    for i, tree in enumerate(trees):
        def walk(prefix: str, sub: dict[str, object]) -> list[str]:
            out = []
            for k, v in sub.items():
                out.append(f"{prefix}{k}")
                if isinstance(v, dict):
                    out += walk(f"{prefix}{k}/", v)
            return out
        for top, sub in tree.items():
            if not isinstance(sub, dict):
                continue
            for rel in walk(f"{top}/", sub):
                covered = rel in plan.links or rel in plan.dirs or any(
                    rel.startswith(link + "/") for link in plan.links)
                assert covered, (i, rel)
    # the last tool providing bin/X wins it
    for exe, tool in plan.executables.items():
        providers = [i for i, t in enumerate(trees)
                     if isinstance(t.get("bin"), dict) and exe in t["bin"]]  # type: ignore[operator]
        assert tool == f"tool{providers[-1]}"


@pytest.mark.parametrize("manifest", [
    {"format": 1, "tools": [{"tool": "node", "version": "20"}]},
    {"format": 1, "tools": "node"},
    {"format": 1, "tools": [{"tool": "n", "version": "1", "store_path": "p", "env": {"A": 1}}]},
    {"format": 1, "executables": {"node": 7}},
    {"format": 1, "conflicts": [{"path": "bin/x", "winner": 2, "loser": "b"}]},
    {"tools": []}, {"format": "1"}, [1],
])
def test_a_manifest_of_another_shape_is_corrupt(manifest: object) -> None:
    """What the readers index without checks is checked once, where the file is read."""
    with pytest.raises(IntegrityError, match=r"^env-x: corrupt profile manifest"):
        parse_manifest(json.dumps(manifest).encode(), "env-x")


def test_a_planned_manifest_reads_back(tmp_path: Path) -> None:
    plan = plan_env([ToolInput("node", "20.1.0", "h" * 32 + "-node-20.1.0", (("A", "b"),))],
                    lambda store_path, rel: [("node", False)] if rel == "bin" else None)
    assert parse_manifest(plan.manifest_bytes(), "env-x") == plan.manifest()
