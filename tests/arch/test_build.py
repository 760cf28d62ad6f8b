"""AUR builds with real makepkg as the build user, ingest, review, --system, outdated."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.arch.conftest import ArchWorld
from tests.conftest import OmgEnv
from tests.schema import check

pytestmark = pytest.mark.slow


def leftovers(world: ArchWorld, aenv: OmgEnv) -> list[str]:
    build_dir = Path(aenv.env["OMG_BUILD_DIR"])
    return os.listdir(build_dir) if build_dir.exists() else []


def test_build_order_ingest_and_references(world: ArchWorld, aenv: OmgEnv) -> None:
    aenv.run("pkg", "install", "testrepo/repolib", "--noconfirm", check=True)  # a repo dep
    try:
        _build_order_ingest_and_references(world, aenv)
    finally:
        aenv.run("remove", "repolib", "--noconfirm", check=True)


def _build_order_ingest_and_references(world: ArchWorld, aenv: OmgEnv) -> None:
    proc = aenv.run("aur", "build", "aur-app", "--noconfirm", "--json", check=True)
    data = check("aur-build", proc.stdout)
    assert data["order"] == ["aur-tool", "aur-lib", "aur-app"]
    assert "repolib" in data["repo_deps"] and "virtual-lib>=1.0" in data["repo_deps"]
    paths = {b["name"]: b["store_path"]["name"] for b in data["built"]}
    store = aenv.store()
    app = store.get(paths["aur-app"])
    assert app.references == (paths["aur-lib"],)
    assert store.get(paths["aur-lib"]).references == ()  # aur-tool is a make-dependency
    assert app.version == "1.0-1" and app.origin["kind"] == "aur"
    assert app.metadata["pkginfo"]["pkgname"] == "aur-app"
    exe = store.layout.store_path(paths["aur-app"]) / "usr" / "bin" / "aur-app"
    assert os.access(exe, os.X_OK)
    assert leftovers(world, aenv) == []
    # building again reuses the dependencies already in the store, and the unchanged
    # target too
    again = json.loads(aenv.run("aur", "build", "aur-app", "--noconfirm", "--json",
                                check=True).stdout)
    assert {b["name"] for b in again["built"] if b["reused"]} == {"aur-tool", "aur-lib",
                                                                 "aur-app"}


def test_review_then_diff_then_decline(world: ArchWorld, aenv: OmgEnv) -> None:
    first = aenv.run("aur", "build", "python-aursmall", input="y\n")
    assert first.returncode == 0, first.stderr
    assert "first review" in first.stdout and "--- PKGBUILD" in first.stdout
    assert "notes.txt" in first.stdout and "pkgver=1.0" in first.stdout
    world.aur.set_version("python-aursmall", "1.1")
    try:
        # the info cache would still say 1.0-1 (that is the point of caching)
        aenv.run("info", "python-aursmall")
        declined = aenv.run("aur", "build", "python-aursmall", input="n\n",
                            extra_env={"OMG_AUR_TTL": "0.001"})
        assert declined.returncode == 130
        assert "-pkgver=1.0" in declined.stdout and "+pkgver=1.1" in declined.stdout
        assert "notes.txt" not in declined.stdout  # unchanged files are not shown again
        assert len(aenv.store().find("python-aursmall")) == 1
        assert leftovers(world, aenv) == []
        # declined: the last reviewed version is still 1.0
        again = aenv.run("aur", "build", "python-aursmall", input="y\n",
                         extra_env={"OMG_AUR_TTL": "0.001"})
        assert again.returncode == 0 and "+pkgver=1.1" in again.stdout
        assert len(aenv.store().find("python-aursmall")) == 2
    finally:
        world.aur.set_version("python-aursmall", "1.0")


def test_failing_build_shows_log_and_leaves_nothing(world: ArchWorld, aenv: OmgEnv) -> None:
    proc = aenv.run("aur", "build", "broken-build", "--noconfirm")
    assert proc.returncode == 8
    assert "this build fails on purpose" in proc.stderr
    assert "error: makepkg failed for broken-build" in proc.stderr
    assert aenv.store().names() == []
    assert leftovers(world, aenv) == []


@pytest.mark.parametrize(("pkg", "code", "msg"), [
    ("cyc-one", 2, "dependency cycle: cyc-one -> cyc-two -> cyc-one"),
    ("needs-ghost", 3, "missing dependency ghost-dep (required by needs-ghost)"),
    ("foo;rm -rf /", 2, "invalid package name"),
    ("a/b", 2, "invalid package name"),
])
def test_bad_input(world: ArchWorld, aenv: OmgEnv, pkg: str, code: int, msg: str) -> None:
    proc = aenv.run("aur", "build", pkg, "--noconfirm")
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == f"error: {msg}" or lines[0].startswith(f"error: {msg}")
    assert aenv.store().names() == [] and leftovers(world, aenv) == []


def test_system_install_outdated_update_remove(world: ArchWorld, aenv: OmgEnv) -> None:
    proc = aenv.run("aur", "build", "aur-tool", "--system", "--noconfirm")
    assert proc.returncode == 0, proc.stderr
    assert (world.root / "usr" / "bin" / "aur-tool").exists()
    assert any(d.startswith("aur-tool-2.0-1") for d in os.listdir(world.dbpath / "local"))
    try:
        assert aenv.run("outdated", "--json", check=True).stdout.strip() == "[]"
        world.aur.set_version("aur-tool", "2.1")
        found = check("outdated", aenv.run("outdated", "--json", check=True).stdout)
        assert {(o["name"], o["current"], o["latest"], o["where"]) for o in found} == {
            ("aur-tool", "2.0-1", "2.1-1", "store"), ("aur-tool", "2.0-1", "2.1-1", "system")}
        upd = aenv.run("update", "--noconfirm", "--json")
        assert upd.returncode == 0, upd.stderr
        # One document on stdout; pacman's own output went to stderr.
        updated = check("update", upd.stdout)
        assert [b["name"] for b in updated["built"]] == ["aur-tool"]
        assert updated["system_installed"][0].startswith("aur-tool-2.1-1")
        assert any(d.startswith("aur-tool-2.1-1") for d in os.listdir(world.dbpath / "local"))
        assert aenv.run("outdated", "--json", check=True).stdout.strip() == "[]"
        nothing = check("update", aenv.run("update", "--json", check=True).stdout)
        assert nothing["built"] == []
    finally:
        world.aur.set_version("aur-tool", "2.0")
        rm = aenv.run("remove", "aur-tool", "--noconfirm")
        assert rm.returncode == 0, rm.stderr
    assert not (world.root / "usr" / "bin" / "aur-tool").exists()


def test_pkg_install_repo_package_via_pacman(world: ArchWorld, aenv: OmgEnv) -> None:
    proc = aenv.run("pkg", "install", "testrepo/repolib", "--noconfirm", "--json")
    assert proc.returncode == 0, proc.stderr
    try:
        check("pkg-install", proc.stdout)
        assert any(d.startswith("repolib-1.0-1") for d in os.listdir(world.dbpath / "local"))
        out = aenv.run("search", "repolib", "--repo", check=True).stdout
        assert "[installed]" in out
    finally:
        aenv.run("remove", "repolib", "--noconfirm", check=True)


def test_top_level_install_sends_package_names_to_the_arch_side(world: ArchWorld,
                                                                 aenv: OmgEnv) -> None:
    """`omg install aur/NAME` builds like `omg aur install`; TOOL@SPEC stays a runtime."""
    proc = aenv.run("install", "aur/aur-tool", "--noconfirm", "--json")
    assert proc.returncode == 0, proc.stderr
    built = check("install", proc.stdout)["built"]
    assert [b["name"] for b in built] == ["aur-tool"]
    assert aenv.store().find("aur-tool")


def test_a_build_on_a_terminal_shows_makepkg_s_steps(world: ArchWorld, aenv: OmgEnv) -> None:
    """Progress (issue: "builds"): on a terminal each makepkg step line shows as it
    happens; off one (every other test here) nothing but the result."""
    import shlex
    import sys

    cmd = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "omg", "aur", "build",
                                            "aur-tool", "--noconfirm"])
    proc = subprocess.run(["script", "-qec", cmd, "/dev/null"], env=aenv.env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout
    out = proc.stdout.replace("\r", "")  # the pty mixes both streams
    assert "aur-tool: Making package: aur-tool 2.0-1 (" in out
    assert "aur-tool: Finished making: aur-tool 2.0-1 (" in out
