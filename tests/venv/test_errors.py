"""`omg venv` refuses bad input in one line, with its exit code, and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import OmgEnv
from tests.generations.helpers import cli_add, snapshot


def _refused(env: OmgEnv, args: tuple[str, ...], code: int, message: str,
             hint: str | None = None, cwd: Path | None = None) -> None:
    watched = [env.home, env.root / "data", env.root / "work"]
    for d in watched:
        d.mkdir(parents=True, exist_ok=True)
    before = snapshot(*watched)
    proc = env.run(*args, cwd=cwd or env.root / "work")
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0] == f"error: {message}"
    assert lines[1:] == ([f"hint: {hint}"] if hint else [])
    assert proc.stdout == ""
    assert snapshot(*watched) == before


@pytest.mark.parametrize("name", ["a/b", "../x", ".hidden", "x" * 65, "-opt-like"])
def test_a_name_that_is_no_single_component_is_a_usage_error(omg_env: OmgEnv,
                                                              name: str) -> None:
    _refused(omg_env, ("venv", "create", "--", name), 2,
             f"invalid venv name {name!r}: one path component of letters, digits and "
             "_ . + - (at most 64, no '/' or '@')")


def test_unknown_names_are_not_found(omg_env: OmgEnv) -> None:
    where = omg_env.root / "data" / "omg" / "venvs"
    for verb in ("remove", "activate"):
        _refused(omg_env, ("venv", verb, "nope"), 3,
                 f"no venv named 'nope' (in {where})", "omg venv list")
    _refused(omg_env, ("venv", "remove"), 3,
             f"no venv at {omg_env.root / 'work' / '.venv'}", "omg venv create")


def test_a_python_that_is_not_installed_is_not_found(omg_env: OmgEnv) -> None:
    cli_add(omg_env, "node", "20.1.0")
    omg_env.run("use", "node@20", check=True)
    _refused(omg_env, ("venv", "create", "x", "python@3.12"), 3,
             "no tool 'python' in the store (installed: node)", "omg install python@3.12")
    cli_add(omg_env, "python", "3.11.7", ("python3",))
    _refused(omg_env, ("venv", "create", "python@3.12", "x"), 3,
             "no version of python matches '3.12' (installed: 3.11.7)",
             "omg install python@3.12")
    _refused(omg_env, ("venv", "create", "x"), 3,
             "no python to make the venv with: none given, pinned or in the default profile",
             "omg venv create [NAME] python@3.12")
    _refused(omg_env, ("venv", "create", "x", "node@20"), 2,
             "a venv needs python@SPEC, got 'node@20'")
    _refused(omg_env, ("venv", "create", "x", "y"), 2,
             "venv create takes at most a NAME and a python@SPEC, got 'x y'")


def test_an_existing_directory_is_never_reused(omg_env: OmgEnv) -> None:
    cli_add(omg_env, "python", "3.11.7", ("python3",))
    taken = omg_env.root / "data" / "omg" / "venvs" / "x"
    taken.mkdir(parents=True)
    (taken / "mine").write_text("keep me\n")
    _refused(omg_env, ("venv", "create", "x", "python@3.11"), 2,
             f"cannot create venv 'x': {taken} exists",
             "omg venv remove x, or choose another name")
    work = omg_env.root / "work"
    work.mkdir(exist_ok=True)
    (work / ".venv").write_text("not a venv\n")
    _refused(omg_env, ("venv", "create", "python@3.11"), 2,
             f"cannot create venv {work / '.venv'}: {work / '.venv'} exists",
             "omg venv remove, or choose another name")
    # Not a venv: remove refuses it too, rather than deleting a stranger's directory.
    _refused(omg_env, ("venv", "remove", "x"), 3,
             f"no venv named 'x' (in {taken.parent})", "omg venv list")


def test_activate_without_the_shell_function_says_how(omg_env: OmgEnv) -> None:
    venv = omg_env.root / "data" / "omg" / "venvs" / "x"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /nowhere\nversion = 3.11.7\n")
    _refused(omg_env, ("venv", "activate", "x"), 2,
             "omg venv activate changes this shell: it needs omg's shell integration",
             f'add eval "$(omg init bash)" to your shell rc, or run: . {venv}/bin/activate')
    _refused(omg_env, ("venv", "activate", "x", "--shell", "bash"), 3,
             "venv 'x' has no bin/activate")
    _refused(omg_env, ("venv", "activate", "x", "--shell", "tcsh"), 2,
             "unknown shell 'tcsh': use one of bash, zsh, fish")
