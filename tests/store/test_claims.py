"""Claims: who vouches for a store path, so for whom its name resolves (store.claims)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from store import claims
from store.claims import ADDED, BUILT, UPSTREAM, Claim
from store.layout import Layout
from store.local import LocalStore


def _tree(root: Path, tag: str) -> Path:
    src = root / f"src-{tag}"
    (src / "bin").mkdir(parents=True)
    (src / "bin" / "tool").write_text(f"#!/bin/sh\necho {tag}\n")
    return src


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(Layout(tmp_path / "omg"), user="alice")


def test_an_addition_resolves_for_its_user_alone(store: LocalStore, tmp_path: Path) -> None:
    name = store.add(_tree(tmp_path, "a"), "tool", "1.0").record.path
    store_dir = str(store.layout.store)
    assert claims.resolvable(store_dir, name, "alice")
    assert not claims.resolvable(store_dir, name, "bob")
    assert not claims.resolvable(store_dir, name, None)  # not trusted
    assert [r.path for r in store.resolvable("tool", "1.0", user="alice")] == [name]
    assert store.resolvable("tool", "1.0", user="bob") == []
    assert store.resolvable("tool", user=None) == []
    assert [r.path for r in store.find("tool")] == [name]  # content is there for all


def test_the_same_content_gains_each_partys_claim(store: LocalStore, tmp_path: Path) -> None:
    src = _tree(tmp_path, "same")
    first = store.add(src, "tool", "1.0")
    bob = LocalStore(store.layout, user="bob", index=store.index)
    second = bob.add(src, "tool", "1.0")
    assert (first.created, second.created) == (True, False)
    assert first.record.path == second.record.path
    upstream = Claim(UPSTREAM, "carol", {"url": "http://127.0.0.1/t.tgz"})
    bob.add(src, "tool", "1.0", claim=upstream)
    rows = store.claims(first.record.path)
    assert [(c["scope"], c["kind"], c["user"]) for c in rows] == [
        ("trusted", "upstream", "carol"), ("user", "add", "alice"), ("user", "add", "bob")]
    assert rows[0]["detail"] == {"url": "http://127.0.0.1/t.tgz"}
    assert claims.resolvable(str(store.layout.store), first.record.path, "dave")


def test_the_first_claim_of_a_scope_stands(store: LocalStore) -> None:
    layout = store.layout
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def claim(i: int) -> None:
        barrier.wait()
        results.append(claims.record(layout, "x" * 32 + "-t-1", Claim(BUILT, "alice",
                                                                       {"i": i}), now=1.0))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    directory = layout.store / ".claims" / "users" / "alice"
    assert os.listdir(directory) == ["x" * 32 + "-t-1"]  # no temporary file left


def test_forget_keeps_live_paths_claims_only(store: LocalStore, tmp_path: Path) -> None:
    src = _tree(tmp_path, "live")
    live = store.add(src, "tool", "1.0").record.path
    store.add(src, "tool", "1.0", claim=Claim(UPSTREAM, "x"))
    dead = "a" * 32 + "-tool-0.9"
    for c in (Claim(ADDED, "alice"), Claim(ADDED, "bob"), Claim(UPSTREAM, "x")):
        claims.record(store.layout, dead, c, now=1.0)
    assert claims.forget(store.layout, store.names()) == 3
    assert [c["user"] for c in store.claims(live)] == ["x", "alice"]
    assert store.claims(dead) == []


def test_a_user_claim_needs_a_user_name() -> None:
    for bad in ("", ".hidden", "a/b"):
        with pytest.raises(ValueError):
            Claim(ADDED, bad)
    assert Claim(ADDED, "root", trusted=True).trusted
    assert not Claim(BUILT, "alice").trusted and Claim(UPSTREAM, "").trusted
