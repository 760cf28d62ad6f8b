"""Fixtures shared by every test area: an isolated OMG_HOME and a way to run the CLI.

Each test gets its own OMG_HOME, XDG dirs and HOME under tmp_path, so nothing a
test does can touch the developer's real profile.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from omg import config
from omg.config import Settings
from store.layout import Layout
from store.local import LocalStore
from tests.cache.servers import (  # noqa: F401 (fixtures for every test dir; lazy)
    http_cache,
    nginx,
    s3_cache,
    s3_cache_auth,
    seaweedfs,
)


def sigint_as_from_a_terminal() -> None:
    """`preexec_fn` of the Ctrl-C tests' children: SIGINT at its default and unblocked,
    as a terminal starts a program. A full run (pytest-xdist workers, a background job)
    has been seen to start children with SIGINT not delivered, so their omg waited for
    an interrupt that never came; what omg does with it is what these tests check."""
    import signal

    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class OmgEnv:
    """An isolated omg installation for one test."""

    root: Path
    env: dict[str, str]

    @property
    def home(self) -> Path:
        return Path(self.env["OMG_HOME"])

    @property
    def layout(self) -> Layout:
        return Layout(self.home)

    def settings(self) -> Settings:
        return config.load(self.env)

    def store(self) -> LocalStore:
        return LocalStore(self.layout, limits=self.settings().limits)

    def run(self, *args: str, check: bool = False, cwd: Path | None = None,
            input: str | None = None, extra_env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run `omg ARGS` in a subprocess, as a user would."""
        env = {**self.env, **(extra_env or {})}
        proc = subprocess.run([sys.executable, "-m", "omg", *args], env=env, cwd=cwd,
                              capture_output=True, text=True, input=input, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"omg {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc


def make_env(root: Path) -> OmgEnv:
    root.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMG_")}
    env.update({
        "OMG_HOME": str(root / "omg"),
        "HOME": str(root / "home"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_CACHE_HOME": str(root / "cache"),
    })
    (root / "home").mkdir(exist_ok=True)
    return OmgEnv(root, env)


@pytest.fixture(autouse=True)
def _no_unreachable_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the test process, a host that failed in one test is not "down" in the next
    (omg.unreachable keeps it in the user's cache); `make_env` homes get their own cache,
    and tests/providers/test_unreachable.py turns the memory back on."""
    monkeypatch.setenv("OMG_NET_UNREACHABLE_TTL", "0")


@pytest.fixture
def omg_env(tmp_path: Path) -> OmgEnv:
    return make_env(tmp_path / "omg-env")


@pytest.fixture
def snapshot_dir() -> Callable[[Path], dict[str, tuple[int, int, str]]]:
    """A comparable picture of a directory tree (mode, size, link target per entry)."""

    def snap(path: Path) -> dict[str, tuple[int, int, str]]:
        out: dict[str, tuple[int, int, str]] = {}
        if not path.exists():
            return out
        for dirpath, dirnames, filenames in os.walk(path):
            for name in dirnames + filenames:
                full = os.path.join(dirpath, name)
                st = os.lstat(full)
                target = os.readlink(full) if os.path.islink(full) else ""
                size = 0 if os.path.isdir(full) else st.st_size
                out[os.path.relpath(full, path)] = (st.st_mode, size, target)
        return out

    return snap
