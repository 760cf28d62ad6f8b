"""Profile env planning (pure) and building: forest shape, conflicts, determinism."""

from __future__ import annotations

import os
from pathlib import Path

from generations.env import ToolInput, plan_env
from generations.envstore import build_env

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
        assert not list((w.layout.profiles / ".build").glob("*-*[!k]"))
    finally:
        w.close()
