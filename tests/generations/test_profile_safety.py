"""Profile names and profile directories that could lead a write astray (single-user mode).

The same guards hold through omgd (tests/daemon/test_shared_trust.py); here the
user (root, in CI: the case the hardening issue found) works on the store directly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generations import links
from tests.conftest import OmgEnv

from .helpers import snapshot


def _profiles(env: OmgEnv) -> Path:
    return env.home / "profiles" / env.settings().user


@pytest.mark.parametrize("name", ["projects", "default-1-link", "default-2.json",
                                  "default.lock", "default.seq", ".hidden", "x.corrupt"])
def test_names_that_are_the_profile_directorys_own_files_are_refused(
        env: OmgEnv, name: str) -> None:
    env.run("use", "node@18", check=True)
    env.run("use", "node@20", check=True)
    before = snapshot(env.home / "profiles", env.home / "store")
    for args in (("use", "node@18", "--profile", name), ("rollback", "--profile", name),
                 ("generations", "--profile", name)):
        proc = env.run(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.startswith(f"error: invalid profile name {name!r}")
        # Why it was refused: `projects` has only letters, so "use letters" misled.
        reason = ("it starts with '.'" if name.startswith(".")
                  else "the profile directory's own files use it")
        assert reason in proc.stderr, proc.stderr
    assert snapshot(env.home / "profiles", env.home / "store") == before
    assert env.run("rollback", check=True).stdout.startswith(
        "default: switched from generation 2 to 1")


def test_the_rule_accepts_ordinary_names() -> None:
    for name in ("default", "work", "node-20", "a.b", "x_1", "proj-2-links", "jsonish"):
        assert links.valid_profile_name(name), name


def test_a_symlinked_projects_directory_is_never_written_through(env: OmgEnv,
                                                                 tmp_path: Path) -> None:
    """An older omg accepted `--profile projects`: the project profiles' directory was
    then a link to an env store path, and `use --local` wrote into the store."""
    out = env.run("use", "node@20", "--json", check=True).stdout
    env_path = env.home / "store" / __import__("json").loads(out)["env"]["name"]
    planted = _profiles(env) / "projects"
    planted.symlink_to(env_path)
    project = tmp_path / "proj"
    project.mkdir()
    before = snapshot(env_path)
    for args in (("use", "--local", "node@18"), ("rollback", "--local")):
        proc = env.run(*args, cwd=project)
        assert proc.returncode == 7, proc.stderr
        assert proc.stderr.startswith(f"error: refusing to write below {planted}: it is a "
                                      "symlink")
    assert snapshot(env_path) == before
    assert env.run("store", "verify").returncode == 0
    planted.unlink()
    assert env.run("use", "--local", "node@18", cwd=project).returncode == 0


def test_locks_live_in_a_private_directory(env: OmgEnv) -> None:
    env.run("use", "node@18", check=True)
    env.run("use", "node@20", "--profile", "work", check=True)
    assert not [e for e in os.listdir(_profiles(env)) if e.endswith(".lock")]
    locks = env.home / "locks"
    assert locks.stat().st_mode & 0o777 == 0o700
    user = env.settings().user
    assert sorted(os.listdir(locks / "profiles" / user)) == ["default.lock", "work.lock"]


def test_a_brand_new_home_is_made_on_first_use(omg_env: OmgEnv) -> None:
    """real_dir checks every directory below OMG_HOME; OMG_HOME itself may not exist yet."""
    assert not omg_env.home.exists()
    proc = omg_env.run("use", "nosuchtool@1")
    assert proc.returncode == 3 and proc.stderr.startswith("error: unknown tool 'nosuchtool'")
