"""The contract of Arch packages in profiles (issue 14, item 1), on both backends: a store
path laid out as a package (``usr/bin``, ``usr/share``) is used by ``aur/NAME``, its
``usr/`` is the profile's top level, and its references come into the profile too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from omg.backend import Backend
from store.errors import NotFound
from tests.contract.conftest import Kit


def _package(kit: Kit, name: str, files: dict[str, str]) -> Path:
    """A directory laid out as an Arch package's files are (what makepkg's $pkgdir holds)."""
    root = kit.root / "pkgs" / name
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if "/bin/" in rel:
            os.chmod(path, 0o755)
    return root


def _aur(name: str) -> dict[str, object]:
    return {"kind": "aur", "pkgbase": name, "pkgname": name, "version": "1.0-1"}


def test_use_aur_package_maps_usr_and_brings_its_dependencies(backend: Backend,
                                                              kit: Kit) -> None:
    dep = backend.store_add(_package(kit, "libhello", {
        "usr/bin/hello-helper": "#!/bin/sh\necho helper\n"}), "libhello", "2.0-1",
        origin=_aur("libhello"))
    pkg = backend.store_add(_package(kit, "hello", {
        "usr/bin/hello": "#!/bin/sh\nexec hello-helper\n",
        "usr/share/man/man1/hello.1": ".TH HELLO 1\n"}), "hello", "1.0-1",
        references=[dep.record.path], origin=_aur("hello"), keep=True)
    used = backend.use(["aur/hello"])
    assert [(t.tool, t.version, t.store_path) for t in used.tools] == [
        ("hello", "1.0-1", pkg.record.path)]
    bin_dir = Path(backend.current().bin)
    assert sorted(os.listdir(bin_dir)) == ["hello", "hello-helper"]
    man = bin_dir.parent / "share" / "man" / "man1" / "hello.1"
    assert man.read_text() == ".TH HELLO 1\n"
    helper = backend.which("hello-helper")
    assert (helper.tool, helper.version, helper.store_path) == (
        "libhello", "2.0-1", dep.record.path)
    assert backend.which("hello").path.endswith(f"{pkg.record.path}/usr/bin/hello")
    assert backend.gc().dead == []  # the profile's env references the dependency
    gone = backend.uninstall(["aur/hello"])
    assert (gone.removed, gone.unrooted) == (["hello@1.0-1"], ["hello@1.0-1"])


def test_a_prefix_resolves_only_that_origin(backend: Backend, kit: Kit) -> None:
    backend.store_add(_package(kit, "tool", {"usr/bin/tool": "#!/bin/sh\n"}), "tool", "1.0-1")
    with pytest.raises(NotFound, match="no package tool from aur in the store"):
        backend.use(["aur/tool"])
    assert backend.generations() == []
