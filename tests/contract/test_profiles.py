"""The contract of the profile methods: use, sync, uninstall, rollback, generations,
delete_generations, current, which, diff; the same on both backends (conftest.py)."""

from __future__ import annotations

import pytest

from generations.manifest import Conflict
from omg.backend import Backend
from omg.profiles import (
    CurrentInfo,
    DeleteResult,
    GenerationDiff,
    ResolvedTool,
    SwitchResult,
    UninstallResult,
    UseResult,
    WhichInfo,
)
from tests.contract.conftest import Failure, Kit


def _add(backend: Backend, kit: Kit, tool: str, version: str,
         exes: tuple[str, ...] = ()) -> str:
    return backend.store_add(kit.tree(tool, version, exes), tool, version).record.path


# use ---------------------------------------------------------------------------------


def test_use_of_an_added_tool_makes_and_switches_to_a_generation(backend: Backend,
                                                                  kit: Kit) -> None:
    tool = _add(backend, kit, "tool", "1.0")
    used = backend.use(["tool@1.0"])
    assert isinstance(used, UseResult)
    assert used == UseResult("default", 1, used.env, [ResolvedTool("tool", "1.0", tool, ())],
                             [], False, [], [])
    assert kit.store_path(used.env).is_dir()
    again = backend.use(["tool@1"])  # the same tools: no new generation
    assert again == used._replace(unchanged=True)
    now = backend.current()
    assert now == CurrentInfo("default", 1, used.env,
                              str(kit.home / "profiles" / kit.user / "default" / "bin"),
                              [ResolvedTool("tool", "1.0", tool, ())])


def test_use_reports_the_conflicts_the_new_tools_win(backend: Backend, kit: Kit) -> None:
    a = _add(backend, kit, "aaa", "1.0", ("shared", "only-a"))
    b = _add(backend, kit, "bbb", "2.0", ("shared",))
    backend.use(["aaa@1.0"])
    used = backend.use(["bbb@2.0"])
    assert used.generation == 2
    assert used.tools == [ResolvedTool("bbb", "2.0", b, ())]
    assert used.conflicts == [Conflict("bin/shared", "bbb", "aaa")]
    assert isinstance(used.conflicts[0], Conflict)
    assert backend.which("shared").store_path == b
    assert backend.which("only-a") == WhichInfo(
        "only-a", "aaa", "1.0", a, str(kit.store_path(a) / "bin" / "only-a"))


def test_use_sees_what_the_same_backend_added_or_collected(backend: Backend, kit: Kit) -> None:
    one = _add(backend, kit, "tool", "1.0")
    env = backend.use(["tool@1.0"]).env
    two = _add(backend, kit, "tool", "2.0")  # after a use listed the store
    assert backend.use(["tool@2.0"]).tools == [ResolvedTool("tool", "2.0", two, ())]
    backend.delete_generations([1])
    assert backend.use(["tool@1.0"], profile="other").env == env
    backend.uninstall(["tool"], profile="other")
    backend.delete_generations(keep=0, profile="other")  # all but the current one
    assert sorted(backend.gc().dead) == sorted([one, env])
    assert kit.fails(lambda: backend.use(["tool@1.0"])) == Failure(
        "NotFound", "no version of tool matches '1.0' (installed: 2.0)", None, 3)


def test_use_carries_the_environment_a_record_names(backend: Backend, kit: Kit) -> None:
    origin = {"env": {"TOOL_HOME": "/opt/tool", "TOOL_MODE": "fast"}}
    path = backend.store_add(kit.tree("tool", "1.0"), "tool", "1.0", origin=origin).record.path
    used = backend.use(["tool@1"])
    assert used.tools == [ResolvedTool("tool", "1.0", path,
                                       (("TOOL_HOME", "/opt/tool"), ("TOOL_MODE", "fast")))]
    assert backend.current().tools == used.tools


def test_use_installs_a_version_the_store_lacks_from_the_mirror(backend: Backend,
                                                                 kit: Kit) -> None:
    used = backend.use(["node@20.10.0"])
    [node] = used.tools
    assert (node.tool, node.version, used.generation) == ("node", "20.10.0", 1)
    assert [(v.tool, v.version) for v in backend.installed()] == [("node", "20.10.0")]
    assert backend.which("node").store_path == node.store_path


def test_use_of_a_range_picks_the_highest_matching_release(backend: Backend, kit: Kit) -> None:
    used = backend.use(["node@^20"])
    assert [(t.tool, t.version) for t in used.tools] == [("node", "20.12.0")]
    # Now the store can answer: a narrower range is resolved without the mirror.
    narrower = backend.use(["node@>=20.11 <21"], profile="other")
    assert [(t.version, t.store_path) for t in narrower.tools] == \
        [("20.12.0", used.tools[0].store_path)]


def test_use_of_an_unknown_version_is_not_found_and_changes_nothing(backend: Backend,
                                                                     kit: Kit) -> None:
    failure = kit.fails(lambda: backend.use(["node@19.1.0"]))
    assert (failure.kind, failure.exit_code) == ("NotFound", 3)
    assert "19.1.0" in failure.message
    assert backend.generations() == [] and backend.installed() == []


@pytest.mark.parametrize("spec", ["node@", "@20", "node@^^20", "no de@1"])
def test_use_of_a_malformed_spec_is_a_usage_error(backend: Backend, kit: Kit,
                                                  spec: str) -> None:
    failure = kit.fails(lambda: backend.use([spec]))
    assert (failure.kind, failure.exit_code) == ("UsageError", 2)
    assert failure.message.startswith("malformed ")
    assert backend.generations() == []


def test_use_of_nothing_is_a_usage_error(backend: Backend, kit: Kit) -> None:
    assert kit.fails(lambda: backend.use([])) == Failure(
        "UsageError", "nothing to use: give TOOL@VERSION, e.g. node@20", None, 2)


def test_use_with_a_project_writes_its_version_files(backend: Backend, kit: Kit) -> None:
    project = kit.project("app")
    used = backend.use(["node@20.10"], project=project)
    assert used.profile == f"project {project}"
    assert used.version_files == [str(project / ".node-version")]
    assert (project / ".node-version").read_text() == "20.10\n"
    assert [t.version for t in used.tools] == ["20.10.0"]
    assert backend.current(project=project).tools == used.tools
    assert backend.current().generation is None  # the default profile is untouched


# sync ----------------------------------------------------------------------------------


def test_sync_builds_the_project_profile_from_its_version_files(backend: Backend,
                                                                 kit: Kit) -> None:
    project = kit.project("app", {".node-version": "20.11.1\n"})
    (project / "src").mkdir()
    synced = backend.sync(project / "src")
    assert synced.profile == f"project {project}"
    assert [(t.tool, t.version) for t in synced.tools] == [("node", "20.11.1")]
    assert synced.version_files == [] and not synced.unchanged
    assert [g.command for g in backend.generations(project=project)] == ["omg sync"]
    assert backend.sync(project).unchanged


def test_sync_without_version_files_is_not_found(backend: Backend, kit: Kit) -> None:
    bare = kit.project("bare")
    assert kit.fails(lambda: backend.sync(bare)) == Failure(
        "NotFound", "no version file in <root>/projects/bare or above",
        "omg use --local TOOL@VERSION", 3)


# uninstall -----------------------------------------------------------------------------


def test_uninstall_makes_a_generation_without_the_tool(backend: Backend, kit: Kit) -> None:
    _add(backend, kit, "tool", "1.0")
    other = _add(backend, kit, "other", "2.0")
    backend.use(["tool@1.0", "other@2.0"])
    gone = backend.uninstall(["tool"])
    assert gone == UninstallResult("default", 2, gone.env, ["tool@1.0"])
    assert backend.current().tools == [ResolvedTool("other", "2.0", other, ())]
    assert [g.command for g in backend.generations()] == [
        "omg use tool@1.0 other@2.0", "omg uninstall tool"]


def test_uninstall_of_what_the_profile_lacks_is_not_found(backend: Backend, kit: Kit) -> None:
    assert kit.fails(lambda: backend.uninstall(["tool"])) == Failure(
        "NotFound", "tool is neither installed nor in default (it holds nothing)",
        "omg list", 3)
    _add(backend, kit, "tool", "1.0")
    backend.use(["tool@1.0"])
    assert kit.fails(lambda: backend.uninstall(["tool@2"])) == Failure(
        "NotFound", "tool@2 is neither installed nor in default (it holds tool@1.0)",
        "omg list", 3)
    assert kit.fails(lambda: backend.uninstall([])).exit_code == 2
    assert [g.number for g in backend.generations()] == [1]


# rollback ------------------------------------------------------------------------------


def _three_generations(backend: Backend, kit: Kit) -> list[str]:
    paths = [_add(backend, kit, "tool", v) for v in ("1.0", "2.0", "3.0")]
    for v in ("1.0", "2.0", "3.0"):
        backend.use([f"tool@{v}"])
    return paths


def test_rollback_switches_to_the_previous_or_a_named_generation(backend: Backend,
                                                                  kit: Kit) -> None:
    _three_generations(backend, kit)
    back = backend.rollback()
    assert back == SwitchResult("default", 3, 2, {"tool": "2.0"})
    assert backend.rollback(to=3) == SwitchResult("default", 2, 3, {"tool": "3.0"})
    assert backend.rollback(to=1) == SwitchResult("default", 3, 1, {"tool": "1.0"})
    assert backend.current().generation == 1
    assert [g.current for g in backend.generations()] == [True, False, False]


def test_rollback_with_nowhere_to_go_is_not_found(backend: Backend, kit: Kit) -> None:
    assert kit.fails(backend.rollback) == Failure(
        "NotFound", "profile default has no generations", "omg use TOOL@VERSION", 3)
    _add(backend, kit, "tool", "1.0")
    backend.use(["tool@1.0"])
    assert kit.fails(backend.rollback) == Failure(
        "NotFound", "profile default has no generation before 1", None, 3)
    assert kit.fails(lambda: backend.rollback(to=7)) == Failure(
        "NotFound", "profile default has no generation 7", "generations: 1", 3)


# generations, delete_generations ----------------------------------------------------------


def test_generations_list_each_with_its_tools_and_changes(backend: Backend, kit: Kit) -> None:
    paths = _three_generations(backend, kit)
    gens = backend.generations()
    assert [(g.number, g.command, g.current, g.tools, g.changes, g.missing) for g in gens] == [
        (1, "omg use tool@1.0", False, {"tool": "1.0"}, ["+tool 1.0"], False),
        (2, "omg use tool@2.0", False, {"tool": "2.0"}, ["tool 1.0 -> 2.0"], False),
        (3, "omg use tool@3.0", True, {"tool": "3.0"}, ["tool 2.0 -> 3.0"], False)]
    assert gens[0].time <= gens[1].time <= gens[2].time
    assert gens[2].env == backend.current().env and gens[0].env != gens[2].env
    assert all(kit.store_path(p).is_dir() for p in paths)
    assert kit.fails(lambda: backend.generations(profile="other")).message == \
        "no profile 'other' (profiles: default)"


def test_delete_generations_by_number_keep_and_age(backend: Backend, kit: Kit) -> None:
    _three_generations(backend, kit)
    backend.use(["tool@1.0"])  # generation 4, current
    assert backend.delete_generations([1]) == DeleteResult("default", [1], 4)
    assert backend.delete_generations(keep=2) == DeleteResult("default", [2], 4)
    assert backend.delete_generations(older_than=3600.0) == DeleteResult("default", [], 4)
    assert backend.delete_generations(older_than=0.0) == DeleteResult("default", [3], 4)
    assert [g.number for g in backend.generations()] == [4]


def test_delete_generations_refuses_the_current_one_and_unknown_ones(backend: Backend,
                                                                     kit: Kit) -> None:
    _three_generations(backend, kit)
    assert kit.fails(lambda: backend.delete_generations([3])) == Failure(
        "UsageError", "generation 3 is the current generation of profile default",
        "switch away first (omg rollback)", 2)
    assert kit.fails(lambda: backend.delete_generations([9])) == Failure(
        "NotFound", "profile default has no generation 9", None, 3)
    assert kit.fails(lambda: backend.delete_generations()) == Failure(
        "UsageError", "say which generations: numbers, --older-than AGE or --keep K", None, 2)
    assert kit.fails(lambda: backend.delete_generations(keep=-1)) == Failure(
        "UsageError", "--keep must be 0 or more", None, 2)
    assert [g.number for g in backend.generations()] == [1, 2, 3]


# current, which, diff ---------------------------------------------------------------------


def test_current_of_an_empty_profile(backend: Backend, kit: Kit) -> None:
    # The default profile reads as empty before its first `use`; a named profile
    # that does not exist is a typo, said so (exit 3), not an empty answer.
    assert backend.current() == CurrentInfo(
        "default", None, "", str(kit.home / "profiles" / kit.user / "default" / "bin"), [])
    assert kit.fails(lambda: backend.current(profile="work")) == Failure(
        "NotFound", "no profile 'work' (profiles: none yet)",
        "omg use TOOL@VERSION --profile work makes it", 3)


def test_which_names_the_tool_and_file_behind_an_executable(backend: Backend,
                                                            kit: Kit) -> None:
    tool = _add(backend, kit, "tool", "1.0", ("tool", "helper"))
    assert kit.fails(lambda: backend.which("helper")) == Failure(
        "NotFound", "profile default has no generations", "omg use TOOL@VERSION", 3)
    backend.use(["tool@1.0"])
    assert backend.which("helper") == WhichInfo(
        "helper", "tool", "1.0", tool, str(kit.store_path(tool) / "bin" / "helper"))
    assert kit.fails(lambda: backend.which("nope")) == Failure(
        "NotFound", "'nope' is not in profile default (generation 1)", None, 3)
    assert kit.fails(lambda: backend.which("bin/tool")) == Failure(
        "UsageError", "invalid executable name 'bin/tool'", None, 2)


def test_diff_names_what_was_added_removed_and_changed(backend: Backend, kit: Kit) -> None:
    for tool, version in (("a", "1"), ("a", "2"), ("b", "1"), ("c", "1")):
        _add(backend, kit, tool, version)
    backend.use(["a@1", "b@1"])
    backend.use(["a@2", "c@1"])
    backend.uninstall(["b"])
    assert backend.diff(1, 3) == GenerationDiff(1, 3, {"c": "1"}, {"b": "1"},
                                                {"a": ("1", "2")})
    assert backend.diff(3, 3) == GenerationDiff(3, 3, {}, {}, {})
    assert kit.fails(lambda: backend.diff(1, 5)) == Failure(
        "NotFound", "profile default has no generation 5", None, 3)


def test_every_profile_method_acts_on_a_project_profile(backend: Backend, kit: Kit) -> None:
    project = kit.project("app")
    one = _add(backend, kit, "tool", "1.0")
    _add(backend, kit, "tool", "2.0")
    label = f"project {project}"
    backend.use(["tool@1.0"], project=project)
    backend.use(["tool@2.0"], project=project)
    assert (project / ".tool-versions").read_text() == "tool 2.0\n"
    assert [g.number for g in backend.generations(project=project)] == [1, 2]
    assert backend.diff(1, 2, project=project).changed == {"tool": ("1.0", "2.0")}
    assert backend.rollback(project=project) == SwitchResult(label, 2, 1, {"tool": "1.0"})
    assert backend.which("tool", project=project).store_path == one
    assert backend.delete_generations([2], project=project) == DeleteResult(label, [2], 1)
    gone = backend.uninstall(["tool"], project=project)
    assert (gone.profile, gone.generation, gone.removed) == (label, 3, ["tool@1.0"])
    assert backend.current(project=project).tools == []
    assert backend.generations() == []  # the default profile was never touched
    # The project's profile is a gc root: its generation 1 keeps tool 1.0.
    assert one not in backend.gc(dry_run=True).dead


def test_profile_methods_refuse_a_bad_profile_name(backend: Backend, kit: Kit) -> None:
    failure = kit.fails(lambda: backend.generations(profile="../x"))
    assert (failure.kind, failure.exit_code) == ("UsageError", 2)
    assert kit.fails(lambda: backend.rollback(profile="../x")) == failure



# exec ---------------------------------------------------------------------------------


def test_exec_env_builds_an_env_rooted_for_this_process_and_makes_no_generation(
        backend: Backend, kit: Kit) -> None:
    import os

    from omg.environment import ExecEnv

    tool = _add(backend, kit, "tool", "1.0", ("tool", "helper"))
    result = backend.exec_env(["tool@1"], pid=os.getpid())
    assert isinstance(result, ExecEnv)
    assert result.tools == [ResolvedTool("tool", "1.0", tool, ())]
    assert (kit.store_path(result.env) / "bin" / "helper").exists()
    root = kit.home / "temproots" / kit.user
    assert result.root.startswith(str(root) + f"/{os.getpid()}-")
    assert (root / os.path.basename(result.root)).read_text() == result.env + "\n"
    assert backend.generations() == []
    assert backend.gc().dead == []  # the env and the tool it links are held
    assert kit.fails(lambda: backend.exec_env([], pid=os.getpid())).exit_code == 2
    assert kit.fails(lambda: backend.exec_env(["tool@2"], pid=os.getpid())).exit_code == 3
