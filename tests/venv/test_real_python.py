"""`omg venv` end to end with a real CPython (tests/venv/conftest.py): venvs made by the
interpreter's own ``-m venv`` from its store path, their gc roots, and activation through
the shell integration in bash, zsh and fish."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import OmgEnv
from tests.generations.helpers import cli_add
from tests.schema import check

pytestmark = pytest.mark.slow


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _python_path(env: OmgEnv) -> str:
    """The store path name of the installed real python."""
    out = env.run("list", "python", "--json", check=True).stdout
    paths = [v["store_path"]["name"] for v in json.loads(out)]
    assert len(paths) == 1, out
    return str(paths[0])


def _prefixes(python: Path) -> list[str]:
    out = subprocess.run([str(python), "-c", "import ssl, sys; print(sys.prefix); "
                          "print(sys.base_prefix)"], capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin"})
    return out.stdout.split()


def _dead(env: OmgEnv) -> list[str]:
    return [d["name"] for d in json.loads(env.run("gc", "--dry-run", "--json",
                                                  check=True).stdout)["dead"]]


def test_a_named_venv_keeps_its_python_after_use_of_another(
        py_env: OmgEnv, python_mirror: dict[str, str]) -> None:
    version = python_mirror["version"]
    store_path = _python_path(py_env)
    py_env.run("use", f"python@{version}", check=True)
    made = check("venv-create", py_env.run("venv", "create", "work", "--json",
                                           check=True).stdout)
    venv = py_env.root / "data" / "omg" / "venvs" / "work"
    assert made == {"schema": 1, "name": "work", "path": str(venv), "python": version,
                    "store_path": {"name": store_path,
                                   "path": f"{py_env.home}/store/{store_path}"},
                    "project": None}
    store_dir = py_env.home / "store" / store_path
    # Made from the store path, not the profile: the venv does not follow `omg use`.
    assert os.readlink(venv / "bin" / "python3") == f"{store_dir}/bin/python3"
    assert os.path.realpath(venv / "bin" / "python") == os.path.realpath(
        store_dir / "bin" / "python3")
    assert _prefixes(venv / "bin" / "python") == [str(venv), str(store_dir)]
    cli_add(py_env, "python", "3.99.0", ("python3",))
    py_env.run("use", "python@3.99", check=True)
    assert _prefixes(venv / "bin" / "python") == [str(venv), str(store_dir)]
    pip = subprocess.run([str(venv / "bin" / "pip"), "--version"], capture_output=True,
                         text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    assert f"{venv}/lib/python" in pip.stdout  # pip came with the venv, into the venv
    # The venv's Python, run as this user (root here), wrote nothing into its store path.
    py_env.run("store", "verify", check=True)
    listed = check("venv-list", py_env.run("venv", "list", "--json", check=True).stdout)
    assert listed == [{k: v for k, v in made.items() if k != "schema"}]
    text = py_env.run("venv", "list", check=True).stdout
    assert text == f"{'work':<16} {version:<10} {venv}\n"


def test_a_venv_is_a_gc_root_until_removed_or_deleted_by_hand(
        py_env: OmgEnv, python_mirror: dict[str, str]) -> None:
    version = python_mirror["version"]
    store_path = _python_path(py_env)
    assert _dead(py_env) == []  # `omg install` keeps it, until `omg uninstall`
    py_env.run("uninstall", f"python@{version}", check=True)
    assert _dead(py_env) == [store_path]  # in no profile, no longer kept: garbage
    for name in ("a", "b"):
        py_env.run("venv", "create", name, f"python@{version}", "--without-pip", check=True)
    roots = py_env.home / "gcroots" / _user() / "venvs"
    venvs = py_env.root / "data" / "omg" / "venvs"
    assert sorted(os.listdir(roots)) == [str(venvs / n).replace("/", "%") for n in "ab"]
    assert _dead(py_env) == []
    out = py_env.run("venv", "remove", "a", check=True).stdout
    assert out == f"removed venv a: {venvs / 'a'} (python {version}, {store_path})\n"
    assert not (venvs / "a").exists()
    assert os.listdir(roots) == [str(venvs / "b").replace("/", "%")]
    assert _dead(py_env) == []
    shutil.rmtree(venvs / "b")  # by hand: b's root dangles and roots nothing
    assert py_env.run("venv", "list", "--json", check=True).stdout.strip() == "[]"
    gc = json.loads(py_env.run("gc", "--json", check=True).stdout)
    assert [d["name"] for d in gc["dead"]] == [store_path]
    assert not (py_env.home / "store" / store_path).exists()


def _project(py_env: OmgEnv, version: str) -> tuple[Path, Path]:
    proj = py_env.root / "work" / "app"
    (proj / "src").mkdir(parents=True)
    (proj / ".python-version").write_text(f"{version}\n")
    py_env.run("sync", cwd=proj, check=True)
    return proj, proj / "src"


def _run_shell(env: OmgEnv, shell: str, script: str,
               extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    rc = env.root / f"rc.{shell}"
    rc.write_text(env.run("init", shell, check=True).stdout)
    if shell == "bash":  # interactive, as a terminal runs it; the hook is PROMPT_COMMAND
        cmd = ["bash", "--rcfile", str(rc), "-i", "-c", script]
    else:
        cmd = [shell, "-c", f"source {rc}; {script}"]
    return subprocess.run(cmd, env={**env.env, **(extra or {})}, capture_output=True,
                          text=True, cwd=env.root, timeout=120)


#: What each shell runs after a `cd` so the hook sees it (zsh's chpwd and fish's PWD
#: event run by themselves), and how it names the `python` on PATH.
HOOK = {"bash": 'eval "$PROMPT_COMMAND"', "zsh": ":", "fish": "true"}
WHICH = {"bash": "type -P python", "zsh": "whence -p python", "fish": "command -s python"}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_cd_hook_activates_the_venv_of_a_project_that_pins_python(
        py_env: OmgEnv, python_mirror: dict[str, str], shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    version = python_mirror["version"]
    proj, src = _project(py_env, version)
    made = py_env.run("venv", "create", "--without-pip", "--json", cwd=src, check=True)
    venv = proj / ".venv"
    assert json.loads(made.stdout)["path"] == str(venv)
    assert "prompt = 'app'" in (venv / "pyvenv.cfg").read_text()
    # A project with a .venv that does not pin python is left alone.
    bare = py_env.root / "work" / "bare"
    bare.mkdir()
    shutil.copytree(venv, bare / ".venv", symlinks=True)
    hook, which = HOOK[shell], WHICH[shell]
    script = "; ".join([
        'echo "path $PATH"', f"cd {src}", hook, 'echo "in $VIRTUAL_ENV"', which,
        "python -c 'import sys; print(sys.prefix)'",
        f"cd {py_env.root}", hook, 'echo "out [$VIRTUAL_ENV]"', 'echo "path $PATH"',
        f"cd {bare}", hook, 'echo "bare [$VIRTUAL_ENV]"'])
    proc = _run_shell(py_env, shell, script)
    lines = proc.stdout.splitlines()
    assert lines[1:5] == [f"in {venv}", f"{venv}/bin/python", str(venv), "out []"], proc.stderr
    assert lines[0] == lines[5]  # deactivate gave back the PATH from before
    assert lines[6] == "bare []"
    off = _run_shell(py_env, shell, f'cd {src}; {hook}; echo "[$VIRTUAL_ENV]"',
                     extra={"OMG_VENV_ACTIVATE": "0"})
    assert off.stdout.splitlines() == ["[]"], off.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_activate_through_the_shell_function_and_deactivate(
        py_env: OmgEnv, python_mirror: dict[str, str], shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    version = python_mirror["version"]
    py_env.run("venv", "create", "tool", f"python@{version}", "--without-pip", check=True)
    venv = py_env.root / "data" / "omg" / "venvs" / "tool"
    which = WHICH[shell]
    script = "; ".join([
        'echo "path $PATH"', "omg venv activate tool", 'echo "on $VIRTUAL_ENV"', which,
        "deactivate", 'echo "off [$VIRTUAL_ENV]"', 'echo "path $PATH"',
        "omg venv activate nope", 'echo "rc $status"' if shell == "fish" else 'echo "rc $?"',
        'echo "still [$VIRTUAL_ENV]"'])
    proc = _run_shell(py_env, shell, script)
    lines = proc.stdout.splitlines()
    assert lines[1:4] == [f"on {venv}", f"{venv}/bin/python", "off []"], proc.stderr
    assert lines[0] == lines[4]
    assert lines[5:] == ["rc 3", "still []"]
    assert "error: no venv named 'nope'" in proc.stderr


def test_a_project_venv_made_in_the_shell_is_active_at_once(
        py_env: OmgEnv, python_mirror: dict[str, str]) -> None:
    proj, src = _project(py_env, python_mirror["version"])
    script = "; ".join([
        f"cd {src}", HOOK["bash"], 'echo "before [$VIRTUAL_ENV]"',
        "omg venv create --without-pip >/dev/null", 'echo "made $VIRTUAL_ENV"',
        "omg venv remove >/dev/null", 'echo "removed [$VIRTUAL_ENV]"'])
    proc = _run_shell(py_env, "bash", script)
    assert proc.stdout.splitlines() == ["before []", f"made {proj / '.venv'}", "removed []"], \
        proc.stderr
    assert not (proj / ".venv").exists()
