"""`omg exec` / `omg x` and `omg env` end to end, and the temporary roots that keep an
exec'd command's tools from gc (generations/temproots.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generations import temproots
from generations.gc import find_roots
from tests.conftest import OmgEnv

from .helpers import cli_add, fake_tool


def _store_names(env: OmgEnv) -> set[str]:
    return {p.name for p in (env.home / "store").iterdir() if not p.name.startswith(".")}


def test_exec_runs_the_command_with_the_versions_and_switches_nothing(env: OmgEnv) -> None:
    env.run("use", "node@20", check=True)
    before = env.run("generations", "--json", check=True).stdout
    out = env.run("exec", "node@18", "--", "node", "--version", check=True).stdout
    assert out == "node node 18.19.0\n"  # the fake node prints its tool and version
    assert env.run("x", "node@18", "python", "--", "python", check=True).stdout == \
        "python python 3.12.1\n"
    # The last spec wins an executable both give, as with `omg use`.
    assert env.run("x", "node@18", "python", "--", "node", check=True).stdout == \
        "node python 3.12.1\n"
    assert env.run("generations", "--json", check=True).stdout == before
    assert "node 20.10.0" in env.run("current", check=True).stdout


def test_exec_passes_arguments_and_the_exit_status_through(env: OmgEnv,
                                                           tmp_path: Path) -> None:
    script = tmp_path / "s.sh"
    script.write_text('printf "%s|" "$@"; node; exit 7\n')
    proc = env.run("x", "node@20", "--", "sh", str(script), "a b", "--", "-v")
    assert proc.returncode == 7
    assert proc.stdout == "a b|--|-v|node node 20.10.0\n"


@pytest.mark.parametrize(("args", "code", "message"), [
    (["exec", "node@20"], 2, "no command to run"),
    (["exec", "--", "node"], 2, "no tools"),
    (["exec", "--bogus", "node@20", "--", "node"], 2, "unknown option '--bogus'"),
    (["exec", "node@99", "--", "node"], 6, "127.0.0.1:9/index.json: cannot connect"),
    (["x", "--offline", "node@99", "--", "node"], 6, "not cached and --offline is set"),
    (["exec", "node@20", "--", "no-such-command"], 127, "no-such-command: command not found"),
])
def test_exec_bad_input_is_one_line_and_changes_nothing(env: OmgEnv, args: list[str],
                                                         code: int, message: str) -> None:
    before = _store_names(env)
    proc = env.run(*args, extra_env={"OMG_NODE_MIRROR": "http://127.0.0.1:9/"})
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.startswith("error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (env.home / "profiles").exists() or \
        not any((env.home / "profiles").rglob("*-link"))
    if code != 127:  # a command that is not found ran after its env was made
        assert _store_names(env) == before


def test_exec_help_is_typer_help(env: OmgEnv) -> None:
    out = env.run("exec", "--help", check=True).stdout
    assert "without switching any profile" in out


def test_a_running_exec_keeps_its_tools_from_gc_until_it_exits(omg_env: OmgEnv,
                                                                tmp_path: Path) -> None:
    tool = cli_add(omg_env, "tool", "1.0")
    gate = tmp_path / "gate"
    proc = subprocess.Popen(
        [sys.executable, "-m", "omg", "x", "tool@1", "--", "sh", "-c",
         f'while [ ! -e "{gate}" ]; do sleep 0.05; done; tool'],
        env=omg_env.env, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        held = omg_env.home / "temproots"
        while not any(held.rglob("*-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        held_by = [name for name, why in find_roots(omg_env.layout).items()
                   if any("/temproots/" in w for w in why)]
        assert len(held_by) == 1 and held_by[0].endswith("-profile-tool-1.0")
        gc = omg_env.run("gc", check=True).stdout
        assert Path(tool).name not in gc  # neither the tool nor its env was deleted
        assert Path(tool).is_dir()
        gate.touch()
        out, _ = proc.communicate(timeout=30)
    finally:
        gate.touch()
        proc.kill()
        proc.wait()
    assert out == "tool tool 1.0\n" and proc.returncode == 0
    # The process is gone: its root holds nothing, and gc removes it with the paths.
    gc = omg_env.run("gc", check=True).stdout
    assert Path(tool).name in gc and not Path(tool).exists()
    assert not any((omg_env.home / "temproots").rglob("*-*"))


def test_temproot_names_a_live_process_and_goes_stale_with_it(tmp_path: Path) -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        path = temproots.hold(str(tmp_path), "alice", child.pid, ["aaa-x-1", "bbb-y-2"])
        name = os.path.basename(path)
        assert name.startswith(f"{child.pid}-") and not temproots.stale(name)
        again = temproots.hold(str(tmp_path), "alice", child.pid, ["ccc-z-3"])
        assert again == path
        assert Path(path).read_text() == "aaa-x-1\nbbb-y-2\nccc-z-3\n"
    finally:
        child.kill()
        child.wait()
    assert temproots.stale(name)
    # Another process that got the same pid has another start time.
    pid, start = name.split("-")
    assert temproots.stale(f"{pid}-{int(start) + 1}") or temproots.start_time(int(pid))
    assert not temproots.stale("my-own-list")  # not a pid file: a root until removed
    with pytest.raises(Exception, match="is gone"):
        temproots.hold(str(tmp_path), "alice", child.pid, ["x"])


def test_env_prints_the_profile_environment(omg_env: OmgEnv, tmp_path: Path) -> None:
    src = fake_tool(tmp_path, "java", "21.0.1")
    store_path = omg_env.run("store", "add", str(src), "--name", "java", "--version",
                             "21.0.1", check=True).stdout.strip()
    assert store_path
    omg_env.run("use", "java@21", check=True)
    data = json.loads(omg_env.run("env", "--json", check=True).stdout)
    assert data["path"].endswith("/default/bin") and data["generation"] == 1
    sh = omg_env.run("env", check=True).stdout
    assert sh.splitlines()[0].startswith("export PATH=")
    # The exported PATH runs the profile's tools.
    out = subprocess.run(["bash", "-c", sh + "\njava"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin"}).stdout
    assert out == "java java 21.0.1\n"
    fish = omg_env.run("env", "--shell", "fish", check=True).stdout
    assert fish.startswith("set -gx PATH ")
    bad = omg_env.run("env", "--shell", "tcsh")
    assert bad.returncode == 2 and "unknown shell 'tcsh'" in bad.stderr


def test_variables_fill_the_placeholders(tmp_path: Path) -> None:
    from omg.environment import environ

    env_dir = tmp_path / "store" / "hhhh-profile-java-21"
    env_dir.mkdir(parents=True)
    (env_dir / "manifest.json").write_text(json.dumps({
        "format": 1, "tools": [], "executables": {}, "conflicts": [],
        "env": {"JAVA_HOME": "@profile@/tools/java", "NPM_CONFIG_PREFIX": "@prefix@/npm"}}))
    out = environ(str(tmp_path / "store"), env_dir.name, "/p/default",
                  {"PATH": "/usr/bin", "HOME": "/h", "XDG_DATA_HOME": "/d"})
    assert out["PATH"] == "/p/default/bin:/usr/bin" and out["HOME"] == "/h"
    assert out["JAVA_HOME"] == "/p/default/tools/java"
    assert out["NPM_CONFIG_PREFIX"].endswith("/omg/prefix/npm")
