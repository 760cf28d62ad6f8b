"""A lock of each runtime omg installs, against its upstream-layout mirror
(tests/providers/mirrors.py): this platform's artifacts in the lock are the ones an
install downloads, and the install from the lock gives the locked store path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from omg import lockfile as L
from tests.conftest import OmgEnv, make_env
from tests.lock.conftest import project
from tests.providers.conftest import FAST_NET
from tests.providers.mirrors import (
    MirrorServer,
    build_bun,
    build_endoflife,
    build_go,
    build_java,
    build_python,
    build_ruby,
    build_rust,
)

X64 = "linux-x64-gnu"
CASES: list[tuple[str, dict[str, str], Callable[..., dict[str, str]], str]] = [
    ("go", {".go-version": "1.22\n"}, build_go, "1.22.3"),
    ("python", {".python-version": "3.12\n"}, build_python, "3.12.5"),
    ("bun", {".bun-version": "1.1\n"}, build_bun, "1.1.8"),
    ("ruby", {".ruby-version": "3.3\n"}, build_ruby, "3.3.4"),
    ("java", {".java-version": "21\n"}, build_java, "21.0.3+9"),
    ("rust", {"rust-toolchain.toml": '[toolchain]\nchannel = "1.78.0"\nprofile = "minimal"\n'},
     build_rust, "1.78.0+minimal"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("tool", "files", "build", "version"), CASES,
                         ids=[c[0] for c in CASES])
def test_lock_then_install_each_runtime(tmp_path: Path, tool: str, files: dict[str, str],
                                        build: Callable[..., dict[str, Any]],
                                        version: str) -> None:
    root = tmp_path / "mirror"
    root.mkdir()
    with MirrorServer(root) as server:
        env: OmgEnv = make_env(tmp_path / "a")
        env.env.update({**FAST_NET, **build(root, server.url),
                        **build_endoflife(root, server.url), "OMG_ARCH": "x86_64",
                        "OMG_LIBC": "gnu"})
        proj = project(env.root, files)
        env.run("lock", cwd=proj, check=True)
        locked = L.loads((proj / "omg.lock").read_text()).tool(tool)
        assert locked is not None and locked.version == version
        target = locked.target(X64)
        assert target is not None and target.artifacts
        installed = env.run("install", cwd=proj)
        assert installed.returncode == 0, installed.stderr
        env.run("lock", cwd=proj, check=True)
        again = L.loads((proj / "omg.lock").read_text()).tool(tool)
        assert again is not None
        now = again.target(X64)
        assert now is not None and now.artifacts == target.artifacts and now.store_path
        assert (env.home / "store" / now.store_path).is_dir()
