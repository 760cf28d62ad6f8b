"""`omg doctor`: a missing store path behind a generation is reported; --repair
rebuilds the whole index (store paths and generations) after db/ is deleted."""

from __future__ import annotations

import json
import shutil

from store.fsutil import force_remove
from tests.conftest import OmgEnv

from .helpers import fake_tool


def _add(omg_env: OmgEnv, tool: str, version: str) -> str:
    src = fake_tool(omg_env.root, tool, version)
    out = omg_env.run("store", "add", str(src), "--name", tool, "--version", version,
                      check=True).stdout.strip()
    return out.rsplit("/", 1)[-1]


def test_doctor_names_the_generation_whose_store_path_is_missing(omg_env: OmgEnv) -> None:
    node = _add(omg_env, "node", "20.1.0")
    omg_env.run("use", "node@20.1.0", check=True)
    assert omg_env.run("doctor", check=True).stdout.startswith("ok:")
    force_remove(omg_env.layout.store_path(node))
    proc = omg_env.run("doctor")
    assert proc.returncode == 5
    assert "generation 1" in proc.stderr
    assert node in proc.stderr
    assert "Traceback" not in proc.stderr


def test_doctor_repair_rebuilds_generations_after_db_is_deleted(omg_env: OmgEnv) -> None:
    _add(omg_env, "node", "20.1.0")
    _add(omg_env, "node", "22.1.0")
    omg_env.run("use", "node@20.1.0", check=True)
    omg_env.run("use", "node@22.1.0", check=True)
    omg_env.run("rollback", check=True)
    before = json.loads(omg_env.run("generations", "--json", check=True).stdout)
    store_before = json.loads(omg_env.run("store", "ls", "--json", check=True).stdout)
    shutil.rmtree(omg_env.layout.db)
    proc = omg_env.run("doctor", "--repair", check=True)
    assert "2 generations" in proc.stdout
    assert json.loads(omg_env.run("generations", "--json", check=True).stdout) == before
    assert json.loads(omg_env.run("store", "ls", "--json", check=True).stdout) == store_before
    assert omg_env.run("doctor", check=True).returncode == 0
