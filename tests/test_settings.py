"""Settings are checked whole on every read: a bad one is a usage error naming it.

Every test runs the real `omg` in a subprocess, through the fast paths (`current`,
`use`, `rollback`, `search`) and the typer CLI (`store ls`), which must print the
same one `error:` line with exit 2, never an internal error (exit 70).
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from pathlib import Path

import pytest

from omg import config, locate
from omg.daemon import server
from omg.net import NetOptions
from omg.providers import TOOLS
from tests.conftest import OmgEnv

ROOT = Path(__file__).resolve().parent.parent
#: A fast-path command and a typer one; `current` hands a bad setting to the typer CLI.
COMMANDS = (("current",), ("store", "ls"))


def write_config(env: OmgEnv, text: str) -> Path:
    path = env.root / "config.toml"
    path.write_text(text)
    env.env["OMG_CONFIG"] = str(path)
    return path


def assert_usage_error(env: OmgEnv, args: tuple[str, ...], first_line: str,
                       extra_env: dict[str, str] | None = None) -> None:
    proc = env.run(*args, extra_env=extra_env, cwd=env.root)
    assert proc.returncode == 2, (args, proc.stderr)
    lines = proc.stderr.splitlines()
    assert lines[0] == first_line, (args, proc.stderr)
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(("name", "value", "what"), [
    ("OMG_MAX_FILES", "abc", "a positive integer"),
    ("OMG_MAX_UNPACKED_BYTES", "-1", "a positive integer"),
    ("OMG_MAX_DEPTH", "0", "a positive integer"),
    ("OMG_NET_RETRIES", "x", "an integer >= 0"),
    ("OMG_NET_JOBS", "1.5", "a positive integer"),
    ("OMG_NET_TIMEOUT", "0", "a number of seconds > 0"),
    ("OMG_NET_BACKOFF", "nan", "a number of seconds >= 0"),
    ("OMG_INDEX_TTL", "-5", "a number of seconds >= 0"),
    ("OMG_AUR_TTL", "soon", "a number of seconds >= 0"),
    ("OMG_LIBC", "bsd", "gnu or musl"),
    ("OMG_SIGNATURES", "maybe", "require, when-available or off"),
])
def test_a_bad_variable_is_a_usage_error_naming_it(omg_env: OmgEnv, name: str, value: str,
                                                   what: str) -> None:
    line = f"error: {name}: expected {what}, got {value!r}"
    for args in COMMANDS:
        assert_usage_error(omg_env, args, line, {name: value})


@pytest.mark.parametrize(("name", "value", "what"), [
    ("OMG_NODE_MIRROR", "notaurl", "a URL (http:// or https://)"),
    ("OMG_ENDOFLIFE_MIRROR", "ftp://mirror/eol", "a URL (http:// or https://)"),
    ("OMG_NODE_KEYRING", "keys.gpg", "an absolute path (~ allowed)"),
    ("OMG_SOCKET", "omgd.sock", "an absolute path"),
    ("OMG_PACMAN_CONF", "pacman.conf", "an absolute path"),
    ("OMG_BUILD_DIR", "build", "an absolute path"),
])
def test_a_bad_text_variable_is_the_usage_error_its_key_is(omg_env: OmgEnv, name: str,
                                                           value: str, what: str) -> None:
    """The variable that overrides a checked key holds the same type as text: a mirror
    that is no URL was a failed download (exit 6, "check the network"), a relative
    socket a path in the current directory. Checked wherever the settings are loaded:
    the typer CLI, and `use` once it must install (`current` loads none)."""
    line = f"error: {name}: expected {what}, got {value!r}"
    for args in (("store", "ls"), ("use", "node@20")):
        assert_usage_error(omg_env, args, line, {name: value})


def test_every_text_variable_of_a_checked_key_is_checked() -> None:
    from omg import config_edit

    for key in config_edit.all_keys():
        kind, name = config_edit.kind_of(key), config_edit.variable_of(key)
        if name and kind in (config.PATH, config.HOME_PATH, config.URL) and name != "OMG_HOME":
            assert config.STRING_VARIABLES.get(name) == kind, (key, name)


@pytest.mark.parametrize(("text", "key", "what", "got"), [
    ('[store]\nmax_files = "lots"\n', "[store] max_files", "a positive integer", "'lots'"),
    ("[store]\nmax_unpacked_bytes = true\n", "[store] max_unpacked_bytes",
     "a positive integer", "True"),
    ("[store]\nmax_depth = 0\n", "[store] max_depth", "a positive integer", "0"),
    ('[network]\nretries = "x"\n', "[network] retries", "an integer >= 0", "'x'"),
    ("[network]\ntimeout = nan\n", "[network] timeout", "a number of seconds > 0", "nan"),
    ('[network]\nindex_ttl = "1d"\n', "[network] index_ttl", "a number of seconds >= 0",
     "'1d'"),
    ("home = 5\n", "home", "an absolute path (~ allowed)", "5"),
    ('home = "relative/omg"\n', "home", "an absolute path (~ allowed)", "'relative/omg'"),
    ("[mirrors]\nnode = 3\n", "[mirrors] node", "a URL (http:// or https://)", "3"),
    ('[mirrors]\nnode = "a\\nb"\n', "[mirrors] node", "a URL (http:// or https://)",
     "'a\\nb'"),
    # Nothing in omg fetches file:// (omg.net is httpx): refused here, not by a download.
    ('[mirrors]\nnode = "file:///srv/node"\n', "[mirrors] node", "a URL (http:// or https://)",
     "'file:///srv/node'"),
    ("[keyrings]\nnode = ['a']\n", "[keyrings] node", "an absolute path (~ allowed)",
     "['a']"),
    ('[signatures]\npolicy = "strict"\n', "[signatures] policy",
     "require, when-available or off", "'strict'"),
    ("[daemon]\nmax_clients = 2.5\n", "[daemon] max_clients", "a positive integer", "2.5"),
    ('[daemon]\nsocket = "omgd.sock"\n', "[daemon] socket", "an absolute path",
     "'omgd.sock'"),
    ('[arch]\nmakepkg_args = "--nodeps"\n', "[arch] makepkg_args", "a list of strings",
     "'--nodeps'"),
    ("[arch]\naur_cache_ttl = -1\n", "[arch] aur_cache_ttl", "a number of seconds >= 0", "-1"),
    ('[arch]\nreview_findings = "ask"\n', "[arch] review_findings", "warn or deny", "'ask'"),
    ('[arch]\nsandbox = "no"\n', "[arch] sandbox", "true or false", "'no'"),
])
def test_a_bad_config_value_is_a_usage_error_naming_the_key(
        omg_env: OmgEnv, text: str, key: str, what: str, got: str) -> None:
    """Whatever the command uses: `current` reads no [network], [daemon] or [arch]."""
    path = write_config(omg_env, text)
    del omg_env.env["OMG_HOME"]  # so that a configured home would be used
    for args in COMMANDS:
        assert_usage_error(omg_env, args, f"error: {path}: {key}: expected {what}, got {got}")
    assert not (omg_env.root / "5").exists() and not (omg_env.root / "relative").exists()


def test_a_section_that_is_not_a_table(omg_env: OmgEnv) -> None:
    path = write_config(omg_env, "store = 3\n")
    assert_usage_error(omg_env, ("current",), f"error: {path}: [store]: expected a table, got 3")


@pytest.mark.parametrize("args", [("use", "node@20"), ("rollback",), ("current",),
                                  ("search", "python"), ("search", "python", "--json")])
def test_the_fast_paths_hand_a_bad_setting_to_the_full_cli(omg_env: OmgEnv,
                                                           args: tuple[str, ...]) -> None:
    assert_usage_error(omg_env, args, "error: OMG_MAX_FILES: expected a positive integer, "
                       "got 'abc'", {"OMG_MAX_FILES": "abc"})


def test_unknown_keys_are_one_warning_line_each(omg_env: OmgEnv, tmp_path: Path) -> None:
    path = write_config(omg_env, 'colour = "red"\n[store]\nmax_filez = 3\n[gcc]\nkeep = 1\n')
    expected = [f"warning: {path}: unknown key colour, ignored",
                f"warning: {path}: unknown key [store] max_filez, ignored",
                f"warning: {path}: unknown section [gcc], ignored"]
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    added = omg_env.run("store", "add", "-n", "t", "-v", "1", str(src))
    assert added.returncode == 0  # the command itself runs
    assert added.stderr.splitlines() == expected
    # `use` of a tool the store lacks reads the settings in the fast path, then again
    # in the typer CLI that reports it: still one line per key.
    proc = omg_env.run("use", "nosuchtool@1")
    assert proc.returncode == 3, proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.startswith("warning:")] == expected


def test_a_configured_home_expands_the_tilde(omg_env: OmgEnv, tmp_path: Path) -> None:
    write_config(omg_env, 'home = "~/omg-here"\n[store]\nmax_depth = 9\n')
    del omg_env.env["OMG_HOME"]
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    proc = omg_env.run("store", "add", "-n", "t", "-v", "1", str(src), check=True,
                       cwd=tmp_path)
    home = Path(omg_env.env["HOME"]) / "omg-here"
    assert proc.stdout.startswith(f"{home}/store/")
    assert not (tmp_path / "~").exists()
    assert config.load(omg_env.env).limits.max_depth == 9
    assert config.load({**omg_env.env, "OMG_MAX_DEPTH": "4"}).limits.max_depth == 4


# The schema stays in step with the code that reads the settings, and with the docs ------


def test_every_parsed_variable_sends_the_fast_paths_to_omg_config() -> None:
    assert set(locate.PARSED_VARIABLES) == set(config.ENV_SCHEMA)


def table(name: str) -> Mapping[str, config.Kind]:
    kinds = config.SCHEMA[name]
    assert not isinstance(kinds, config.Kind)
    return kinds


def test_the_schema_knows_the_keys_the_code_reads() -> None:
    # Every field of the daemon's Limits is a [daemon] key (omgd reads them all).
    daemon_keys = {f.name for f in dataclasses.fields(server.Limits)}
    assert daemon_keys <= set(table("daemon"))
    net_keys = {f.name for f in dataclasses.fields(NetOptions)} - {"offline"}
    # index_ttl is read by the providers, unreachable_ttl by omg.unreachable.
    assert set(table("network")) == net_keys | {"index_ttl", "unreachable_ttl"}
    mirrors = set(table("mirrors"))
    assert set(TOOLS) <= mirrors
    from omg import support
    from omg.audit.feeds import FEEDS

    assert {m.removesuffix("_api") for m in mirrors} == set(TOOLS) | {"endoflife"} | set(FEEDS)
    assert support.MIRROR_VAR == "OMG_ENDOFLIFE_MIRROR"  # Settings.mirror("endoflife")
    # Settings.mirror(key) reads OMG_<KEY>_MIRROR, which each feed names in its messages.
    assert all(f.mirror_var == f"OMG_{k.upper()}_MIRROR" for k, f in FEEDS.items())
    assert set(table("keyrings")) <= set(TOOLS)
    assert set(table("store")) == {"max_unpacked_bytes", "max_files", "max_depth"}


#: The Python type each kind of setting is, once `load` has checked it.
KIND_TYPES = {config.POSITIVE_INT: int, config.COUNT: int, config.SECONDS: float,
              config.SECONDS_OR_ZERO: float, config.STRING: str, config.STRINGS: list[str],
              config.PATH: str, config.HOME_PATH: str, config.DAYS: float, config.URL: str,
              config.POLICY: str, config.FINDINGS: str, config.BOOL: bool,
              config.KEYSERVER: str, config.ACTION: str, config.AUR_ACTION: str,
              config.SEVERITY: str, config.GROUPS: dict[str, list[str]],
              config.CACHE_URLS: list[str], config.KEYS: list[str]}


def test_the_config_types_say_what_the_schema_checks() -> None:
    sections = typing.get_type_hints(config.Config)
    assert set(sections) == set(config.SCHEMA)
    for key, kind in config.SCHEMA.items():
        if isinstance(kind, config.Kind):
            assert sections[key] == KIND_TYPES[kind], key
            continue
        keys = typing.get_type_hints(sections[key])
        assert set(keys) == set(kind), key
        for sub, sub_kind in kind.items():
            assert keys[sub] == KIND_TYPES[sub_kind], f"[{key}] {sub}"


def test_a_config_file_reads_back_typed(omg_env: OmgEnv) -> None:
    write_config(omg_env, "[network]\nretries = 0\nbackoff = 2\n[daemon]\n"
                          "trusted_users = ['ci']\n[mirrors]\nnode = 'http://m'\n")
    settings = omg_env.settings()
    assert settings.raw.get("network", {}).get("retries") == 0
    assert settings.raw["daemon"]["trusted_users"] == ["ci"]
    assert settings.mirror("node", "http://upstream") == "http://m"
    assert NetOptions.from_config(settings.raw, {}).retries == 0


def test_docs_list_every_setting() -> None:
    doc = (ROOT / "docs" / "config.md").read_text()
    for key, kind in config.SCHEMA.items():
        if isinstance(kind, config.Kind):
            assert f"`{key}`" in doc, key
            continue
        assert f"[{key}]" in doc, key
        for sub in kind:
            assert re.search(rf"`{sub}`", doc), f"[{key}] {sub}"
    for name in config.ENV_SCHEMA:
        assert f"`{name}`" in doc, name
    assert "`OMG_CONFIG`" in doc
    assert "docs/config.md" in (ROOT / "README.md").read_text()
