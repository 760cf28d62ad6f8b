"""Build-time dependencies from the store, repo dependencies, --system with AUR
dependencies installed as dependencies, skipped rebuilds (real makepkg, real pacman)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.arch.conftest import ArchWorld
from tests.conftest import OmgEnv

pytestmark = pytest.mark.slow


@pytest.fixture
def denv(world: ArchWorld, tmp_path: Path) -> Iterator[OmgEnv]:
    """An OMG_HOME the build user can traverse (pytest's temporary directories are
    0700): makepkg runs as that user and reads its dependencies from the store."""
    homes = world.base / "homes"
    homes.mkdir(exist_ok=True, mode=0o755)
    home = homes / tmp_path.name
    home.mkdir(mode=0o755)
    try:
        yield world.env(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def reason(world: ArchWorld, name: str) -> str | None:
    """pacman's Install Reason of `name` in the private root (None: not installed)."""
    proc = subprocess.run(["pacman", "--config", str(world.conf), "-Qi", name],
                          capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("Install Reason"):
            return line.split(":", 1)[1].strip()
    return None


def built(proc: subprocess.CompletedProcess[str]) -> dict[str, tuple[str, bool]]:
    assert proc.returncode == 0, proc.stderr
    return {b["name"]: (b["store_path"]["name"], b["reused"])
            for b in json.loads(proc.stdout)["built"]}


def test_a_build_runs_its_aur_makedepend_from_the_store(world: ArchWorld,
                                                         denv: OmgEnv) -> None:
    """deps-app's build() runs deps-maker (an AUR makedepend, only in the store);
    with --system its AUR runtime dependency is installed as a dependency, the
    target explicitly, the make-dependency not at all. Unchanged, it is not built
    again (`--rebuild` forces it); gc keeps the target and what it references."""
    try:
        first = built(denv.run("aur", "build", "deps-app", "--system", "--noconfirm",
                               "--json"))
        assert set(first) == {"deps-app", "deps-maker", "deps-rt"}
        assert not any(reused for _, reused in first.values())
        store = denv.store()
        app = first["deps-app"][0]
        made = store.layout.store_path(app) / "usr" / "share" / "deps-app" / "built"
        assert made.read_text() == "deps-maker 1.0\n"
        assert store.get(app).references == (first["deps-rt"][0],)
        assert reason(world, "deps-app") == "Explicitly installed"
        assert reason(world, "deps-rt") == "Installed as a dependency for another package"
        assert reason(world, "deps-maker") is None
        store.close()

        again = built(denv.run("aur", "build", "deps-app", "--noconfirm", "--json"))
        assert again == {n: (p, True) for n, (p, _) in first.items()}
        forced = built(denv.run("aur", "build", "deps-app", "--rebuild", "--noconfirm",
                                "--json"))
        assert {n for n, (_, reused) in forced.items() if not reused} == {"deps-app"}

        denv.run("gc", check=True)
        left = set(os.listdir(denv.store().layout.store))
        assert {first["deps-app"][0], first["deps-rt"][0]} <= left
        assert first["deps-maker"][0] not in left
    finally:
        subprocess.run(["pacman", "--config", str(world.conf), "-Rns", "--noconfirm",
                        "deps-app"], capture_output=True, check=False)
    assert reason(world, "deps-rt") is None


def test_repo_dependencies_are_named_up_front_or_installed_as_dependencies(
        world: ArchWorld, denv: OmgEnv) -> None:
    """aur-app needs repolib (and virtual-lib, which repolib provides): without
    --system one error line names them before any download; with --system pacman
    installs repolib as a dependency, then the AUR packages."""
    assert reason(world, "repolib") is None
    refused = denv.run("aur", "build", "aur-app", "--noconfirm")
    assert refused.returncode == 3, refused.stderr
    assert refused.stderr.splitlines()[0] == (
        "error: repository dependencies not installed: repolib, virtual-lib>=1.0")
    assert "--system" in refused.stderr
    assert not any("/cgit/" in r for r in world.aur.requests)
    assert denv.store().names() == []
    try:
        done = built(denv.run("aur", "build", "aur-app", "--system", "--noconfirm", "--json"))
        assert set(done) == {"aur-app", "aur-lib", "aur-tool"}
        assert reason(world, "repolib") == "Installed as a dependency for another package"
        assert reason(world, "aur-lib") == "Installed as a dependency for another package"
        assert reason(world, "aur-app") == "Explicitly installed"
        assert reason(world, "aur-tool") is None
    finally:
        subprocess.run(["pacman", "--config", str(world.conf), "-Rns", "--noconfirm",
                        "aur-app"], capture_output=True, check=False)
    assert reason(world, "repolib") is None
