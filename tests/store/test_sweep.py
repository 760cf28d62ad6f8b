"""The sweep half of GC: dead paths, their unshared pool files, and crash leftovers."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import OmgEnv


def _tree(root: Path, body: str) -> Path:
    (root / "bin").mkdir(parents=True)
    exe = root / "bin" / "tool"
    exe.write_text(f"#!/bin/sh\necho {body}\n")
    exe.chmod(0o755)
    (root / "shared.txt").write_text("the same in every version\n")
    return root


def test_sweep_frees_dead_paths_and_keeps_shared_pool_files(omg_env: OmgEnv,
                                                            tmp_path: Path) -> None:
    store = omg_env.store()
    one = store.add(_tree(tmp_path / "one", "1"), "tool", "1").record.path
    two = store.add(_tree(tmp_path / "two", "2"), "tool", "2").record.path
    links_before = set(os.listdir(store.layout.links))
    with store.gc_guard(exclusive=True):
        result = store.sweep([one])
    assert result.deleted == [one]
    assert result.freed_bytes > 0
    assert not store.layout.store_path(one).exists()
    assert not store.layout.record_path(one).exists()
    assert store.names() == [two]
    # bin/tool of version 1 is gone from the pool; shared.txt is still linked by two.
    links_after = set(os.listdir(store.layout.links))
    assert len(links_before - links_after) == 1
    assert store.verify() == []
    assert [r.path for r in store.records()] == [two]


def test_sweep_reclaims_what_a_killed_ingest_left(omg_env: OmgEnv, tmp_path: Path) -> None:
    store = omg_env.store()
    kept = store.add(_tree(tmp_path / "kept", "k"), "tool", "1").record.path
    # What an ingest killed between publishing into the pool and its final rename
    # leaves behind: a pool file nothing else links, and a record without its path.
    orphan_pool = store.layout.links / ("ab" * 32)
    orphan_pool.write_bytes(b"x" * 1000)
    orphan_record = store.layout.record_path("a" * 32 + "-tool-9")
    orphan_record.write_text("{}")
    with store.gc_guard(exclusive=True):
        result = store.sweep([])
    assert result.deleted == []
    assert result.freed_bytes >= 1000
    assert not orphan_pool.exists()
    assert not orphan_record.exists()
    assert store.names() == [kept]
    assert store.verify() == []


def test_sweep_moves_each_path_out_before_deleting_and_stops_between_paths(
        omg_env: OmgEnv, tmp_path: Path) -> None:
    store = omg_env.store()
    dead = sorted(store.add(_tree(tmp_path / str(i), str(i)), "tool", str(i)).record.path
                  for i in range(3))
    trash = store.layout.store / ".trash"

    def stop() -> bool:  # a signal arrives while the first path is being moved
        return trash.is_dir() and len(os.listdir(trash)) > 0

    with store.gc_guard(exclusive=True):
        result = store.sweep(dead, stop)
    assert not result.complete and result.deleted == dead[:1]
    assert store.names() == dead[1:]
    assert store.verify() == []  # what is still in the store is whole
    assert os.listdir(store.layout.store / ".trash") == [dead[0]]
    assert not store.layout.record_path(dead[0]).exists()
    assert store.index.get("paths", dead[0].encode()) is None
    assert store.claims(dead[0]) == [] and store.claims(dead[1]) != []
    with store.gc_guard(exclusive=True):
        assert store.sweep([]).complete  # the next sweep empties the trash
    assert os.listdir(store.layout.store / ".trash") == []
    assert [n for n in os.listdir(store.layout.links)
            if os.stat(store.layout.links / n).st_nlink == 1] == []


def test_the_trash_is_never_listed_or_linked(omg_env: OmgEnv, tmp_path: Path) -> None:
    """What a gc killed mid-sweep leaves in the trash is no store path to anyone."""
    from generations.catalogue import Catalogue, store_names

    tool = omg_env.run("store", "add", str(_tree(tmp_path / "t", "t")), "--name", "tool",
                       "--version", "1", check=True).stdout.strip()
    trash = omg_env.layout.store / ".trash"
    trash.mkdir()
    os.rename(tool, trash / os.path.basename(tool))
    assert omg_env.store().names() == []
    assert store_names(str(omg_env.layout.store)) == []
    assert Catalogue(str(omg_env.home), "nobody").resolved("tool", "1") is None
    assert omg_env.run("store", "ls", check=True).stdout == ""
    used = omg_env.run("use", "tool@1")
    assert used.returncode == 3 and "unknown tool 'tool'" in used.stderr  # none left


def test_pool_keys_name_the_pool_entries_of_a_paths_files(omg_env: OmgEnv,
                                                           tmp_path: Path) -> None:
    """The sweep releases a dead path's pool entries by these names as soon as its
    tree is gone (store.unpack.link_key names them at ingest)."""
    from store.sweep import pool_keys

    store = omg_env.store()
    name = store.add(_tree(tmp_path / "k", "k"), "tool", "1").record.path
    keys = pool_keys(store.entries(name))
    assert len(keys) == 2 and any(k.endswith("x") for k in keys)  # bin/tool is executable
    assert set(keys) <= set(os.listdir(store.layout.links))
