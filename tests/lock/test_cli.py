"""`omg lock`, install from a lock, `omg sync --frozen`, `omg status`, `omg fingerprint`,
end to end through the CLI against a two-platform Node mirror (conftest.py)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from omg import lockfile
from tests.conftest import OmgEnv
from tests.lock.conftest import project


def test_lock_covers_both_platforms_and_is_rewritten_byte_identical(lock_env: OmgEnv) -> None:
    proj = project(lock_env.root, {".node-version": "20\n"})
    done = lock_env.run("lock", "--json", cwd=proj, check=True)
    out = json.loads(done.stdout)
    assert out["changed"] is True
    text = (proj / "omg.lock").read_bytes()
    data = tomllib.loads(text.decode())
    node = data["tools"]["node"]
    assert (node["spec"], node["file"], node["version"]) == ("20", ".node-version", "20.12.0")
    assert sorted(node["platforms"]) == ["linux-arm64-gnu", "linux-x64-gnu"]
    x64 = node["platforms"]["linux-x64-gnu"]
    assert x64["artifacts"][0]["url"].endswith("/v20.12.0/node-v20.12.0-linux-x64.tar.xz")
    assert "store_path" not in x64  # nothing installed: no name known yet
    assert not list((lock_env.home / "store").glob("*-node-*"))
    again = lock_env.run("lock", cwd=proj, check=True)
    assert "unchanged" in again.stdout
    assert (proj / "omg.lock").read_bytes() == text
    assert lock_env.run("lock", "--check", cwd=proj).returncode == 0
