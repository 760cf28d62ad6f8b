"""Bun and Python commands work from the profile as from their store path (fixture mirrors).

Before: bun installed but `bun: command not found` (its store path holds /bun and
only bin/ was linked); python3 through the profile was started by a path under the
profile's symlinked directory, from which CPython cannot find its own stdlib.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import OmgEnv


def _bin(omg_env: OmgEnv) -> Path:
    return Path(json.loads(omg_env.run("current", "--json", check=True).stdout)["bin"])


def _run(path: Path, *args: str) -> str:
    return subprocess.run([str(path), *args], capture_output=True, text=True,
                          check=True).stdout


def test_bun_and_bunx_run_from_the_profile(omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    omg_env.run("use", "bun@1.1", extra_env=mirror_env, check=True)
    bin_dir = _bin(omg_env)
    assert _run(bin_dir / "bun").strip() == "1.1.8"
    assert _run(bin_dir / "bunx").strip() == "1.1.8"
    [bun] = omg_env.store().find("bun")
    which = json.loads(omg_env.run("which", "bunx", "--json", check=True).stdout)
    assert which["tool"] == "bun"
    assert which["path"] == str(omg_env.layout.store_path(bun.path) / "bun")


def test_python_starts_from_its_store_path_with_python_and_pip(
        omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    omg_env.run("use", "python@3.12", extra_env=mirror_env, check=True)
    bin_dir = _bin(omg_env)
    [py] = omg_env.store().find("python")
    store_bin = omg_env.layout.store_path(py.path) / "bin"
    # The fixture interpreter prints the path it was started by, where CPython looks
    # for its stdlib: the store path's, never one under the profile's symlink.
    for name in ("python3", "python", "python3.12"):
        out = _run(bin_dir / name, "-c", "pass")
        assert "Python 3.12.5" in out
        started = out.split("started as ", 1)[1].strip()
        assert os.path.dirname(started) == os.path.realpath(store_bin), (name, out)
    assert os.path.realpath(bin_dir / "pip") == str((store_bin / "pip3").resolve())
    which = json.loads(omg_env.run("which", "python", "--json", check=True).stdout)
    assert which["path"] == str((store_bin / "python3.12").resolve())
    current = json.loads(omg_env.run("current", "--json", check=True).stdout)
    assert current["tools"]
