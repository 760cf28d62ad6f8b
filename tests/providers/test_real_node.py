"""End to end with real Node binaries (npm registry, repackaged into the nodejs.org/dist layout)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import OmgEnv

pytestmark = pytest.mark.slow


def test_real_node_install_use_rollback(omg_env: OmgEnv,
                                        real_node_mirror: tuple[str, str, str]) -> None:
    v20, v22, url = real_node_mirror
    env = {"OMG_NODE_MIRROR": f"{url}/dist"}
    proc = omg_env.run("install", "node@20", "--json", extra_env=env, check=True)
    [r] = json.loads(proc.stdout)
    assert r["version"] == v20
    out = subprocess.run([f"{r['store_path']['path']}/bin/node", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == f"v{v20}"
    omg_env.run("install", f"node@{v22.split('.')[0]}", extra_env=env, check=True)
    listed = json.loads(omg_env.run("list", "node", "--remote", "--json", extra_env=env,
                                    check=True).stdout)
    assert [x["version"] for x in listed] == [v22, v20]
    assert all(x["installed"] for x in listed)

    if not (Path(__file__).parents[2] / "omg/cli/profile_cmd.py").exists():
        return

    def node_via_profile() -> str:
        cur = json.loads(omg_env.run("current", "--json", check=True).stdout)
        node = Path(cur["bin"]) / "node"
        return subprocess.run([str(node), "--version"], capture_output=True, text=True,
                              check=True).stdout.strip()

    omg_env.run("use", "node@20", check=True)
    assert node_via_profile() == f"v{v20}"
    omg_env.run("use", f"node@{v22}", check=True)
    assert node_via_profile() == f"v{v22}"
    omg_env.run("rollback", check=True)
    assert node_via_profile() == f"v{v20}"
