"""`omg use --local` writes only the tools named on its command line, each to the file
the project reads it from when that file can hold the pin exactly, else to
`.tool-versions`; without arguments (and in `omg sync`) it writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from omg.profiles import ResolvedTool, write_pins
from omg.spec import one_word, parse_tool_spec, select
from shims.project import write_version_file
from shims.versionfiles import read_directory
from store.errors import UsageError
from tests.conftest import OmgEnv
from tests.generations.helpers import fake_tool

#: What `omg use --local` once rewrote although it had only read it (issue 12).
READ_ONLY = {
    ".java-version": "temurin-17\n",
    "go.mod": "module example.com/app\n\ngo 1.22.3\n",
    "rust-toolchain.toml": '[toolchain]\nchannel = "1.78.0"\n',
}


def _files(project: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(project.iterdir()) if p.is_file()}


def _add(omg_env: OmgEnv, tool: str, version: str) -> None:
    tree = fake_tool(omg_env.root / "src", tool, version)
    omg_env.run("store", "add", str(tree), "--name", tool, "--version", version, check=True)


def test_use_local_without_arguments_rewrites_nothing(omg_env: OmgEnv) -> None:
    for tool, version in (("java", "17.0.11"), ("go", "1.22.3"), ("rust", "1.78.0"),
                          ("node", "20.11.1")):
        _add(omg_env, tool, version)
    project = omg_env.root / "app"
    project.mkdir()
    for name, text in READ_ONLY.items():
        (project / name).write_text(text)
    before = _files(project)
    proc = omg_env.run("use", "--local", cwd=project, check=True)
    assert "java" in proc.stdout and "rust" in proc.stdout
    assert _files(project) == before  # no .go-version, no .tool-versions, temurin-17 kept

    # A named tool that is pinned so already: still nothing to write.
    omg_env.run("use", "--local", "java@17", cwd=project, check=True)
    assert _files(project) == before
    # go.mod cannot hold the pin: it goes to .tool-versions (which wins over go.mod).
    omg_env.run("use", "--local", "go@1.22", cwd=project, check=True)
    assert _files(project) == {**before, ".tool-versions": "go 1.22\n"}
    # A range with blanks is written as one word that reads back as the same range.
    omg_env.run("use", "--local", "node@>=18 <21", cwd=project, check=True)
    assert _files(project)[".tool-versions"] == "go 1.22\nnode >=18,<21\n"
    assert omg_env.run("sync", cwd=project, check=True).returncode == 0
    assert _files(project)[".tool-versions"] == "go 1.22\nnode >=18,<21\n"


@pytest.mark.parametrize(("files", "tool", "spec", "want"), [
    # A one-version file holds a version, a prefix or a word ...
    ({".nvmrc": "18\n"}, "node", "20", {".nvmrc": "20\n"}),
    ({".java-version": "temurin-17\n"}, "java", "21", {".java-version": "21\n"}),
    # ... but not a range (nvm, jenv and friends read none): .tool-versions, which wins.
    ({".nvmrc": "18\n"}, "node", "^20", {".nvmrc": "18\n", ".tool-versions": "node ^20\n"}),
    ({}, "node", "^20", {".tool-versions": "node ^20\n"}),
    ({}, "node", "20", {".node-version": "20\n"}),
    ({"package.json": '{"volta": {"node": "18.19.0"}}'}, "node", "20.11.1",
     {"package.json": '{"volta": {"node": "18.19.0"}}', ".tool-versions": "node 20.11.1\n"}),
    ({"Gemfile": 'ruby "~> 3.2"\n'}, "ruby", "3.3.0",
     {"Gemfile": 'ruby "~> 3.2"\n', ".tool-versions": "ruby 3.3.0\n"}),
    ({".tool-versions": "nodejs 18.0.0 # pinned\ngolang 1.22.3\n"}, "node", "20",
     {".tool-versions": "golang 1.22.3\nnode 20\n"}),
    ({"mise.toml": '[env]\nnode = "x"\n\n[tools]\nnodejs = "18" # lts\npython = "3.12"\n'},
     "node", "^20",
     {"mise.toml": '[env]\nnode = "x"\n\n[tools]\nnodejs = "^20" # lts\npython = "3.12"\n'}),
])
def test_where_a_named_pin_goes(tmp_path: Path, files: dict[str, str], tool: str, spec: str,
                                want: dict[str, str]) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    written = write_version_file(tmp_path, tool, spec, is_range=spec.startswith("^"))
    assert _files(tmp_path) == want
    assert written is not None and read_directory(tmp_path)[tool].source == written
    assert read_directory(tmp_path)[tool].spec == spec


def test_a_mise_pin_omg_cannot_rewrite_is_refused(tmp_path: Path) -> None:
    text = '[tools]\nnode = { version = "18", postinstall = "corepack enable" }\n'
    (tmp_path / "mise.toml").write_text(text)
    with pytest.raises(UsageError, match="does not rewrite"):
        write_version_file(tmp_path, "node", "20")
    assert (tmp_path / "mise.toml").read_text() == text


@pytest.mark.parametrize(("tool", "spec", "word", "versions", "want"), [
    ("node", ">=18 <21", ">=18,<21", ["16.20.2", "20.11.1", "21.7.3"], "20.11.1"),
    ("node", "^18 || ^20", "^18,||,^20", ["18.19.0", "20.11.1", "22.2.0"], "20.11.1"),
    ("node", "1.2 - 1.4", "1.2,-,1.4", ["1.1.0", "1.4.9", "1.5.0"], "1.4.9"),
    ("ruby", ">= 3.1, < 3.4", ">=3.1,<3.4", ["3.0.6", "3.3.5", "3.4.1"], "3.3.5"),
    ("ruby", "~> 3.2", "~>3.2", ["3.1.6", "3.3.5", "4.0.0"], "3.3.5"),
    ("python", ">=3.11, <3.13", ">=3.11,<3.13", ["3.10.14", "3.12.4", "3.13.0"], "3.12.4"),
])
def test_one_word_reads_back_as_the_same_range(tool: str, spec: str, word: str,
                                               versions: list[str], want: str) -> None:
    parsed = parse_tool_spec(f"{tool}@{spec}").spec
    assert one_word(parsed) == word
    again = parse_tool_spec(f"{tool}@{word}").spec
    assert select(again, versions, tool) == select(parsed, versions, tool) == want


@pytest.mark.parametrize(("spec", "want"), [
    ("lts/*", {".nvmrc": "lts/*\n"}),  # nvm's word, not a range: .nvmrc holds it
    ("^20", {".nvmrc": "18\n", ".tool-versions": "node ^20\n"}),
    (">=18 <21", {".nvmrc": "18\n", ".tool-versions": "node >=18,<21\n"}),
])
def test_write_pins_tells_ranges_from_words(tmp_path: Path, spec: str,
                                            want: dict[str, str]) -> None:
    (tmp_path / ".nvmrc").write_text("18\n")
    tool = ResolvedTool("node", "20.11.1", "x-node-20.11.1")
    write_pins(tmp_path, [parse_tool_spec(f"node@{spec}")], [tool])
    assert _files(tmp_path) == want


@pytest.mark.parametrize("command", [("sync",), ("use",), ("use", "--local")])
def test_a_malformed_pin_names_its_file(omg_env: OmgEnv, command: tuple[str, ...]) -> None:
    project = omg_env.root / "app"
    project.mkdir()
    (project / "package.json").write_text('{"engines": {"node": ">=>=18"}}\n')
    proc = omg_env.run(*command, cwd=project)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {project / 'package.json'}: malformed version in "
                                  "'node@>=>=18'"), proc.stderr
