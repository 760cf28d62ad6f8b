"""The CLI end to end (subprocesses): fast path and typer path, output, errors, gc."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import OmgEnv, make_env

from .helpers import snapshot


def user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def test_use_rollback_generations_current_which(env: OmgEnv) -> None:
    out = env.run("use", "node@20", check=True).stdout
    assert out == "default: generation 1: node 20.10.0\n"
    out = env.run("use", "python", check=True).stdout
    assert "note: bin/node now comes from python (was node)" in out
    assert env.run("use", "node@18", check=True).stdout.startswith("default: generation 3")
    out = env.run("rollback", check=True).stdout
    assert out == ("default: switched from generation 3 to 2 "
                   "(node 20.10.0, python 3.12.1)\n")
    assert "to 1" in env.run("rollback", "--to", "1", check=True).stdout
    listing = env.run("generations", check=True).stdout.splitlines()
    assert listing[0].startswith("*    1") and "+node 20.10.0" in listing[0]
    assert "+python 3.12.1" in listing[1] and "node 20.10.0 -> 18.19.0" in listing[2]
    data = json.loads(env.run("generations", "--json", check=True).stdout)
    assert [g["number"] for g in data] == [1, 2, 3] and data[0]["current"]
    assert env.run("generations", "diff", "1", "3", check=True).stdout.split("\n")[:2] == [
        "+ python 3.12.1", "~ node 20.10.0 -> 18.19.0"]
    cur = env.run("current", check=True).stdout
    assert cur.startswith("default: generation 1\n  node 20.10.0")
    which = env.run("which", "npm", check=True).stdout.strip()
    assert which.startswith(str(env.home / "store")) and which.endswith("-node-20.10.0/bin/npm")
    cur_json = json.loads(env.run("current", "--json", check=True).stdout)
    assert cur_json["generation"] == 1
    assert env.run("use", "node@18", "--profile", "work", check=True).returncode == 0
    assert "work: generation 1" in env.run("current", "-p", "work", check=True).stdout
    binary = env.home / "profiles" / user() / "default" / "bin" / "node"
    assert subprocess.run([binary], capture_output=True, text=True).stdout == \
        "node node 20.10.0\n"


@pytest.mark.parametrize("args, code", [
    # Tools no provider knows resolve against the store alone (providers' unknown
    # versions are tested against their mirrors in tests/providers).
    (("use", "mytool@3"), 3),
    (("use", "no de"), 2),
    (("use", "node@"), 2),
    (("use", "node@20", "--profile", "a/b"), 2),
    (("rollback", "--to", "7"), 3),
    (("generations", "delete", "1"), 2),
    (("generations", "delete", "9"), 3),
    (("generations", "delete", "--older-than", "soon"), 2),
    (("generations", "diff", "1", "5"), 3),
    (("which", "ruby"), 3),
    (("init", "tcsh"), 2),
])
def test_bad_input_one_line_nothing_changed(env: OmgEnv, args: tuple[str, ...],
                                            code: int) -> None:
    env.run("use", "node@18", check=True)
    before = snapshot(env.home / "profiles", env.home / "store")
    proc = env.run(*args)
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("error: ") and len(lines) <= 2 and "Traceback" not in proc.stderr
    assert snapshot(env.home / "profiles", env.home / "store") == before


def test_fast_path_does_not_import_the_cli(env: OmgEnv) -> None:
    env.run("use", "node@18", check=True)
    env.run("use", "node@20", check=True)
    for args in (["use", "node@18"], ["rollback"], ["current"], ["rollback", "--to", "2"]):
        code = ("import sys; from omg.entry import main; rc = main(sys.argv[1:]); "
                "bad = [m for m in ('typer', 'rich', 'httpx', 'click', 'dataclasses', 'lmdb', "
                "'blake3', 'tarfile', 'zipfile', 'lzma', 'store.unpack', 'generations.plain') "
                "if m in sys.modules]; print('BAD', bad) if bad else None; sys.exit(rc)")
        proc = subprocess.run([sys.executable, "-c", code, *args], env=env.env,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "BAD" not in proc.stdout, (args, proc.stdout)


def test_the_door_installs_as_the_typer_cli_does_and_leaves_the_rest(env: OmgEnv) -> None:
    """A version the store lacks is the same use case's to install (here no mirror
    answers: the network error, as `omg use` through typer gives); what the door
    does not parse is the typer CLI's."""
    code = ("import sys; from omg import fast; print(fast.run(sys.argv[1:]))")
    typer_cli = "import sys; from omg.cli import run; sys.exit(run(sys.argv[1:]))"
    extra = {"OMG_NODE_MIRROR": "http://127.0.0.1:9", "OMG_NET_RETRIES": "0",
             "OMG_NET_UNREACHABLE_TTL": "0"}  # the same error twice, not "remembered"
    proc = subprocess.run([sys.executable, "-c", code, "use", "node@21"],
                          env={**env.env, **extra}, capture_output=True, text=True)
    typer = subprocess.run([sys.executable, "-c", typer_cli, "use", "node@21"],
                           env={**env.env, **extra}, capture_output=True, text=True)
    assert proc.stdout.strip() == str(typer.returncode) == "6"
    assert proc.stderr == typer.stderr and proc.stderr.startswith("error: ")
    for args in (["use", "--lokal", "node@18"], ["use", "node@18", "--json"], ["use"],
                 ["rollback", "--to", "x"], ["current", "extra"]):
        proc = subprocess.run([sys.executable, "-c", code, *args], env=env.env,
                              capture_output=True, text=True)
        assert proc.stdout.strip() == "None", args


def test_gc_cli(env: OmgEnv) -> None:
    env.run("use", "node@18", check=True)
    env.run("use", "node@20", check=True)
    env.run("generations", "delete", "1", check=True)
    before = snapshot(env.home / "store")
    dry = env.run("gc", "--dry-run", check=True).stdout
    assert "would delete" in dry and "-node-18.19.0" in dry and "-python-" in dry
    assert snapshot(env.home / "store") == before
    out = env.run("gc", check=True).stdout
    assert " deleted, " in out and "freed" in out
    data = json.loads(env.run("gc", "--json", check=True).stdout)
    assert data["dead"] == []
    assert env.run("which", "node", check=True).returncode == 0


def test_init_prints_literal_paths(env: OmgEnv) -> None:
    text = env.run("init", "bash", check=True).stdout
    assert f"{env.home}/profiles/{user()}/default/bin" in text
    # No process at start-up: one command substitution runs only in `omg venv
    # activate` (the shell function's eval), the other only on TAB (the completion
    # function, shims/completion.py).
    start_up, _, completion = text.partition("_omg_complete() {")
    assert start_up.count("$(") == 1 and "__omg_out=$(command omg venv activate" in start_up
    assert "`" not in start_up.replace("`omg init bash`", "")
    assert completion.count("$(") == 1 and "complete -F _omg_complete omg" in completion
    assert "NPM_CONFIG_PREFIX=" in text and f"{env.root}/data/omg/prefix/npm" in text
    fish = env.run("init", "fish", check=True).stdout
    assert "function __omg_hook --on-variable PWD" in fish
    zsh = env.run("init", "zsh", "--not-found", check=True).stdout
    assert "chpwd_functions" in zsh and "command_not_found_handler" in zsh


def test_fast_path_and_typer_cli_print_the_same(env: OmgEnv) -> None:
    typer_cli = "import sys; from omg.cli import run; sys.exit(run(sys.argv[1:]))"

    def both(*args: str) -> tuple[str, str]:
        fast = env.run(*args)
        slow = subprocess.run([sys.executable, "-c", typer_cli, *args], env=env.env,
                              capture_output=True, text=True)
        return fast.stdout + fast.stderr, slow.stdout + slow.stderr

    env.run("use", "node@18", check=True)
    fast, slow = both("current")
    assert fast == slow
    fast, slow = both("rollback", "--to", "5")
    assert fast == slow and fast.startswith("error: ")
    fast = env.run("use", "python", check=True).stdout
    env.run("rollback", check=True)
    slow = subprocess.run([sys.executable, "-c", typer_cli, "use", "python"], env=env.env,
                          capture_output=True, text=True).stdout
    assert fast.replace("generation 2", "generation 3") == slow


#: Runs `omg ARGS` through omg.entry (the lean doors) or the typer CLI alone, and
#: says on stderr whether typer was imported.
_GC_PROBE = """
import sys
if sys.argv[1] == "typer":
    from omg.cli import run
    rc = run(sys.argv[2:])
else:
    from omg.entry import main
    rc = main(sys.argv[2:])
print("typer" in sys.modules, file=sys.stderr)
sys.exit(rc)
"""


def test_gc_without_typer_says_what_the_typer_command_says(env: OmgEnv) -> None:
    env.run("use", "node@18", check=True)
    env.run("use", "node@20", check=True)
    env.run("generations", "delete", "1", check=True)
    twin = make_env(env.root.parent / "twin")
    subprocess.run(["cp", "-a", str(env.home), str(twin.home)], check=True)

    def gc(which: str, omg: OmgEnv, *args: str) -> tuple[str, str]:
        proc = subprocess.run([sys.executable, "-c", _GC_PROBE, which, "gc", *args],
                              env=omg.env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.replace(str(omg.home), "HOME"), proc.stderr.strip()

    lean_dry, lean_imports = gc("entry", env, "--dry-run")
    assert lean_imports == "False"  # typer (and rich) never loaded
    assert gc("typer", env, "--dry-run")[0] == lean_dry
    assert "would delete HOME/store/" in lean_dry and "-node-18.19.0" in lean_dry
    lean, _ = gc("entry", env)
    assert gc("typer", twin)[0] == lean
    assert " deleted, " in lean and "-node-18.19.0" in lean
    assert gc("entry", env, "-n") == ("0 store paths would be deleted, 0 B would be freed; "
                                      f"{len(env.store().names())} kept\n", "False")


def test_ctrl_c_in_a_typer_command_exits_130_with_one_line(
        env: OmgEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """typer turns KeyboardInterrupt into an exit code it returns; it used to end as 0."""
    from omg import profiles
    from omg.cli import run

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    for name, value in env.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(profiles, "gc", interrupted)
    assert run(["gc", "--json"]) == 130
    assert capsys.readouterr().err == "error: interrupted\n"


def test_a_typo_is_named_not_an_empty_answer(env: OmgEnv) -> None:
    env.run("use", "node@18", check=True)
    env.run("use", "node@20", "--profile", "work", check=True)
    for args in (["current", "-p", "wrok"], ["generations", "-p", "wrok"],
                 ["rollback", "-p", "wrok"], ["which", "node", "-p", "wrok"]):
        proc = env.run(*args)
        assert proc.returncode == 3, (args, proc.stdout, proc.stderr)
        assert proc.stderr.startswith("error: no profile 'wrok' (profiles: default, work)")
    tool = env.run("use", "nodee@20")
    assert tool.returncode == 3 and tool.stderr.startswith(
        "error: unknown tool 'nodee': did you mean node?")
    install = env.run("install", "pythn@3")
    assert install.returncode == 3 and "did you mean python?" in install.stderr
    # A fresh home's default profile is empty, not an error.
    fresh = make_env(env.root / "fresh")
    assert fresh.run("current", check=True).stdout.startswith("default: no generations yet")
