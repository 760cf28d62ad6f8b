"""Arch packages in a profile env (pure planning): a package's ``usr/`` is mapped onto
the env's top level, its dependencies come in with it, and envs without packages keep
their bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from generations.env import plan_env
from generations.manifest import ToolInput, parse_manifest

Tree = dict[str, list[tuple[str, bool]]]

PKG: Tree = {"": [("etc", True), ("usr", True)], "etc": [("foo.conf", False)],
             "usr": [("bin", True), ("share", True)],
             "usr/bin": [("foo", False), ("shared", False)],
             "usr/share": [("man", True), ("bash-completion", True)],
             "usr/share/man": [("man1", True)],
             "usr/share/man/man1": [("foo.1.gz", False)]}
DEP: Tree = {"": [("usr", True)], "usr": [("bin", True)],
             "usr/bin": [("libfoo-tool", False), ("shared", False)]}
RUNTIME: Tree = {"": [("bin", True), ("share", True), ("usr", True)],
                 "bin": [("node", False)], "share": [("man", True)],
                 "share/man": [("man1", True)], "share/man/man1": [("node.1", False)]}
STORE = {"pkg": PKG, "dep": DEP, "node": RUNTIME}


def lister(store_path: str, rel: str) -> list[tuple[str, bool]] | None:
    return STORE[store_path].get(rel)


FOO = ToolInput("foo", "1.0-1", "pkg", deps=(("libfoo", "2.0-1", "dep"),))


def test_a_package_s_usr_is_the_env_s_top_level() -> None:
    plan = plan_env([ToolInput("node", "22", "node"), FOO], lister)
    assert plan.links["bin/foo"] == "../../pkg/usr/bin/foo"
    assert plan.links["share/man/man1/foo.1.gz"] == "../../../../pkg/usr/share/man/man1/foo.1.gz"
    assert plan.links["share/man/man1/node.1"] == "../../../../node/share/man/man1/node.1"
    assert plan.links["share/bash-completion"] == "../../pkg/usr/share/bash-completion"
    assert not any(rel.startswith("usr") for rel in plan.links)
    assert "etc/foo.conf" not in plan.links  # a package's /etc is the system's business
    assert plan.executables["foo"] == "foo" and plan.executables["node"] == "node"


def test_dependencies_come_in_and_lose_to_their_package() -> None:
    plan = plan_env([FOO], lister)
    assert plan.links["bin/libfoo-tool"] == "../../dep/usr/bin/libfoo-tool"
    assert plan.executables["libfoo-tool"] == "libfoo"
    assert plan.links["bin/shared"] == "../../pkg/usr/bin/shared"  # the package wins
    assert [(c.path, c.winner, c.loser) for c in plan.conflicts] == [
        ("bin/shared", "foo", "libfoo")]
    assert plan.references == ["dep", "pkg"]  # the env keeps the dependency alive
    assert [t.tool for t in plan.tools] == ["foo"]  # a dependency is not a tool of its own
    manifest = parse_manifest(plan.manifest_bytes(), "env")
    assert manifest["tools"][0]["deps"] == [["libfoo", "2.0-1", "dep"]]


def test_a_dependency_also_used_as_a_tool_is_linked_once() -> None:
    plan = plan_env([FOO, ToolInput("libfoo", "2.0-1", "dep")], lister)
    assert plan.links["bin/libfoo-tool"] == "../../dep/usr/bin/libfoo-tool"
    assert plan.links["bin/shared"] == "../../dep/usr/bin/shared"  # the later tool wins
    assert {(c.path, c.winner, c.loser) for c in plan.conflicts} == {
        ("bin/shared", "libfoo", "foo")}


def test_envs_without_dependencies_keep_their_manifest_bytes() -> None:
    plan = plan_env([ToolInput("node", "22", "node")], lister)
    assert b'"deps"' not in plan.manifest_bytes()


def test_a_manifest_with_bad_deps_is_refused() -> None:
    import pytest

    from store.errors import IntegrityError

    raw = plan_env([FOO], lister).manifest_bytes().replace(b'"2.0-1"', b"2")
    with pytest.raises(IntegrityError):
        parse_manifest(raw, "env")


NAMES = st.text("abcdefgh.-_", min_size=1, max_size=6).filter(lambda n: n[0] not in ".-")


@given(st.dictionaries(st.sampled_from(["bin", "lib", "share", "include", "opt", "etc"]),
                       st.lists(NAMES, min_size=1, max_size=4, unique=True), max_size=5))
def test_every_link_of_a_package_points_into_its_usr(tops: dict[str, list[str]]) -> None:
    """Whatever a package holds under usr/, the env links ``X`` to ``usr/X`` of it, and
    nothing outside usr/ (a package's /opt, /etc) reaches the env."""
    tree: Tree = {"": [("usr", True), ("opt", True), ("etc", True)],
                  "opt": [("x", False)], "etc": [("conf", False)],
                  "usr": [(top, True) for top in sorted(tops)]}
    for top, names in tops.items():
        tree[f"usr/{top}"] = [(n, False) for n in sorted(names)]
    STORE["prop"] = tree
    try:
        plan = plan_env([ToolInput("p", "1", "prop")], lister)
    finally:
        del STORE["prop"]
    expected = {f"{top}/{n}" for top, names in tops.items() if top not in ("opt",)
                for n in names}
    assert set(plan.links) == expected
    for rel, target in plan.links.items():
        assert target == "../" * (rel.count("/") + 1) + "prop/usr/" + rel
