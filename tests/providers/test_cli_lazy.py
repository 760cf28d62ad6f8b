"""The typer CLI registers only the invoked command's group; `list --remote` stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from omg.cli import COMMAND_MODULES, COMMANDS, build_app, modules_for
from tests.conftest import OmgEnv


def _names(module: str) -> set[str]:
    import typer.main

    group = typer.main.get_command(build_app([module]))
    return set(group.commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_command_table_matches_what_each_module_registers(module: str) -> None:
    assert _names(module) == {c for c, m in COMMANDS.items() if m == module}


def test_modules_for_a_command_help_or_a_typo() -> None:
    assert modules_for(["list", "node", "--remote"]) == ("omg.cli.runtime_cmd",)
    assert modules_for(["generations", "list"]) == ("omg.cli.profile_cmd",)
    assert modules_for([]) == modules_for(["--help"]) == modules_for(["lsit"]) == \
        COMMAND_MODULES


def test_help_lists_every_command(omg_env: OmgEnv) -> None:
    out = omg_env.run("--help", check=True).stdout
    listed = {line.split()[1] for line in out.splitlines()
              if line.startswith("│ ") and len(line.split()) > 2}
    assert set(COMMANDS) <= listed


def test_unknown_command_is_a_usage_error(omg_env: OmgEnv) -> None:
    proc = omg_env.run("lsit")
    assert proc.returncode == 2 and proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr


PROBE = """
import sys
from omg.entry import main
code = main(sys.argv[1:])
heavy = ("httpx", "rich", "pydantic", "omg.net", "store.local", "omg.cli.profile_cmd",
         "omg.cli.arch_cmd", "omg.cli.store_cmd", "omg.cli.daemon_cmd")
print("LOADED", sorted(m for m in heavy if m in sys.modules), file=sys.stderr)
sys.exit(code)
"""


def _loaded(omg_env: OmgEnv, env: dict[str, str], *args: str) -> tuple[str, list[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], env={**omg_env.env, **env},
                          capture_output=True, text=True, timeout=120, check=True)
    line = next(x for x in proc.stderr.splitlines() if x.startswith("LOADED "))
    loaded: list[str] = json.loads(line.removeprefix("LOADED ").replace("'", '"'))
    return proc.stdout, loaded


def test_list_remote_from_a_warm_cache_loads_no_network_rich_or_pydantic(
        omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    omg_env.run("install", "node@20.10.0", extra_env=mirror_env, check=True)
    other = omg_env.root / "other"
    (other / "bin").mkdir(parents=True)
    omg_env.run("store", "add", str(other), "--name", "other", "--version", "1",
                check=True)  # a store path the catalogue has not seen yet
    cold, loaded = _loaded(omg_env, mirror_env, "list", "node", "--remote")
    assert "store.local" in loaded  # it learned the new store path
    warm, loaded = _loaded(omg_env, mirror_env, "list", "node", "--remote")
    assert warm == cold and warm.startswith("22.2.0")
    assert "20.10.0         2023-11-22  lts:Iron eol:2026-04-30 installed" in warm.splitlines()
    assert loaded == []
    as_json, loaded = _loaded(omg_env, mirror_env, "list", "node", "--remote", "--json")
    assert json.loads(as_json)[0]["version"] == "22.2.0" and loaded == []


def test_string_options_still_reach_commands(omg_env: OmgEnv) -> None:
    """Plain str / list[str] / bool parameters go through omg's light coercion."""
    proc = omg_env.run("install", "frob@1", "--offline")  # list[str], bool
    assert proc.returncode == 3 and "unknown tool 'frob'" in proc.stderr
    proc = omg_env.run("which", "nosuch", "--profile", "x y")  # str argument, str option
    assert proc.returncode == 2 and "invalid profile name 'x y'" in proc.stderr
