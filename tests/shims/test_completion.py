"""Shell completion: the answers (omg/completion.py) and each shell's script
(shims/completion.py) run in real bash, zsh and fish."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from omg import completion, versioncache
from shims.completion import completion_script
from tests.conftest import OmgEnv
from tests.generations.helpers import fake_tool

BIN = str(Path(sys.executable).parent)  # the venv's bin: omg's own launcher


@pytest.fixture(scope="module")
def table() -> completion.Command:
    return completion.command_table()


@pytest.fixture
def env(omg_env: OmgEnv) -> OmgEnv:
    for version in ("20.1.0", "22.0.0"):
        src = fake_tool(omg_env.root, "node", version, ("node", "npm"))
        omg_env.run("store", "add", str(src), "--name", "node", "--version", version,
                    check=True)
    omg_env.run("use", "node@20", check=True)
    omg_env.run("use", "node@22", "--profile", "work", check=True)
    omg_env.run("use", "node@20", "--profile", "work", check=True)
    return omg_env


def ask(env: OmgEnv, *words: str) -> subprocess.CompletedProcess[str]:
    return env.run("__complete", "bash", *words)


def values(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t")[0] for line in proc.stdout.splitlines()]


def test_commands_options_and_subcommands(table: completion.Command) -> None:
    names = [v for v, _ in completion.complete(table, [""]) or []]
    assert {"use", "rollback", "exec", "x", "env", "completion", "store"} <= set(names)
    assert "__complete" not in names
    assert [v for v, _ in completion.complete(table, ["roll"]) or []] == ["rollback"]
    # Fuzzy: the letters in order when no name starts with them.
    assert [v for v, _ in completion.complete(table, ["gnrt"]) or []] == ["generations"]
    subs = [v for v, _ in completion.complete(table, ["store", ""]) or []]
    assert subs == ["add", "info", "ls", "roots", "verify"]
    opts = dict(completion.complete(table, ["use", "--"]) or [])
    assert {"--profile", "--local", "--offline", "--json", "--help"} <= set(opts)
    assert opts["--offline"].startswith("Install missing versions")
    assert completion.complete(table, ["init", ""]) == [("bash", ""), ("zsh", ""),
                                                        ("fish", "")]


def test_where_the_cursor_is(table: completion.Command) -> None:
    def kind(*words: str) -> str:
        return completion.context(table, list(words))[2]

    assert kind("use") == "spec" and kind("use", "node@20") == "spec"
    assert kind("use", "--profile") == "profile" and kind("use", "-p") == "profile"
    assert kind("use", "-p", "work") == "spec"
    assert kind("rollback", "--to") == "generation"
    assert kind("generations", "diff") == "generation"
    assert kind("generations", "diff", "1", "2") == "none"
    assert kind("exec", "node@20") == "spec" and kind("x", "node@20", "--") == "file"
    assert kind("store", "add") == "file" and kind("store", "add", "d", "--name") == "tool"
    assert kind("search") == "package" and kind("which") == "executable"
    assert kind("store") == "" and kind("completion") == "shell"


def test_values_come_from_the_store_and_the_profiles(env: OmgEnv) -> None:
    assert values(ask(env, "use", "")) == [f"{t}@" for t in completion.TOOLS]
    assert values(ask(env, "use", "node@")) == ["node@22.0.0", "node@20.1.0"]
    assert values(ask(env, "install", "node@2")) == ["node@22.0.0", "node@20.1.0"]
    assert values(ask(env, "use", "-p", "")) == ["default", "work"]
    # --opt=VALUE in one word: the candidates keep the option's part
    assert values(ask(env, "use", "--profile=w")) == ["--profile=work"]
    assert values(ask(env, "use", "--local=")) == []
    assert ask(env, "x", "node@20", "--", "ls", "--color=").returncode == completion.FILES
    out = ask(env, "rollback", "-p", "work", "--to", "")
    assert values(out) == ["2", "1"]
    assert out.stdout.splitlines()[0].startswith("2\tcurrent: ")
    assert values(ask(env, "which", "n")) == ["node", "npm"]
    # uninstall: the profile's tools, then what `omg install` keeps.
    from generations.installroots import add

    held = ask(env, "uninstall", "-p", "work", "")
    assert held.stdout == "node\t20.1.0 in profile work\n"
    store = sorted(p.name for p in (env.home / "store").iterdir()
                   if p.name.endswith("-node-22.0.0"))[0]
    add(str(env.home), completion.Where([]).user, "node", "22.0.0", store)
    assert values(ask(env, "uninstall", "")) == ["node", "node@22.0.0"]
    assert "node@22.0.0\tkept by omg install" in ask(env, "uninstall", "node@").stdout
    # Remote versions: what the last read of the upstream index kept (no network).
    completion_dir = Path(env.env["XDG_CACHE_HOME"]) / "omg" / "versions"
    completion_dir.mkdir(parents=True)
    (completion_dir / "node").write_text("23.1.0\n22.0.0\tlts Jod\n20.1.0\tlts Iron\n")
    out = ask(env, "use", "node@2")
    assert values(out) == ["node@22.0.0", "node@20.1.0", "node@23.1.0"]
    assert "node@23.1.0\tremote" in out.stdout
    assert ask(env, "x", "node@20", "--", "").returncode == completion.FILES
    assert ask(env, "store", "add", "").returncode == completion.FILES
    bad = env.run("__complete", "tcsh", "use")
    assert bad.returncode == 2 and "usage" in bad.stderr


def test_remember_versions_keeps_what_the_index_said(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    versioncache.remember_versions("node", [("22.1.0", "Jod"), ("23.0.0", False),
                                          ("bad\nline", False)])
    assert versioncache.remembered("node") == [("22.1.0", "lts Jod"), ("23.0.0", "")]
    versioncache.remember_versions("../x", [("1", False)])
    assert not (tmp_path / "omg" / "x").exists()


def _shell_env(env: OmgEnv) -> dict[str, str]:
    return {**env.env, "PATH": f"{BIN}:/usr/bin:/bin"}


def test_bash_completes_through_the_script(env: OmgEnv) -> None:
    script = completion_script("bash") + """
t() { COMP_LINE=$1; COMP_POINT=${#1}; _omg_complete; printf '%s\\n' "${COMPREPLY[@]}"; }
t 'omg use node@'; t 'omg us'; t 'omg use no'
complete -p omg
"""
    proc = subprocess.run(["bash", "-c", script], env=_shell_env(env), capture_output=True,
                          text=True)
    # (readline replaces from the '@' on: bash's special prefix)
    assert proc.stdout.splitlines() == ["@22.0.0", "@20.1.0", "use", "node@",
                                        "complete -F _omg_complete omg"], proc.stderr


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_through_the_script(env: OmgEnv) -> None:
    # compadd is the completion system's builtin; outside a completion widget it
    # cannot run, so the test puts a function in its place that prints its arguments.
    script = ("compdef() { print compdef $@ }\n" + completion_script("zsh") + """
compadd() { print -r -- "compadd $*" }
words=(omg use node@); CURRENT=3; _omg_complete
words=(omg use no); CURRENT=3; _omg_complete
""")
    proc = subprocess.run(["zsh", "-f", "-c", script], env=_shell_env(env),
                          capture_output=True, text=True)
    lines = proc.stdout.splitlines()
    assert lines[0] == "compdef _omg_complete omg", proc.stderr
    assert lines[1].endswith("-- node@22.0.0 node@20.1.0")
    assert lines[2] == "compadd -U -S  -Q -- node@"


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_through_the_script(env: OmgEnv, tmp_path: Path) -> None:
    script = tmp_path / "omg.fish"
    script.write_text(completion_script("fish"))
    proc = subprocess.run(["fish", "--no-config", "-c",
                           f"source {script}; complete -C 'omg use node@'; "
                           "complete -C 'omg roll'"],
                          env={**_shell_env(env), "HOME": str(env.root / "home")},
                          capture_output=True, text=True)
    lines = proc.stdout.splitlines()
    assert lines[:2] == ["node@22.0.0\tinstalled", "node@20.1.0\tinstalled"], proc.stderr
    assert lines[2].startswith("rollback\tSwitch to the previous generation")


def test_init_includes_completion(env: OmgEnv) -> None:
    out = env.run("init", "bash", check=True).stdout
    assert "complete -F _omg_complete omg" in out
    assert env.run("completion", "fish", check=True).stdout == completion_script("fish")
    bad = env.run("completion", "tcsh")
    assert bad.returncode == 2 and "no completion for shell 'tcsh'" in bad.stderr
    ask(env, "")
    table = Path(completion.table_path(env.env))
    assert table.is_file()  # the next TAB skips typer
    for garbage in ("[1, 2]", "{not json", '{"commands": 3}'):
        table.write_text(garbage)  # a damaged cache is made again, never a traceback
        assert values(ask(env, "roll")) == ["rollback"]


def test_bash_completes_versions_typed_at_a_real_prompt(env: OmgEnv, tmp_path: Path) -> None:
    # readline splits `node@22` at '@' (COMP_WORDBREAKS): COMP_WORDS is (omg use node @ 22)
    # and it replaces only the text after the '@'. Typed on a terminal, TAB completes the
    # word; Ctrl-A then `echo ` prints the line the completion made.
    from tests.shims.test_shell import on_tty

    rc = tmp_path / "bashrc"
    rc.write_text(completion_script("bash") + "PS1='$ '\n")
    environ = {**_shell_env(env), "TERM": "dumb", "HOME": str(tmp_path),
               "INPUTRC": "/dev/null"}
    typed = ["omg use node@22\t\x01echo [", "omg use nod\t\x01echo [",
             "omg use --profile=w\t\x01echo [", "omg rollback --to \t\x01echo ["]
    proc = on_tty(["bash", "--rcfile", str(rc), "-i"], typed, environ, tmp_path)
    lines = [ln.strip() for ln in proc.stdout.splitlines() if ln.startswith("[")]
    assert lines == ["[omg use node@22.0.0", "[omg use node@", "[omg use --profile=work",
                     "[omg rollback --to 1"], proc.stdout


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
@pytest.mark.parametrize("compinit_first", [True, False])
def test_zsh_completes_at_a_real_prompt(env: OmgEnv, tmp_path: Path,
                                        compinit_first: bool) -> None:
    """In zsh's line editor, compinit run before omg's lines or after them (an rc file
    that calls it last, a plugin manager that defers it): TAB completes either way."""
    from tests.shims.test_shell import on_tty

    compinit = f"autoload -Uz compinit && compinit -u -d {tmp_path}/zcompdump\n"
    lines = completion_script("zsh")
    (tmp_path / ".zshrc").write_text(
        (compinit + lines if compinit_first else lines + compinit) + "PS1='$ '\nbindkey -e\n")
    environ = {**_shell_env(env), "TERM": "dumb", "HOME": str(tmp_path),
               "ZDOTDIR": str(tmp_path)}
    typed = ["omg use node@22\t\x01echo Z", "omg rollback --to \t\x01echo Z"]
    proc = on_tty(["zsh", "-i"], typed, environ, tmp_path)
    got = [ln.strip() for ln in proc.stdout.splitlines() if ln.startswith("Zomg")]
    assert got == ["Zomg use node@22.0.0", "Zomg rollback --to 1"], proc.stdout
