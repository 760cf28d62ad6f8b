"""Version files of each ecosystem, and their precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from shims.versionfiles import find_versions, read_directory


@pytest.mark.parametrize(("name", "text", "want"), [
    (".nvmrc", "v20.10.0\n", "node@20.10.0"),
    (".nvmrc", "lts/iron\n", "node@lts/iron"),
    (".nvmrc", "lts/*", "node@lts"),
    (".nvmrc", "node", "node@latest"),
    (".node-version", "20", "node@20"),
    (".python-version", "# comment\n3.12.1\n3.11\n", "python@3.12.1"),
    (".go-version", "1.22.3", "go@1.22.3"),
    ("go.mod", "module x\n\ngo 1.21\n", "go@1.21"),
    ("go.mod", "module x\ngo 1.21.0\ntoolchain go1.22.3 // pinned\n", "go@1.22.3"),
    ("rust-toolchain.toml", '[toolchain]\nchannel = "1.78.0"\ncomponents = ["clippy"]\n',
     "rust@1.78.0"),
    ("rust-toolchain", "stable\n", "rust@stable"),
    (".ruby-version", "ruby-3.3.0\n", "ruby@3.3.0"),
    (".java-version", "temurin-21\n", "java@21"),
    (".bun-version", "1.1.8\n", "bun@1.1.8"),
])
def test_single_files(tmp_path: Path, name: str, text: str, want: str) -> None:
    (tmp_path / name).write_text(text)
    [req] = read_directory(tmp_path).values()
    assert str(req) == want and req.source == tmp_path / name


def test_tool_versions_and_mise(tmp_path: Path) -> None:
    (tmp_path / ".tool-versions").write_text(
        "nodejs 20.10.0 18.0.0\ngolang 1.22.3\npython system\njava temurin-21.0.1+12\n"
        "erlang 26\n")
    (tmp_path / "mise.toml").write_text(
        '[tools]\nnode = "22"\npython = ["3.12", "3.11"]\nruby = { version = "3.3" }\n')
    (tmp_path / ".nvmrc").write_text("18\n")
    found = {t: r.spec for t, r in read_directory(tmp_path).items()}
    # Tools omg has no provider for (erlang) are read too: a tool added with
    # `omg store add` and pinned by `omg use --local` must read back.
    assert found == {"node": "22", "python": "3.12", "ruby": "3.3", "go": "1.22.3",
                     "java": "21.0.1+12", "erlang": "26"}


def test_nearest_directory_wins(tmp_path: Path) -> None:
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (tmp_path / ".nvmrc").write_text("18")
    (tmp_path / ".go-version").write_text("1.21")
    (sub / ".node-version").write_text("20")
    found = find_versions(sub, stop=tmp_path)
    assert found["node"].spec == "20" and found["go"].spec == "1.21"


def test_garbage_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "mise.toml").write_text("[[[")
    (tmp_path / ".python-version").write_text("system\n")
    (tmp_path / ".nvmrc").write_text("\n\n")
    assert read_directory(tmp_path) == {}


def test_project_reader_and_writer_agree_with_the_version_file_reader(tmp_path: Path) -> None:
    """`omg use --local` rewrites the file that pins a tool, so the new pin counts."""
    from shims.project import find_project, read_version_files, write_version_file

    (tmp_path / ".nvmrc").write_text("lts/iron\n")
    (tmp_path / ".tool-versions").write_text("golang 1.22.3\n")
    sub = tmp_path / "src"
    sub.mkdir()
    assert find_project(sub) == tmp_path
    assert {(p.tool, p.spec, p.file) for p in read_version_files(tmp_path)} == {
        ("node", "lts/iron", ".nvmrc"), ("go", "1.22.3", ".tool-versions")}
    assert write_version_file(tmp_path, "node", "22.1.0") == tmp_path / ".nvmrc"
    assert write_version_file(tmp_path, "go", "1.23.0") == tmp_path / ".tool-versions"
    assert write_version_file(tmp_path, "mytool", "1.0") == tmp_path / ".tool-versions"
    assert write_version_file(tmp_path, "python", "3.12") == tmp_path / ".python-version"
    assert {(p.tool, p.spec) for p in read_version_files(tmp_path)} == {
        ("node", "22.1.0"), ("go", "1.23.0"), ("mytool", "1.0"), ("python", "3.12")}
