"""Exports in a profile env's plan: aliases as links, launchers as scripts (pure planning)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from generations.env import Export, launcher_script, plan_env
from generations.envstore import materialise
from generations.manifest import ToolInput, parse_manifest
from omg.exports import env_exports, launched, tool_exports

TREES: dict[str, dict[str, list[tuple[str, bool]]]] = {
    "aaa-bun-1.1.8": {"": [("bun", False)]},
    "bbb-python-3.12.5": {"": [("bin", True), ("lib", True)],
                          "bin": [("pip3", False), ("pip3.12", False), ("python3", False),
                                  ("python3-config", False), ("python3.12", False),
                                  ("python3.12-config", False)],
                          "lib": [("python3.12", True)]},
    "ccc-mytool-1": {"bin": [("python", False)]},
}


def lister(store_path: str, rel: str) -> list[tuple[str, bool]] | None:
    return TREES[store_path].get(rel)


BUN = ToolInput("bun", "1.1.8", "aaa-bun-1.1.8")
PY = ToolInput("python", "3.12.5", "bbb-python-3.12.5")
MINE = ToolInput("mytool", "1", "ccc-mytool-1")


def test_python3_and_its_versioned_name_are_launched_not_the_config_scripts() -> None:
    assert launched("python", "python3") and launched("python", "python3.12")
    assert not launched("python", "python3.12-config") and not launched("python", "python3x")
    assert not launched("bun", "bun")


def test_bun_gets_bin_bun_and_bunx_from_its_top_level_binary() -> None:
    plan = plan_env([BUN], lister, env_exports(lister))
    assert plan.links == {"bin/bun": "../../aaa-bun-1.1.8/bun",
                          "bin/bunx": "../../aaa-bun-1.1.8/bun"}
    assert plan.executables == {"bun": "bun", "bunx": "bun"}
    assert "bin" in plan.dirs and not plan.launchers


def test_python_is_launched_and_gets_python_and_pip() -> None:
    plan = plan_env([PY], lister, env_exports(lister))
    assert plan.launchers == {"bin/python": "../../bbb-python-3.12.5/bin/python3",
                              "bin/python3": "../../bbb-python-3.12.5/bin/python3",
                              "bin/python3.12": "../../bbb-python-3.12.5/bin/python3.12"}
    assert plan.links["bin/pip"] == "../../bbb-python-3.12.5/bin/pip3"
    assert plan.links["bin/python3-config"] == "../../bbb-python-3.12.5/bin/python3-config"
    assert {"python", "python3", "pip", "pip3"} <= set(plan.executables)
    manifest = parse_manifest(plan.manifest_bytes(), "test")
    assert manifest["launchers"] == plan.launchers


def test_a_later_tool_wins_an_alias_name_and_the_plan_is_deterministic() -> None:
    plan = plan_env([PY, MINE], lister, env_exports(lister))
    assert plan.links["bin/python"] == "../../ccc-mytool-1/bin/python"
    assert "bin/python" not in plan.launchers
    assert [(c.path, c.winner, c.loser) for c in plan.conflicts] == [
        ("bin/python", "mytool", "python")]
    again = plan_env([PY, MINE], lister, env_exports(lister))
    assert again.manifest_bytes() == plan.manifest_bytes()
    # The other order: python's alias wins, as a launcher.
    other = plan_env([MINE, PY], lister, env_exports(lister))
    assert other.launchers["bin/python"] == "../../bbb-python-3.12.5/bin/python3"


def test_an_alias_whose_target_is_missing_is_not_exported() -> None:
    trees = {"": [("bin", True)], "bin": [("python3.12", False)]}
    assert [e.name for e in tool_exports("python", trees.get)] == ["python3.12"]


def test_the_launcher_execs_its_target_by_the_physical_path(tmp_path: Path) -> None:
    store = tmp_path / "store"
    tool = store / "bbb-python-3.12.5" / "bin"
    tool.mkdir(parents=True)
    (tool / "python3.12").write_text('#!/bin/sh\necho "$0" "$@"\n')
    (tool / "python3.12").chmod(0o755)
    os.symlink("python3.12", tool / "python3")
    plan = plan_env([ToolInput("python", "3.12.5", "bbb-python-3.12.5")],
                    lambda sp, rel: sorted((e.name, e.is_dir(follow_symlinks=False))
                                           for e in os.scandir(store / sp / rel))
                    if (store / sp / rel).is_dir() else None,
                    lambda t: [Export("python3", "bin/python3", launcher=True)])
    materialise(store / "env", plan)
    # The profile is a symlink to the env, as profiles/<user>/<name> is.
    profile = tmp_path / "profiles" / "u" / "default"
    profile.parent.mkdir(parents=True)
    os.symlink("../../store/env", profile)
    out = subprocess.run([str(profile / "bin" / "python3"), "a b", "$c"], capture_output=True,
                         text=True, check=True, cwd=tmp_path)
    assert out.stdout == f"{tool.resolve()}/python3 a b $c\n"
    assert launcher_script("../../x y/bin/python3").startswith(b"#!/bin/sh\n")


def test_an_edit_of_the_exports_table_starts_the_catalogue_afresh() -> None:
    """The catalogue keeps `use` answers (envs) per code stamp: the table plans envs too."""
    import omg.exports
    from generations.catalogue import code_stamp
    from omg.profiles import catalogue_sources

    path = omg.exports.__file__
    st = os.stat(path)
    before = code_stamp(catalogue_sources())
    try:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        assert code_stamp(catalogue_sources()) != before
    finally:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
