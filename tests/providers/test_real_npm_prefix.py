"""A real npm's global installs land in the prefix of the node major running it, and a
switch of major in the same shell moves npm (and PATH) to the other one (issue 12 item 9)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import OmgEnv

pytestmark = pytest.mark.slow

#: Prints the NODE_MODULE_VERSION (the native addon ABI) of the node that runs it.
PROBE = "#!/usr/bin/env node\nconsole.log(process.versions.modules)\n"


def test_npm_global_installs_are_per_node_major(omg_env: OmgEnv, tmp_path: Path,
                                               real_node_mirror: tuple[str, str, str]) -> None:
    url = real_node_mirror[2]
    omg_env.run("install", "node@20", "node@22", extra_env={"OMG_NODE_MIRROR": f"{url}/dist"},
                check=True)
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "package.json").write_text(
        '{"name": "omg-abi-probe", "version": "1.0.0", "bin": {"omg-abi-probe": "cli.js"}}\n')
    (probe / "cli.js").write_text(PROBE)
    (probe / "cli.js").chmod(0o755)

    rc = omg_env.root / "rc.bash"
    rc.write_text(omg_env.run("init", "bash", check=True).stdout)
    script = f"""
PATH="$PATH:{Path(sys.executable).parent}"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
omg use node@20 >/dev/null
npm install -g --offline {probe} >/dev/null 2>&1 || echo npm-failed
npm root -g; omg-abi-probe
omg use node@22 >/dev/null
npm root -g; command -v omg-abi-probe || echo absent
"""
    proc = subprocess.run(["bash", "--rcfile", str(rc), "-i", "-c", script],
                          env={**omg_env.env, "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    prefix = omg_env.root / "data" / "omg" / "prefix" / "npm"
    assert proc.stdout.splitlines() == [
        str(prefix / "20" / "lib" / "node_modules"), "115",  # node 20's ABI
        str(prefix / "22" / "lib" / "node_modules"), "absent"], proc.stderr
    assert (prefix / "20" / "bin" / "omg-abi-probe").is_symlink()
    assert not (prefix / "bin").exists()  # nothing went to the old shared prefix
