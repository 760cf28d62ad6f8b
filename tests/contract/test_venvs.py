"""The contract of the venv methods: venv_create, venv_list, venv_info, venv_remove; the
same on both backends (conftest.py). Through omgd the client makes the venv and omgd
links its root (``venv.root``); the interpreter is a real relocatable CPython
(tests/support/realbin.py), added as python-build-standalone ships it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from omg.backend import Backend
from omg.venvs import VenvInfo
from tests.contract.conftest import Failure, Kit
from tests.support import realbin

pytestmark = pytest.mark.slow


@pytest.fixture
def python(backend: Backend, kit: Kit, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """(version, store path) of the real CPython, added to this backend's store; named
    venvs go under the test's own ``$XDG_DATA_HOME``."""
    try:
        build = realbin.relocatable_python()
    except RuntimeError as exc:
        pytest.skip(f"no relocatable CPython can be made here: {exc}")
    monkeypatch.setenv("XDG_DATA_HOME", str(kit.root / "data"))
    added = backend.store_add(build.tarball, "python", build["version"])
    return build["version"], added.record.path


def test_venvs_are_made_listed_removed_and_root_their_python(
        backend: Backend, kit: Kit, python: tuple[str, str]) -> None:
    version, store_path = python
    venvs = kit.root / "data" / "omg" / "venvs"
    made = backend.venv_create("work", f"python@{version}", pip=False)
    assert made == VenvInfo("work", str(venvs / "work"), version, store_path, "")
    project = kit.project("app")
    own = backend.venv_create(None, f"python@{version}", project=project, pip=False)
    assert own == VenvInfo("", str(project / ".venv"), version, store_path, str(project))
    assert os.path.realpath(project / ".venv" / "bin" / "python").startswith(
        str(kit.store_path(store_path)) + "/")
    assert backend.venv_list() == [made, own]
    assert backend.venv_info("work") == made
    assert backend.venv_info(None, project=project) == own
    root_dir = kit.home / "gcroots" / kit.user / "venvs"
    assert sorted(os.listdir(root_dir)) == sorted(
        p.replace("/", "%") for p in (made.path, own.path))
    assert backend.gc(dry_run=True).dead == []
    assert backend.venv_remove("work") == made
    assert backend.venv_remove(None, project=project) == own
    assert not Path(made.path).exists() and not Path(own.path).exists()
    assert os.listdir(root_dir) == []
    assert backend.venv_list() == []
    assert backend.gc().dead == [store_path]


def test_venv_errors_are_the_same_on_both_backends(
        backend: Backend, kit: Kit, python: tuple[str, str]) -> None:
    version, _ = python
    venvs = kit.root / "data" / "omg" / "venvs"
    assert kit.fails(lambda: backend.venv_create("a/b", f"python@{version}")) == Failure(
        "UsageError", "invalid venv name 'a/b': one path component of letters, digits and "
                      "_ . + - (at most 64, no '/' or '@')", None, 2)
    assert kit.fails(lambda: backend.venv_create("x", "python@2.7")) == Failure(
        "NotFound", f"no version of python matches '2.7' (installed: {version})",
        "omg install python@2.7", 3)
    assert kit.fails(lambda: backend.venv_remove("x")) == Failure(
        "NotFound", "no venv named 'x' (in <root>/data/omg/venvs)", "omg venv list", 3)
    backend.venv_create("x", f"python@{version}", pip=False)
    assert kit.fails(lambda: backend.venv_create("x", f"python@{version}")) == Failure(
        "UsageError", "cannot create venv 'x': <root>/data/omg/venvs/x exists",
        "omg venv remove x, or choose another name", 2)
    assert sorted(os.listdir(venvs)) == ["x"]
