"""AUR packages built once, pushed, and substituted elsewhere: no snapshot download, no
review, no makepkg (the fake AUR and real makepkg of tests/arch)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omg.cache import keys
from tests.arch.conftest import ArchWorld, arch_world, world  # noqa: F401 (fixtures)
from tests.cache.subst_support import push_path
from tests.schema import check

pytestmark = pytest.mark.slow


def test_an_aur_package_built_once_is_substituted_elsewhere(
        world: ArchWorld, tmp_path: Path) -> None:  # noqa: F811
    first = world.env(tmp_path / "first")
    proc = first.run("aur", "build", "python-aursmall", "--noconfirm", "--json", check=True)
    paths = {b["name"]: b["store_path"]["name"]
             for b in json.loads(proc.stdout)["built"]}
    name = paths["python-aursmall"]
    secret = keys.generate("team")
    cache = f"file://{tmp_path}/cache"
    push_path(first.layout, cache, paths["python-aursmall"], secret)

    snapshots = [r for r in world.aur.requests if "snapshot" in r or ".tar.gz" in r]
    assert snapshots, world.aur.requests  # what a build downloads
    second = world.env(tmp_path / "second")
    world.aur.requests.clear()
    env = {"OMG_SUBSTITUTERS": cache, "OMG_TRUSTED_KEYS": secret.public().text}
    proc = second.run("aur", "build", "python-aursmall", "--noconfirm", "--json", extra_env=env,
                      check=True)
    data = check("aur-build", proc.stdout)
    [got] = data["built"]
    assert got["store_path"]["name"] == name and got["substituted"] == cache
    assert data["findings"] == []  # nothing was reviewed: nothing is built
    assert not [r for r in world.aur.requests if "snapshot" in r or ".tar.gz" in r], \
        world.aur.requests
    assert not list(Path(second.env["OMG_BUILD_DIR"]).glob("*/*.makepkg.log"))
    store = second.store()
    assert [c["kind"] for c in store.claims(name)] == ["cache"]
    record = store.get(name)
    pkginfo = record.metadata["pkginfo"]
    assert isinstance(pkginfo, dict) and pkginfo["pkgname"] == "python-aursmall"
    assert record.origin == first.store().get(name).origin
    assert second.run("store", "verify").returncode == 0
    listed = second.run("list", extra_env=env, check=True).stdout
    assert "aur/python-aursmall" in listed
    # Kept as a build is (an install root until `omg uninstall`): gc leaves it.
    second.run("gc", check=True)
    assert (second.home / "store" / name).is_dir()
    kept = json.loads(second.run("list", "--json", extra_env=env, check=True).stdout)
    assert [(r["tool"], r["kept"]) for r in kept] == [("aur/python-aursmall", True)]
