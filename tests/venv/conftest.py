"""A real CPython for the venv tests, and an `omg` command on PATH for the shell tests.

The interpreter is `tests.support.realbin.relocatable_python()`: a real CPython in
python-build-standalone's install_only layout (built once from an upstream CPython
build on this machine, cached under ~/.cache/omg), served as python-build-standalone's
release layout (`build_python_mirror`) and installed with `omg install`, as a user's
would be. Tests that need it are slow and skip where no such build can be made.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import OmgEnv, make_env
from tests.providers.conftest import FAST_NET
from tests.providers.mirrors import MirrorServer
from tests.support import realbin


@pytest.fixture(scope="session")
def python_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """python-build-standalone's releases for the real build, on 127.0.0.1: the omg
    environment that points at them, plus ``version``."""
    try:
        build = realbin.relocatable_python()
    except RuntimeError as exc:
        pytest.skip(f"no relocatable CPython can be made here: {exc}")
    root = tmp_path_factory.mktemp("python-mirror")
    env = realbin.build_python_mirror(root)
    with MirrorServer(root) as server:
        yield {**{k: v.replace("{url}", server.url) for k, v in env.items()},
               "version": build["version"]}


def with_omg_on_path(env: OmgEnv) -> OmgEnv:
    """`env` with an `omg` launcher first on PATH (the shell function runs `command omg`)."""
    bin_dir = env.root / "omg-bin"
    bin_dir.mkdir(exist_ok=True)
    launcher = bin_dir / "omg"
    launcher.write_text(f'#!/bin/sh\nexec {sys.executable} -m omg "$@"\n')
    launcher.chmod(0o755)
    env.env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    return env


@pytest.fixture
def py_env(tmp_path: Path, python_mirror: dict[str, str]) -> OmgEnv:
    """An omg home with the real python installed (`omg install`), not yet in a profile."""
    env = with_omg_on_path(make_env(tmp_path / "omg-env"))
    env.env.update(FAST_NET)
    env.env.update({k: v for k, v in python_mirror.items() if k.startswith("OMG_")})
    env.run("install", f"python@{python_mirror['version']}", check=True, timeout=600)
    return env
