"""``--json`` is a contract: every command that has it has a documented shape
(omg/schemas/omg.schema.json, docs/json.md), and what it prints matches it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import OmgEnv
from tests.generations.helpers import fake_tool
from tests.providers.test_import import homes
from tests.schema import check, schema

DOCS = Path(__file__).resolve().parent.parent / "docs" / "json.md"


def _json_commands() -> list[str]:
    """Every command (and group run as one) with a --json option, as `store-ls`."""
    import typer.main

    from omg.cli import build_app

    found: list[str] = []

    def walk(cmd: Any, words: list[str]) -> None:
        if any("--json" in getattr(p, "opts", ()) for p in cmd.params):
            found.append("-".join(words))
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, [*words, name])

    walk(typer.main.get_command(build_app()), [])
    return found


def test_every_json_command_has_a_schema_and_a_section() -> None:
    commands = _json_commands()
    assert {"doctor", "current", "store-ls", "venv-list", "config-list", "daemon-status",
            "import", "generations", "env"} <= set(commands)
    docs = DOCS.read_text()
    sections = set(re.findall(r"^### `omg ([a-z -]+)`", docs, re.M))
    for command in commands:
        assert command in schema()["$defs"], f"omg {command} --json has no schema"
        assert command.replace("-", " ") in sections, f"docs/json.md lacks omg {command}"


def _no_placeholder(text: str) -> None:
    assert not re.search(r"@(prefix|profile|store_path)@", text), text


def test_profile_and_store_outputs_match_their_schemas(omg_env: OmgEnv) -> None:
    run = omg_env.run
    extra = homes(omg_env.root)
    imported = check("import", run("import", "nvm", "--json", extra_env=extra,
                                   check=True).stdout)
    assert [(r["tool"], r["created"], r["skipped"]) for r in imported] == [
        ("node", True, None), ("node", True, None)]
    store = f"{omg_env.home}/store"
    assert all(r["store_path"]["path"] == f"{store}/{r['store_path']['name']}"
               for r in imported)
    # What import brought in is kept as installed: `omg store roots` lists those roots.
    roots = check("store-roots", run("store", "roots", "--json", check=True).stdout)
    assert sorted(r["store_path"]["name"] for r in roots) == sorted(
        r["store_path"]["name"] for r in imported)
    assert all(r["name"].startswith("installs/node@") for r in roots)
    assert run("store", "roots", check=True).stdout.splitlines() == [
        f"{r['name']} -> {r['store_path']['name']}" for r in roots]
    src = fake_tool(omg_env.root, "mytool", "1.0")
    added = check("store-add", run("store", "add", str(src), "--name", "mytool",
                                   "--version", "1.0", "--json", check=True).stdout)
    assert added["created"] is True and added["created_at"].endswith("Z")
    name = added["store_path"]["name"]
    listed = check("store-ls", run("store", "ls", "--json", check=True).stdout)
    assert name in [r["store_path"]["name"] for r in listed]
    info = check("store-info", run("store", "info", name, "--json", check=True).stdout)
    assert info["store_path"] == added["store_path"]
    check("store-verify", run("store", "verify", "--json", check=True).stdout)

    used = check("use", run("use", "node@20", "--json", check=True).stdout)
    prefix = f"{omg_env.env['XDG_DATA_HOME']}/omg/prefix"
    # The placeholders a tool's env is recorded with, filled in for this user.
    assert used["tools"][0]["env"] == {"NPM_CONFIG_PREFIX": f"{prefix}/npm/20"}
    check("use", run("use", "mytool", "--json", check=True).stdout)
    current = run("current", "--json", check=True).stdout
    _no_placeholder(current)
    cur = check("current", current)
    # One convention for store paths everywhere (it was a full path in `list` and
    # a bare name in `which` and `current`).
    which = check("which", run("which", "node", "--json", check=True).stdout)
    installed = check("list", run("list", "node", "--json", check=True).stdout)
    [node] = [t for t in cur["tools"] if t["tool"] == "node"]
    assert which["store_path"] == node["store_path"] in [r["store_path"] for r in installed]
    gens = check("generations", run("generations", "--json", check=True).stdout)
    assert [g["number"] for g in gens] == [1, 2]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", gens[0]["time"])
    check("generations-list", run("generations", "list", "--json", check=True).stdout)
    diff = check("generations-diff", run("generations", "diff", "1", "2", "--json",
                                         check=True).stdout)
    assert diff["added"] == {"mytool": "1.0"}
    env = run("env", "--json", check=True).stdout
    _no_placeholder(env)
    assert check("env", env)["variables"]["NPM_CONFIG_PREFIX"] == f"{prefix}/npm/20"
    check("uninstall", run("uninstall", "mytool", "--json", check=True).stdout)
    check("rollback", run("rollback", "--json", check=True).stdout)
    deleted = check("generations-delete", run("generations", "delete", "3", "--json",
                                              check=True).stdout)
    assert deleted["deleted"] == [3]
    project = omg_env.root / "project"
    project.mkdir()
    (project / ".node-version").write_text("18\n")
    check("sync", run("sync", "--json", cwd=project, check=True).stdout)
    check("venv-list", run("venv", "list", "--json", check=True).stdout)
    entries = check("config-list", run("config", "list", "--json", check=True).stdout)
    [home] = [e for e in entries if e["key"] == "home"]
    assert (home["value"], home["source"]) == (str(omg_env.home), "OMG_HOME")
    check("gc", run("gc", "--dry-run", "--json", check=True).stdout)
    gc = check("gc", run("gc", "--older-than", "0d", "--json", check=True).stdout)
    assert all(d["path"] == f"{store}/{d['name']}" for d in gc["dead"])


def test_doctor_json(omg_env: OmgEnv) -> None:
    """Healthy, damaged (exit 5, the problems in the JSON) and --repair."""
    from store.fsutil import force_remove

    src = fake_tool(omg_env.root, "node", "20.1.0")
    omg_env.run("store", "add", str(src), "--name", "node", "--version", "20.1.0", check=True)
    omg_env.run("use", "node@20.1.0", check=True)
    ok = check("doctor", omg_env.run("doctor", "--json", check=True).stdout)
    assert ok["ok"] is True and ok["problems"] == [] and ok["store_paths"] == 2
    node = json.loads(omg_env.run("current", "--json", check=True).stdout)["tools"][0]
    force_remove(omg_env.layout.store_path(node["store_path"]["name"]))
    bad = omg_env.run("doctor", "--json")
    assert bad.returncode == 5 and bad.stderr.startswith("error: ")
    found = check("doctor", bad.stdout)
    assert not found["ok"] and {p["kind"] for p in found["problems"]} == {"broken"}
    assert node["store_path"]["name"] in found["problems"][0]["detail"]
    repaired = check("doctor", omg_env.run("doctor", "--repair", "--json",
                                           check=True).stdout)
    assert repaired["repair"]["generations"] == 1


def test_install_json_of_runtimes_and_packages_at_once_is_refused(omg_env: OmgEnv) -> None:
    """Two documents of two shapes would be no contract: nothing is installed."""
    proc = omg_env.run("install", "node@20", "some-package", "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: --json: install runtimes and packages in two")
    assert not (omg_env.home / "store").exists() or not any((omg_env.home / "store").iterdir())
