"""Version files of each ecosystem, and their precedence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shims.versionfiles import MARKERS, find_versions, parse_gemfile, read_directory


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


# Manifests: package.json and the Gemfile (real samples, see samples/README.md) ---------

SAMPLES = Path(__file__).parent / "samples"


def _sample(tmp_path: Path, name: str) -> Path:
    import shutil

    return Path(shutil.copytree(SAMPLES / name, tmp_path / name))


def _found(directory: Path) -> dict[str, tuple[str, str]]:
    return {t: (r.spec, r.source.name) for t, r in read_directory(directory).items()}


def test_volta_wins_over_engines(tmp_path: Path) -> None:
    project = _sample(tmp_path, "typescript")  # engines.node ">=4.2.0", volta.node 14.15.5
    assert _found(project) == {"node": ("14.15.5", "package.json")}
    data = json.loads((project / "package.json").read_text())
    del data["volta"]
    (project / "package.json").write_text(json.dumps(data))
    assert _found(project) == {"node": (">=4.2.0", "package.json")}


def test_a_version_file_wins_over_package_json(tmp_path: Path) -> None:
    project = _sample(tmp_path, "dify")  # .nvmrc "22"; devEngines.runtime node "^22.22.1"
    assert _found(project) == {"node": ("22", ".nvmrc")}
    (project / ".nvmrc").unlink()
    # devEngines (how the project is developed) before engines; pnpm is not omg's.
    assert _found(project) == {"node": ("^22.22.1", "package.json")}


def test_package_manager_names_bun(tmp_path: Path) -> None:
    assert _found(_sample(tmp_path, "amytis")) == {"bun": ("1.3.4", "package.json")}


@pytest.mark.parametrize(("manifest", "want"), [
    ({"packageManager": "bun@1.1.0+sha512.0123abcd"}, {"bun": "1.1.0"}),
    ({"packageManager": "pnpm@9.1.0+sha512.0123abcd"}, {}),
    ({"devEngines": {"runtime": [{"name": "bun", "version": "1"},
                                 {"name": "node", "version": ">= 20.0.0", "onFail": "error"}]}},
     {"bun": "1", "node": ">= 20.0.0"}),
    ({"devEngines": {"runtime": {"name": "node", "onFail": "error"}},
      "engines": {"node": ">=18 <21", "npm": ">=9"}}, {"node": ">=18 <21"}),
    ({"volta": {"node": "20.11.1", "npm": "10.2.4", "yarn": "1.22.19"},
      "engines": {"node": "^18 || ^20"}}, {"node": "20.11.1"}),
    ({"engines": {"node": "v20.x", "bun": ">=1.1"}}, {"node": "20.x", "bun": ">=1.1"}),
    ({"name": "no-pins", "engines": ["node"]}, {}),
])
def test_package_json_fields(tmp_path: Path, manifest: dict[str, object],
                             want: dict[str, str]) -> None:
    (tmp_path / "package.json").write_text(json.dumps(manifest, indent=2))
    assert {t: r.spec for t, r in read_directory(tmp_path).items()} == want


@pytest.mark.parametrize(("sample", "ruby_version", "want"), [
    ("rails-tilde", None, "~> 3.3"),
    ("gemfile-file", "3.4.5\n", "3.4.5"),
    ("gemfile-read", "ruby-3.2.2\n", "3.2.2"),
    ("gemfile-join", "3.3.6\n", "3.3.6"),
])
def test_gemfile_ruby_directive(tmp_path: Path, sample: str, ruby_version: str | None,
                                want: str) -> None:
    project = _sample(tmp_path, sample)
    if ruby_version is not None:
        (project / ".ruby-version").write_text(ruby_version)
        assert _found(project) == {"ruby": (want, ".ruby-version")}  # the file itself wins
        (project / ".ruby-version").rename(project / ".ruby-version.bak")
        assert _found(project) == {}
        (project / ".ruby-version.bak").rename(project / ".ruby-version")
        # Without .ruby-version among the version files, the Gemfile's pointer is followed.
        found = parse_gemfile((project / "Gemfile").read_text(), project)
        assert found == {"ruby": want}
    else:
        assert _found(project) == {"ruby": (want, "Gemfile")}


@pytest.mark.parametrize(("line", "want"), [
    ('ruby "3.3.0"', {"ruby": "3.3.0"}),
    ("ruby '3.2.2', :patchlevel => '53'", {"ruby": "3.2.2"}),
    ('ruby ">= 3.1", "< 3.4"', {"ruby": ">= 3.1, < 3.4"}),
    ('ruby "~> 3.2.0" if Object.const_defined?(:RUBY_VERSION)', {"ruby": "~> 3.2.0"}),
    ('ruby "3.3.0", engine: "jruby", engine_version: "9.4.5.0"', {}),
    ("ruby RUBY_VERSION", {}),
    ('ruby file: "../.ruby-version"', {}),  # never outside the project
    ('ruby file: "/etc/hostname"', {}),
])
def test_gemfile_lines(tmp_path: Path, line: str, want: dict[str, str]) -> None:
    assert parse_gemfile(f'source "https://rubygems.org"\n\n{line}\n', tmp_path) == want


def test_gemfile_file_may_be_tool_versions(tmp_path: Path) -> None:
    (tmp_path / ".tool-versions").write_text("ruby 3.3.1\nnodejs 20.11.1\n")
    assert parse_gemfile('ruby file: ".tool-versions"\n', tmp_path) == {"ruby": "3.3.1"}


def test_rust_version_file_is_below_rust_toolchain(tmp_path: Path) -> None:
    (tmp_path / ".rust-version").write_text("1.77.2\n")
    assert _found(tmp_path) == {"rust": ("1.77.2", ".rust-version")}
    (tmp_path / "rust-toolchain.toml").write_text('[toolchain]\nchannel = "1.78.0"\n')
    assert _found(tmp_path) == {"rust": ("1.78.0", "rust-toolchain.toml")}


def test_a_manifest_makes_a_project_only_when_it_pins(tmp_path: Path) -> None:
    from shims.project import find_project

    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "package.json").write_text('{"name": "app", "engines": {"vscode": "^1.80.0"}}')
    assert find_project(app / "src") is None
    (app / "package.json").write_text('{"name": "app", "engines": {"node": ">=20"}}')
    assert find_project(app / "src") == app


def test_the_hook_tests_the_same_markers_as_before() -> None:
    """The cd hook pays one `[[ -e ]]` per marker and directory: manifests (which need
    parsing) and `.rust-version` stay out of it."""
    assert MARKERS == ("mise.toml", ".mise.toml", ".tool-versions", ".nvmrc", ".node-version",
                       ".python-version", ".go-version", "go.mod", "rust-toolchain.toml",
                       "rust-toolchain", ".ruby-version", ".java-version", ".bun-version")
