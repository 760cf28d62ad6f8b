"""Venv roots (generations/venvroots.py) as `generations.gc` sees them, without Python:
a venv here is what `python3 -m venv` leaves that matters to gc, ``bin/python`` linking
into an interpreter's store path."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from generations import venvroots
from generations.gc import collect, find_roots
from store.errors import UsageError
from tests.generations.helpers import USER, World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def fake_venv(world: World, where: Path, interpreter: str) -> str:
    (where / "bin").mkdir(parents=True)
    (where / "pyvenv.cfg").write_text(f"home = {world.layout.store / interpreter}/bin\n")
    os.symlink(world.layout.store / interpreter / "bin" / "python3", where / "bin" / "python")
    return str(where)


def test_a_venv_roots_its_interpreter_until_it_is_deleted_by_hand(world: World) -> None:
    py = world.add("python", "3.11.7", ("python3",))
    other = world.add("python", "3.12.1", ("python3",))
    venv = fake_venv(world, world.root / "proj" / ".venv", py)
    link = venvroots.add_root(str(world.layout.home), USER, venv)
    assert link == f"{world.layout.gcroots}/{USER}/venvs/{venv.replace('/', '%')}"
    assert os.readlink(link) == f"{venv}/bin/python"
    assert find_roots(world.layout) == {py: [link]}
    assert venvroots.rooted_venvs(str(world.layout.home), USER) == [venv]
    assert venvroots.interpreter_of(str(world.layout.store), venv) == py
    # Recreated in place with another interpreter: the root follows the venv.
    os.unlink(f"{venv}/bin/python")
    os.symlink(world.layout.store / other / "bin" / "python3", f"{venv}/bin/python")
    assert find_roots(world.layout) == {other: [link]}
    assert collect(world.store, dry_run=True).dead == [py]
    shutil.rmtree(venv)  # by hand: the dangling root roots nothing
    assert find_roots(world.layout) == {}
    assert sorted(collect(world.store).dead) == sorted([py, other])
    assert venvroots.remove_root(str(world.layout.home), USER, venv) is True
    assert venvroots.remove_root(str(world.layout.home), USER, venv) is False
    assert venvroots.rooted_venvs(str(world.layout.home), USER) == []


def test_adding_a_root_twice_keeps_one_link(world: World) -> None:
    py = world.add("python", "3.11.7", ("python3",))
    venv = fake_venv(world, world.root / "v", py)
    home = str(world.layout.home)
    assert venvroots.add_root(home, USER, venv) == venvroots.add_root(home, USER, venv)
    assert os.listdir(world.layout.gcroots / USER / "venvs") == [venv.replace("/", "%")]


@pytest.mark.parametrize("path", ["relative/.venv", "/a/../b", "/a//b", "/", "/x\n",
                                  "/" + "x" * 200])
def test_a_root_needs_an_absolute_normalised_short_path(world: World, path: str) -> None:
    with pytest.raises(UsageError, match="absolute, normalised path"):
        venvroots.add_root(str(world.layout.home), USER, path)
    assert not world.layout.gcroots.exists()
