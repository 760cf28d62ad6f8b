"""AUR packages through profiles (issue 14 items 1 and 4), with real makepkg builds:
`omg install aur/X` keeps X (an install root) until `omg uninstall aur/X`, and
`omg use aur/X` puts its ``usr/bin`` programs, man pages and completions, and its AUR
dependencies' programs, where a real shell finds them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.arch.conftest import ArchWorld
from tests.conftest import OmgEnv
from tests.schema import check

pytestmark = pytest.mark.slow


def _shell(profile: Path, script: str) -> subprocess.CompletedProcess[str]:
    """`script` in a real bash whose PATH is the profile's (then the system's), as `omg
    init` sets it: nothing else (man finds pages through PATH)."""
    env = {"PATH": f"{profile}/bin:/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C"}
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=60)


def test_install_use_run_and_uninstall_an_aur_package(world: ArchWorld, aenv: OmgEnv) -> None:
    built = check("install", aenv.run("install", "aur/profiles-hello", "--noconfirm", "--json",
                                      check=True).stdout)["built"]
    paths = {b["name"]: b["store_path"]["name"] for b in built}
    assert set(paths) == {"profiles-dep", "profiles-hello"}
    store_dir = aenv.home / "store"
    # Kept by its install root, its dependency by being its reference.
    aenv.run("gc", check=True)
    assert all((store_dir / p).is_dir() for p in paths.values())
    listed = check("list", aenv.run("list", "--json", check=True).stdout)
    assert {(r["tool"], r["version"], r["kept"]) for r in listed} == {
        ("aur/profiles-hello", "1.0-1", True), ("aur/profiles-dep", "1.0-1", False)}

    aenv.run("use", "aur/profiles-hello", check=True)
    cur = json.loads(aenv.run("current", "--json", check=True).stdout)
    assert [(t["tool"], t["version"]) for t in cur["tools"]] == [("profiles-hello", "1.0-1")]
    profile = Path(cur["bin"]).parent
    ran = _shell(profile, "profiles-hello && profiles-hello-dep && type -P profiles-dep")
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[:2] == ["profiles-hello 1.0", "profiles-dep 1.0"]
    assert lines[2] == f"{profile}/bin/profiles-dep"
    # The package's man page and completion, where man and bash-completion look.
    man_dir = profile / "share" / "man" / "man1"
    (page,) = [p for p in os.listdir(man_dir) if p.startswith("profiles-hello.1")]
    assert (man_dir / page).resolve().is_relative_to(store_dir / paths["profiles-hello"] / "usr")
    if shutil.which("man"):
        found = _shell(profile, "man -w profiles-hello")
        assert found.returncode == 0, found.stderr
        assert found.stdout.strip() == f"{profile}/share/man/man1/{page}"
    completion = profile / "share" / "bash-completion" / "completions" / "profiles-hello"
    assert completion.read_text() == "complete -W world profiles-hello\n"

    which = json.loads(aenv.run("which", "profiles-dep", "--json", check=True).stdout)
    assert (which["tool"], which["version"]) == ("profiles-dep", "1.0-1")
    assert which["path"] == str(store_dir / paths["profiles-dep"] / "usr/bin/profiles-dep")
    which = json.loads(aenv.run("which", "profiles-hello", "--json", check=True).stdout)
    assert which["store_path"]["name"] == paths["profiles-hello"]

    gone = json.loads(aenv.run("uninstall", "aur/profiles-hello", "--json",
                               check=True).stdout)
    assert gone["removed"] == ["profiles-hello@1.0-1"]
    assert gone["unrooted"] == ["profiles-hello@1.0-1"]
    assert _shell(profile, "type -P profiles-hello").returncode != 0
    # Older generations still hold it; once they go, gc frees it and its dependency.
    aenv.run("generations", "delete", "--keep", "1", check=True)
    aenv.run("gc", check=True)
    assert not any((store_dir / p).exists() for p in paths.values())


def test_use_names_the_origin(world: ArchWorld, aenv: OmgEnv) -> None:
    """`aur/X` is only an AUR build; a repository prefix never picks one. (Installed
    through a group of the config: `@NAME` reaches the Arch side as if typed.)"""
    config = aenv.root / "config.toml"
    config.write_text('[groups]\ntools = ["aur/profiles-dep"]\n')
    aenv.env["OMG_CONFIG"] = str(config)
    aenv.run("install", "@tools", "--noconfirm", check=True)
    wrong = aenv.run("use", "core/profiles-dep")
    assert wrong.returncode == 3, wrong.stderr
    assert wrong.stderr.startswith("error: no package profiles-dep from core in the store")
    missing = aenv.run("use", "aur/profiles-hello")
    assert missing.returncode == 3
    assert "hint: omg install aur/profiles-hello" in missing.stderr
    aenv.run("use", "aur/profiles-dep@1.0-1", check=True)
    which = json.loads(aenv.run("which", "profiles-dep", "--json", check=True).stdout)
    assert which["version"] == "1.0-1"


def test_a_build_records_its_aur_commit_and_the_lock_pins_it(world: ArchWorld,
                                                              aenv: OmgEnv) -> None:
    """The snapshot's commit (cgit writes it into the tar's pax header) is recorded at the
    build, so `omg lock` pins exactly the recipe that was built (issue 15 item 6)."""
    head = subprocess.run(["git", f"--git-dir={world.aur.gitdir}", "rev-parse",
                           "refs/heads/profiles-dep"], capture_output=True, text=True,
                          check=True).stdout.strip()
    built = json.loads(aenv.run("install", "aur/profiles-dep", "--noconfirm", "--json",
                                check=True).stdout)["built"]
    name = built[0]["store_path"]["name"]
    info = json.loads(aenv.run("store", "info", name, "--json", check=True).stdout)
    assert info["origin"]["commit"] == head
    project = aenv.root / "proj"
    project.mkdir()
    aenv.run("use", "--local", "aur/profiles-dep", cwd=project, check=True)
    aenv.run("lock", cwd=project, check=True)
    lock = (project / "omg.lock").read_text()
    assert f'commit = "{head}"' in lock, lock
    assert f'store_path = "{name}"' in lock, lock
