"""Build-time dependencies from the store, repo dependencies, --system with AUR
dependencies installed as dependencies, skipped rebuilds (real makepkg, real pacman)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.arch.conftest import ArchWorld
from tests.conftest import OmgEnv
from tests.daemon.conftest import Daemon, daemon_env
from tests.support import sysusers

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


SHARED_USERS = ("omg-deps-a", "omg-deps-b")


@pytest.fixture
def shared(world: ArchWorld) -> Iterator[tuple[Daemon, dict[str, dict[str, str]]]]:
    """A root omgd on a root-owned OMG_HOME, and for each real unprivileged user an
    environment of their own (home, caches, build directory)."""
    if os.geteuid() != 0:
        pytest.skip("the shared mode needs real users and a root omgd: run as root")
    # libalpm writes the local database's version file on first use, as root only
    subprocess.run(["pacman", "--config", str(world.conf), "-Q"], capture_output=True,
                   check=False)
    base = Path(tempfile.mkdtemp(prefix="omg-deps-shared-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    env = daemon_env(base / "d")
    os.chmod(base / "d", 0o755)
    d = Daemon(env, base / "d" / "omgd.sock")
    d.start()
    os.chmod(env.home, 0o755)
    envs: dict[str, dict[str, str]] = {}
    try:
        for name in SHARED_USERS:
            pw = sysusers.ensure_user(name)
            mine = base / "users" / name
            for sub in ("home", "cache", "data", "config", "build"):
                (mine / sub).mkdir(parents=True)
            for p in (mine, *mine.iterdir()):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            os.chmod(base / "users", 0o755)
            envs[name] = {**world.env(base / "unused").env, **env.env,
                          "HOME": str(mine / "home"), "XDG_CACHE_HOME": str(mine / "cache"),
                          "XDG_DATA_HOME": str(mine / "data"),
                          "XDG_CONFIG_HOME": str(mine / "config"),
                          "OMG_BUILD_DIR": str(mine / "build")}
        yield d, envs
    finally:
        d.stop()
        shutil.rmtree(base, ignore_errors=True)


def as_user(name: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    pw = pwd.getpwnam(name)
    return subprocess.run([sys.executable, "-m", "omg", *args], env=env, capture_output=True,
                          text=True, user=pw.pw_uid, group=pw.pw_gid, extra_groups=[],
                          cwd="/", timeout=600)


@pytest.mark.root
def test_a_user_builds_through_omgd_and_another_does_not_reuse_it(
        world: ArchWorld, shared: tuple[Daemon, dict[str, dict[str, str]]]) -> None:
    """In the shared mode a real user builds as themselves and omgd ingests the
    package (kept as that user's install); another user building something that
    depends on it does not take that build as their reviewed dependency."""
    d, envs = shared
    a, b = SHARED_USERS
    first = built(as_user(a, envs[a], "aur", "build", "deps-rt", "--noconfirm", "--json"))
    rt = first["deps-rt"][0]
    store = d.env.home / "store"
    assert (store / rt).is_dir() and (store / rt).stat().st_uid == 0
    from generations import installroots

    assert [r.store_path for r in installroots.rooted(str(d.env.home), a)] == [rt]
    assert built(as_user(a, envs[a], "aur", "build", "deps-rt", "--noconfirm",
                         "--json")) == {"deps-rt": (rt, True)}
    other = built(as_user(b, envs[b], "aur", "build", "deps-app", "--noconfirm", "--json"))
    assert not any(reused for _, reused in other.values())
    app = other["deps-app"][0]
    assert (store / app / "usr" / "share" / "deps-app" / "built").read_text() == \
        "deps-maker 1.0\n"
    # omgd gone (its socket left behind): refused before any download or build
    d.stop(signal.SIGKILL)
    fetched = sum("/cgit/" in r for r in world.aur.requests)
    down = as_user(a, envs[a], "aur", "build", "deps-maker", "--noconfirm")
    assert down.returncode == 10, down.stderr
    assert down.stderr.startswith("error: ") and "omgd" in down.stderr
    assert sum("/cgit/" in r for r in world.aur.requests) == fetched


def test_split_packages_build_once_and_reference_their_siblings(world: ArchWorld,
                                                               aenv: OmgEnv,
                                                               tmp_path: Path) -> None:
    """deps-split-cli depends on its sibling deps-split-doc: the pkgbase is built
    once, the -doc ingested first and referenced by the -cli (so gc keeps it);
    `omg aur get` takes the pkgbase, which no package is named."""
    proc = aenv.run("aur", "build", "deps-split-cli", "--noconfirm", "--json")
    got = built(proc)
    assert set(got) == {"deps-split-cli", "deps-split-doc"}
    assert sum("/cgit/aur.git/snapshot/" in r for r in world.aur.requests) == 1
    store = aenv.store()
    assert store.get(got["deps-split-cli"][0]).references == (got["deps-split-doc"][0],)
    store.close()
    fetched = aenv.run("aur", "get", "deps-split", "--dest", str(tmp_path / "get"))
    assert fetched.returncode == 0, fetched.stderr
    assert "pkgname=('deps-split-cli' 'deps-split-doc')" in \
        (tmp_path / "get" / "deps-split" / "PKGBUILD").read_text()
    assert aenv.run("aur", "get", "deps-nothing").returncode == 3


def test_a_conflict_with_an_installed_package_stops_system_installs_up_front(
        world: ArchWorld, aenv: OmgEnv) -> None:
    aenv.run("pkg", "install", "testrepo/repolib", "--noconfirm", check=True)
    try:
        proc = aenv.run("aur", "build", "deps-conflicting", "--system", "--noconfirm")
        assert proc.returncode == 2, proc.stderr
        assert ":: deps-conflicting conflicts with repolib" in proc.stdout
        assert proc.stderr.splitlines()[0] == (
            "error: deps-conflicting conflicts with the installed package repolib")
        assert not any("/cgit/" in r for r in world.aur.requests)
    finally:
        aenv.run("remove", "repolib", "--noconfirm", check=True)


def test_a_dependency_only_provided_builds_its_provider(world: ArchWorld,
                                                       aenv: OmgEnv) -> None:
    """deps-virt>=1 is no package's name: the AUR is searched by provides, the plan
    says which package provides it, and the reference leads to that package."""
    proc = aenv.run("aur", "build", "deps-needs-virt", "--noconfirm", "--json")
    got = built(proc)
    assert list(got) == ["deps-virt-impl", "deps-needs-virt"]
    assert "deps-virt>=1 is provided by deps-virt-impl" in proc.stderr  # --json: on stderr
    assert any("by=provides" in r for r in world.aur.requests)
    store = aenv.store()
    assert store.get(got["deps-needs-virt"][0]).references == (got["deps-virt-impl"][0],)
    store.close()


def test_a_rebuild_against_a_newer_dependency_is_a_new_store_path(world: ArchWorld,
                                                                   denv: OmgEnv) -> None:
    """deps-app 1.0 built again after deps-rt moved to 1.1: its files are the same
    (SOURCE_DATE_EPOCH), yet it is another store path, referencing the new deps-rt;
    the first keeps its own reference."""
    first = built(denv.run("aur", "build", "deps-app", "--noconfirm", "--json"))
    world.aur.set_version("deps-rt", "1.1")
    try:
        second = built(denv.run("aur", "build", "deps-app", "--noconfirm", "--json",
                                extra_env={"OMG_AUR_TTL": "0.001"}))
    finally:
        world.aur.set_version("deps-rt", "1.0")
    assert second["deps-maker"] == (first["deps-maker"][0], True)
    assert second["deps-rt"][0] != first["deps-rt"][0]
    assert second["deps-app"] != (first["deps-app"][0], True)
    store = denv.store()
    old, new = store.get(first["deps-app"][0]), store.get(second["deps-app"][0])
    assert old.path != new.path and old.name == new.name and old.version == new.version
    assert old.references == (first["deps-rt"][0],)
    assert new.references == (second["deps-rt"][0],)
    assert store.verify() == []
    store.close()
