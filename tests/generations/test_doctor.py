"""`omg doctor`: a missing store path behind a generation is reported; --repair
rebuilds the whole index (store paths and generations) after db/ is deleted."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

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


# Repair that repairs: each kind of damage is named by plain `doctor`, `doctor
# --repair` fixes it, and every command works afterwards. Every CLI run is a
# subprocess: a damaged index must never kill omg with a signal (SIGBUS is -7).

LIVE = ("node", "1.0.0")


def _home_with_history(omg_env: OmgEnv) -> dict[str, str]:
    paths = {v: _add(omg_env, "node", v) for v in ("1.0.0", "2.0.0")}
    paths["junk"] = _add(omg_env, "junk", "9")
    omg_env.run("use", "node@1.0.0", check=True)
    omg_env.run("use", "node@2.0.0", check=True)
    omg_env.run("generations", check=True)  # the index mirrors both generations
    return paths


def _no_crash(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}: {proc.stderr}"
    assert proc.returncode != 70 and "Traceback" not in proc.stderr, proc.stderr
    if proc.returncode:
        assert "omg doctor --repair" in proc.stderr, proc.stderr


def _data_mdb(omg_env: OmgEnv) -> Path:
    return omg_env.layout.db / "data.mdb"


def _garbage(omg_env: OmgEnv, paths: dict[str, str]) -> str:
    data = _data_mdb(omg_env)
    data.write_bytes(random.Random(1).randbytes(data.stat().st_size))
    return "index: damaged"


def _zeroed(omg_env: OmgEnv, paths: dict[str, str]) -> str:
    data = _data_mdb(omg_env)
    data.write_bytes(bytes(data.stat().st_size))
    return "index: damaged"


def _truncated(omg_env: OmgEnv, paths: dict[str, str]) -> str:
    data = _data_mdb(omg_env)
    with open(data, "r+b") as f:
        f.truncate(data.stat().st_size // 2)
    return "truncated"


def _scattered(omg_env: OmgEnv, paths: dict[str, str]) -> str:
    """Random bytes at random places of every page but the two meta pages."""
    data = _data_mdb(omg_env)
    rng = random.Random(3)
    raw = bytearray(data.read_bytes())
    for page in range(2, len(raw) // 4096):
        for _ in range(4):
            at = page * 4096 + rng.randrange(16, 4096 - 8)
            raw[at:at + 8] = rng.randbytes(8)
        raw[page * 4096 + 16:page * 4096 + 20] = rng.randbytes(4)  # its first node offsets
    data.write_bytes(bytes(raw))
    return "index: damaged"


def _bad_meta(omg_env: OmgEnv, paths: dict[str, str]) -> str:
    """A live path's record is garbage and the index does not have it either."""
    record = omg_env.layout.record_path(paths["1.0.0"])
    record.chmod(0o644)
    record.write_bytes(b"\x00garbage{")
    shutil.rmtree(omg_env.layout.db)
    return f"record: {paths['1.0.0']}: bad record"


def _bad_meta_indexed(omg_env: OmgEnv, paths: dict[str, str]) -> str:
    """A record file damaged behind an index that still has its row: old doctor said ok."""
    record = omg_env.layout.record_path(paths["junk"])
    record.chmod(0o644)
    record.write_text('{"format": 1, "tree": 7}')
    return f"record: {paths['junk']}: bad record"


def _bad_generation(omg_env: OmgEnv, paths: dict[str, str]) -> str:
    (omg_env.layout.profiles / _user(omg_env) / "default-1.json").write_text("{not json")
    return "generation: profile"


def _wrong_types_generation(omg_env: OmgEnv, paths: dict[str, str]) -> str:
    (omg_env.layout.profiles / _user(omg_env) / "default-2.json").write_text(
        '{"format": 1, "number": 2, "time": "yesterday", "command": 3}')
    return "generation: profile"


def _user(omg_env: OmgEnv) -> str:
    return next(p.name for p in omg_env.layout.profiles.iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("damage", [_garbage, _zeroed, _truncated, _scattered, _bad_meta,
                                    _bad_meta_indexed, _bad_generation,
                                    _wrong_types_generation],
                         ids=lambda f: f.__name__.strip("_"))
def test_doctor_names_the_damage_and_repair_repairs_it(omg_env: OmgEnv, damage: Any) -> None:
    paths = _home_with_history(omg_env)
    store_before = sorted(json.loads(omg_env.run("store", "ls", "--json",
                                                 check=True).stdout),
                          key=lambda r: r["store_path"]["name"])
    expected = damage(omg_env, paths)
    if damage is not _scattered:  # LMDB itself may crash reading a damaged page
        for args in (["store", "ls"], ["gc", "--dry-run"], ["generations", "list"]):
            _no_crash(omg_env.run(*args))  # before the repair: a clear error at worst
    found = omg_env.run("doctor")
    _no_crash(found)
    assert found.returncode == 5 and expected in found.stderr, found.stderr
    repaired = omg_env.run("doctor", "--repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "index rebuilt: 5 store paths, 2 generations" in repaired.stdout
    after = omg_env.run("doctor")
    assert after.returncode == 0, after.stderr
    store_after = sorted(json.loads(omg_env.run("store", "ls", "--json", check=True).stdout),
                         key=lambda r: r["store_path"]["name"])
    assert [(r["store_path"], r["name"], r["version"]) for r in store_after] == \
        [(r["store_path"], r["name"], r["version"]) for r in store_before]
    dry = omg_env.run("gc", "--dry-run", check=True).stdout
    assert f"would delete {omg_env.layout.store_path(paths['junk'])}" in dry
    assert "1 store path would be deleted" in dry
    gens = json.loads(omg_env.run("generations", "list", "--json", check=True).stdout)
    assert [g["number"] for g in gens] == [1, 2]
    omg_env.run("use", "node@1.0.0", check=True)
    assert omg_env.run("which", "node", check=True).stdout.strip().startswith(
        str(omg_env.layout.store_path(paths["1.0.0"])))


def test_repair_keeps_a_bad_record_aside_and_rebuilds_it_from_the_tree(
        omg_env: OmgEnv) -> None:
    paths = _home_with_history(omg_env)
    env_path = json.loads(omg_env.run("current", "--json", check=True).stdout)["env"]["name"]
    before = json.loads(omg_env.run("store", "info", env_path, "--json", check=True).stdout)
    record = omg_env.layout.record_path(env_path)
    record.chmod(0o644)
    record.write_bytes(b"not a record")
    proc = omg_env.run("doctor", "--repair", check=True)
    assert f"repaired: {env_path}: its record was unreadable" in proc.stdout
    kept = [p for p in omg_env.layout.store.iterdir() if p.name.startswith(f".{record.name}")]
    assert [p.read_bytes() for p in kept] == [b"not a record"]
    after = json.loads(omg_env.run("store", "info", env_path, "--json", check=True).stdout)
    # What the tree says: the name (split on a name the store knows), the content,
    # and the store paths its symlinks point into.
    for key in ("name", "version", "size", "files", "references"):
        assert after[key] == before[key], key
    assert paths["2.0.0"] in [r["name"] for r in after["references"]]
    assert omg_env.run("store", "verify", check=True).returncode == 0


def test_repair_sets_a_corrupt_generation_record_aside_and_keeps_the_generation(
        omg_env: OmgEnv) -> None:
    _home_with_history(omg_env)
    user_dir = omg_env.layout.profiles / _user(omg_env)
    (user_dir / "default-1.json").write_text("{not json")
    omg_env.run("doctor", "--repair", check=True)
    assert (user_dir / "default-1.json.corrupt").read_text() == "{not json"
    assert not (user_dir / "default-1.json").exists()
    assert (user_dir / "default-1-link").is_symlink()
    omg_env.run("rollback", "--to", "1", check=True)
    listed = omg_env.run("generations", check=True).stdout.splitlines()
    assert listed[0].startswith("*    1  ?")


def test_gc_refuses_when_a_live_path_has_no_readable_record(omg_env: OmgEnv) -> None:
    """What such a path references is unknown: gc deletes nothing, not even the junk."""
    paths = _home_with_history(omg_env)
    record = omg_env.layout.record_path(paths["2.0.0"])
    record.chmod(0o644)
    record.write_bytes(b"{")
    shutil.rmtree(omg_env.layout.db)
    proc = omg_env.run("gc")
    assert proc.returncode == 5, proc.stderr
    assert paths["2.0.0"] in proc.stderr and "gc deleted nothing" in proc.stderr
    assert omg_env.layout.store_path(paths["junk"]).is_dir()
    # A dead path's record is never needed: with the live one repaired, gc frees it.
    omg_env.run("doctor", "--repair", check=True)
    junk_record = omg_env.layout.record_path(paths["junk"])
    junk_record.chmod(0o644)
    junk_record.write_bytes(b"{")
    shutil.rmtree(omg_env.layout.db)
    assert "1 store path deleted" in omg_env.run("gc", check=True).stdout
