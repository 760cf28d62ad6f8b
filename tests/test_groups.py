"""Groups (issue 14, item 11): ``[groups]`` in the config, ``@NAME`` / ``group:NAME``
wherever specs are taken, nested groups, unknown groups and cycles, the documented
templates set through `omg config`, and completion of ``@NAME``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from omg.groups import expand
from store.errors import NotFound, UsageError
from tests.conftest import OmgEnv
from tests.generations.helpers import cli_add

ROOT = Path(__file__).resolve().parent.parent
GROUPS = {"dev": ["node@22", "@data", "aur/foo"], "data": ["python@3.12", "node@22"],
          "a": ["@b"], "b": ["go", "group:a"]}


def test_expand_in_order_nested_and_once() -> None:
    assert expand(["go", "@dev", "group:data"], GROUPS) == [
        "go", "node@22", "python@3.12", "aur/foo"]
    assert expand(["node@20"], {}) == ["node@20"]


def test_an_unknown_group_names_those_there_are() -> None:
    with pytest.raises(NotFound) as err:
        expand(["@dve"], GROUPS)
    assert err.value.exit_code == 3
    assert err.value.message == "unknown group 'dve' (groups: a, b, data, dev)"
    assert "omg config set groups.dve" in (err.value.hint or "")


def test_a_cycle_is_a_usage_error_naming_it() -> None:
    with pytest.raises(UsageError) as err:
        expand(["@a"], GROUPS)
    assert err.value.exit_code == 2
    assert err.value.message == "group cycle: @a -> @b -> @a"


def _config(env: OmgEnv, text: str) -> None:
    path = env.root / "config.toml"
    path.write_text(text)
    env.env["OMG_CONFIG"] = str(path)


def test_use_install_and_uninstall_take_groups(omg_env: OmgEnv) -> None:
    node = cli_add(omg_env, "node", "22.1.0")
    python = cli_add(omg_env, "python", "3.12.4")
    _config(omg_env, '[groups]\ndev = ["node@22", "@data"]\ndata = ["python@3.12"]\n'
                     'loop = ["@loop"]\n')
    used = json.loads(omg_env.run("use", "@dev", "--json", check=True).stdout)
    assert [(t["tool"], t["store_path"]["path"]) for t in used["tools"]] == [
        ("node", node), ("python", python)]
    again = json.loads(omg_env.run("use", "group:dev", "--json", check=True).stdout)
    assert again["unchanged"] is True
    gone = json.loads(omg_env.run("uninstall", "@data", "--json", check=True).stdout)
    assert gone["removed"] == ["python@3.12.4"]
    unknown = omg_env.run("install", "@web")
    assert unknown.returncode == 3
    assert unknown.stderr.splitlines()[0] == (
        "error: unknown group 'web' (groups: data, dev, loop)")
    cycle = omg_env.run("use", "@loop")
    assert cycle.returncode == 2
    assert cycle.stderr.splitlines()[0] == "error: group cycle: @loop -> @loop"
    assert json.loads(omg_env.run("current", "--json", check=True).stdout)["generation"] == 2


def test_a_bad_groups_table_is_a_usage_error(omg_env: OmgEnv) -> None:
    for text in ('[groups]\n"a b" = ["node"]\n', '[groups]\ndev = "node"\n',
                 'groups = ["node"]\n'):
        _config(omg_env, text)
        proc = omg_env.run("current")
        assert proc.returncode == 2, text
        assert "groups: expected a table of groups" in proc.stderr


def test_the_documented_templates_set_through_omg_config(omg_env: OmgEnv) -> None:
    _config(omg_env, "# my settings\n")
    doc = (ROOT / "docs" / "config.md").read_text()
    templates = re.findall(r"^omg config set (groups\.\w+) '(.+)'$", doc, re.M)
    assert {key for key, _ in templates} == {"groups.web", "groups.data", "groups.systems"}
    for key, value in templates:
        omg_env.run("config", "set", key, value, check=True)
        assert json.loads(omg_env.run("config", "get", key, check=True).stdout) == \
            json.loads(value)
    text = (omg_env.root / "config.toml").read_text()
    assert text.startswith("# my settings\n") and '[groups]\nweb = ["node@22", "bun"]' in text
    # Completion offers them, with their members.
    proc = omg_env.run("__complete", "bash", "use", "@")
    assert proc.returncode == 0, proc.stderr
    assert [line.split("\t")[0] for line in proc.stdout.splitlines()] == [
        "@data", "@systems", "@web"]
    assert "@web\tnode@22 bun" in proc.stdout
    omg_env.run("config", "unset", "groups.web", check=True)
    missing = omg_env.run("config", "get", "groups.web")
    assert missing.returncode == 3
    bad = omg_env.run("config", "set", "groups.a b", '["node"]')
    assert bad.returncode == 2 and "unknown setting" in bad.stderr
