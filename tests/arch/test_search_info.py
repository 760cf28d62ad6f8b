"""Search and info against a repo-add sync db (real pyalpm) and the local AUR."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from omg.arch import searchindex
from omg.arch.pacmanconf import parse
from store.index import Index
from tests.arch.conftest import ArchWorld
from tests.conftest import OmgEnv
from tests.schema import check


def names(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]


def test_search_ranking_labels_json(world: ArchWorld, aenv: OmgEnv) -> None:
    proc = aenv.run("search", "python", check=True)
    got = names(proc.stdout)
    assert got[:2] == ["testrepo/python", "testrepo/python-repotool"]
    assert got[2:4] == ["aur/python-aurbig", "aur/python-aursmall"]  # by popularity
    assert "(+900 9.00)" in proc.stdout
    data = check("search", aenv.run("search", "python", "--json", check=True).stdout)
    assert [(d["repo"], d["name"]) for d in data][:3] == [
        ("testrepo", "python"), ("testrepo", "python-repotool"), ("aur", "python-aurbig")]
    assert {"version", "description", "installed", "in_store", "votes"} <= set(data[0])


def test_second_search_takes_the_fast_path(world: ArchWorld, aenv: OmgEnv) -> None:
    aenv.run("search", "python", check=True)  # fills the index and the AUR cache
    code = ("import sys; from omg.arch import fastsearch; rc = fastsearch.run(['search', "
            "'python']); heavy = {'typer', 'rich', 'httpx', 'pyalpm'} & set(sys.modules); "
            "print('RC', rc, sorted(heavy), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], env=aenv.env, capture_output=True,
                          text=True, check=True)
    assert "RC 0 []" in proc.stderr
    assert "aur/python-aurbig" in proc.stdout
    # a changed sync db: the fast path rebuilds the index itself and stores it
    shutil.copy(world.dbpath / "sync" / "testrepo.db", aenv.root / "testrepo.db")
    db = aenv.root / "db"
    (db / "sync").mkdir(parents=True)
    shutil.copy(world.dbpath / "sync" / "testrepo.db", db / "sync" / "testrepo.db")
    conf = aenv.root / "pacman.conf"
    conf.write_text(f"[options]\nDBPath = {db}\n[testrepo]\n")
    env = {**aenv.env, "OMG_PACMAN_CONF": str(conf)}
    for _ in range(2):
        again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True, check=True)
        assert "RC 0 []" in again.stderr and again.stdout == proc.stdout
        os.utime(db / "sync" / "testrepo.db", (5, 5))
    with Index(aenv.home / "db", readonly=True) as index:
        (stamp,) = searchindex.raw_get(index, "search", [b"stamp:testrepo"])
        assert stamp is not None and stamp.split(b"\0")[2] == str(5 * 10**9).encode()
    requests = len(world.aur.requests)
    aenv.run("search", "python", check=True)
    assert len(world.aur.requests) == requests  # cached


def test_installed_and_store_markers(world: ArchWorld, aenv: OmgEnv) -> None:
    aenv.store().add(world.repo_pkgs["repolib"], "repolib", "1.0-1")
    out = aenv.run("search", "repolib", "--repo", check=True).stdout
    assert "testrepo/repolib 1.0-1 [store]" in out


def test_aur_unreachable_gives_repo_results_and_one_warning(world: ArchWorld,
                                                              aenv: OmgEnv) -> None:
    proc = aenv.run("search", "python", extra_env={"OMG_AUR_URL": "http://127.0.0.1:9"})
    assert proc.returncode == 0
    assert names(proc.stdout) == ["testrepo/python", "testrepo/python-repotool"]
    warnings = proc.stderr.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("warning: AUR unreachable")


def test_aur_not_json_and_error(world: ArchWorld, aenv: OmgEnv) -> None:
    for mode, why in (("notjson", "not JSON"), ("error", "Too many package results")):
        world.aur.mode = mode
        proc = aenv.run("search", "thing")
        assert proc.returncode == 1 and why in proc.stderr  # no repo hit, one warning
        proc = aenv.run("info", "aur/aur-app")
        assert proc.returncode == 6
        assert proc.stderr.startswith("error: ") and why in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_info_repo_and_aur(world: ArchWorld, aenv: OmgEnv) -> None:
    repo = check("info", aenv.run("info", "python-repotool", "--json", check=True).stdout)
    assert repo["repo"] == "testrepo" and repo["version"] == "2.0-1"
    assert repo["depends"] == ["repolib"]
    aur = check("info", aenv.run("info", "aur-app", "--json", check=True).stdout)
    assert aur["repo"] == "aur" and aur["out_of_date"] is None
    text = aenv.run("info", "aur-app", check=True).stdout
    assert "Depends On      : aur-lib  repolib\n" in text
    assert "Votes           : 5\n" in text and "Maintainer      : tester\n" in text
    missing = aenv.run("info", "no-such-pkg")
    assert missing.returncode == 3 and missing.stderr.startswith("error: ")


def test_index_rebuilt_only_when_db_changes(world: ArchWorld, tmp_path: Path) -> None:
    db = tmp_path / "db"
    (db / "sync").mkdir(parents=True)
    shutil.copy(world.dbpath / "sync" / "testrepo.db", db / "sync" / "testrepo.db")
    conf = parse(None, f"[options]\nDBPath = {db}\n[testrepo]\n")
    with Index(tmp_path / "index") as index:
        assert [r.rebuilt for r in searchindex.load(index, conf, None)] == [True]
        assert [r.rebuilt for r in searchindex.load(index, conf, None)] == [False]
        os.utime(db / "sync" / "testrepo.db", (1, 1))
        first = searchindex.load(index, conf, None)
        assert first[0].rebuilt and {p[0] for p in first[0].pkgs} == set(
            ["repolib", "python-repotool", "python"])


def test_corrupt_sync_db(world: ArchWorld, aenv: OmgEnv, tmp_path: Path) -> None:
    db = tmp_path / "db"
    (db / "sync").mkdir(parents=True)
    (db / "local").mkdir()
    (db / "sync" / "testrepo.db").write_bytes(b"\x1f\x8b garbage, not a database")
    conf = tmp_path / "pacman.conf"
    conf.write_text(f"[options]\nDBPath = {db}\n[testrepo]\n")
    proc = aenv.run("search", "python", extra_env={"OMG_PACMAN_CONF": str(conf)})
    assert proc.returncode == 5
    assert proc.stderr.startswith("error: corrupt sync database")


def test_aur_get(world: ArchWorld, aenv: OmgEnv, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    proc = aenv.run("aur", "get", "aur-tool", "--dest", str(dest), check=True)
    assert Path(proc.stdout.strip()) == dest / "aur-tool"
    assert "pkgver=2.0" in (dest / "aur-tool" / "PKGBUILD").read_text()
    assert sorted(os.listdir(dest)) == ["aur-tool"]  # no temporary debris
    again = aenv.run("aur", "get", "aur-tool", "--dest", str(dest))
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = aenv.run("aur", "get", "x;reboot", "--dest", str(dest))
    assert bad.returncode == 2 and bad.stderr.startswith("error: invalid package name")
