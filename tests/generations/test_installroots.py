"""generations/installroots.py on its own: names, links, listing, removal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generations import installroots as ir
from store.errors import UsageError


def _store_path(home: Path, name: str) -> str:
    (home / "store" / name).mkdir(parents=True)
    return name


def test_roots_are_named_by_version_and_move_with_a_rebuild(tmp_path: Path) -> None:
    home = str(tmp_path)
    first = _store_path(tmp_path, "a" * 32 + "-node-20.10.0")
    link = ir.add(home, "ann", "node", "20.10.0", first)
    assert link == f"{home}/gcroots/ann/installs/node@20.10.0"
    assert os.readlink(link) == f"{home}/store/{first}"
    assert ir.add(home, "ann", "node", "20.10.0", first) == link  # idempotent
    rebuilt = _store_path(tmp_path, "b" * 32 + "-node-20.10.0")
    ir.add(home, "ann", "node", "20.10.0", rebuilt)
    ir.add(home, "ann", "java", "21.0.3+9", _store_path(tmp_path, "c" * 32 + "-java-21.0.3+9"))
    assert [(r.name, r.version, r.store_path) for r in ir.rooted(home, "ann")] == [
        ("java", "21.0.3+9", "c" * 32 + "-java-21.0.3+9"),
        ("node", "20.10.0", rebuilt)]
    assert ir.rooted(home, "bob") == []
    assert sorted(os.listdir(tmp_path / "gcroots" / "ann" / "installs")) == [
        "java@21.0.3+9", "node@20.10.0"]  # no temporary link left behind


def test_listing_skips_debris_and_reports_a_gone_path(tmp_path: Path) -> None:
    home = str(tmp_path)
    name = _store_path(tmp_path, "a" * 32 + "-node-22.2.0")
    ir.add(home, "ann", "node", "22.2.0", name)
    directory = tmp_path / "gcroots" / "ann" / "installs"
    os.symlink("/nowhere", directory / ".node@22.2.0.tmp-1-abcd")
    os.symlink("/nowhere", directory / "no-at-sign")
    (directory / "node@1.0").mkdir()  # not a link
    os.rmdir(tmp_path / "store" / name)
    assert [(r.name, r.version, r.store_path) for r in ir.rooted(home, "ann")] == [
        ("node", "22.2.0", "")]
    gone = ir.remove(home, "ann", lambda r: r.name == "node")
    assert [(r.name, r.version) for r in gone] == [("node", "22.2.0")]
    assert ir.rooted(home, "ann") == []


@pytest.mark.parametrize(("name", "version"), [
    ("../x", "1"), ("node", "../1"), ("node", ".1"), (".node", "1"), ("node", ""),
    ("", "1"), ("node", "1/2"), ("node", "1\n"), ("node", "9" * 300)])
def test_names_that_cannot_be_one_file_name_are_refused(tmp_path: Path, name: str,
                                                        version: str) -> None:
    with pytest.raises(UsageError):
        ir.add(str(tmp_path), "ann", name, version, "x")
    assert not (tmp_path / "gcroots").exists()
