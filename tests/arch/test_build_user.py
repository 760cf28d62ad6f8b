"""As root, omg creates its unprivileged build user when it is missing (issue 14, item 4):
a real `useradd`, checked with the real passwd database, removed afterwards."""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from omg.arch.build import BUILD_HOME, build_user
from omg.arch.settings import ArchSettings
from store.errors import UsageError

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create users")


@pytest.fixture
def fresh_name() -> Iterator[str]:
    name = f"omgb{os.getpid() % 100000}"
    subprocess.run(["userdel", "-r", name], capture_output=True, check=False)
    had_home = os.path.exists(BUILD_HOME)
    try:
        yield name
    finally:
        subprocess.run(["userdel", "-r", name], capture_output=True, check=False)
        if not had_home and os.path.isdir(BUILD_HOME):
            subprocess.run(["rm", "-rf", BUILD_HOME], check=True)


def test_a_missing_build_user_is_created_once(tmp_path: Path, fresh_name: str) -> None:
    with pytest.raises(KeyError):
        pwd.getpwnam(fresh_name)
    made = build_user(ArchSettings(tmp_path, build_user=fresh_name))
    assert made is not None and made.pw_name == fresh_name
    assert made.pw_uid != 0 and made.pw_uid < 1000  # a system user
    assert made.pw_dir == BUILD_HOME and made.pw_shell.endswith("/nologin")
    assert os.stat(BUILD_HOME).st_uid == made.pw_uid
    again = build_user(ArchSettings(tmp_path, build_user=fresh_name))  # no second useradd
    assert again is not None and again.pw_uid == made.pw_uid


@pytest.mark.parametrize("bad", ["-o", "a b", "Root;x", "0day"])
def test_a_bad_build_user_name_is_refused_before_useradd(tmp_path: Path, bad: str) -> None:
    with pytest.raises(UsageError, match="invalid build user name"):
        build_user(ArchSettings(tmp_path, build_user=bad))
