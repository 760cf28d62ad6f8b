"""A project's gc root (`shims.project.register_root`) is placed as every other root is
(`generations.roots.place_link`): atomically, and nothing left behind when it fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shims.project import PROJECTS_DIR, project_ref, register_root
from store.layout import Layout


def test_the_root_links_the_project_profile_and_is_idempotent(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "home")
    ref = project_ref(layout, "ann", tmp_path / "proj")
    root = register_root(layout, "ann", ref)
    assert root == layout.gcroots / "ann" / PROJECTS_DIR / ref.name
    assert os.readlink(root) == ref.link
    assert register_root(layout, "ann", ref) == root
    assert os.listdir(root.parent) == [ref.name]


def test_a_failed_root_leaves_no_temporary_link(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "home")
    ref = project_ref(layout, "ann", tmp_path / "proj")
    in_the_way = layout.gcroots / "ann" / PROJECTS_DIR / ref.name
    in_the_way.mkdir(parents=True)
    with pytest.raises(OSError):
        register_root(layout, "ann", ref)
    assert os.listdir(in_the_way.parent) == [ref.name]  # no .<name>.tmp-* debris
