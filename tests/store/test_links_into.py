"""`LocalStore.add(..., links_into=...)`: links into referenced store paths, nothing else.

A profile env is a forest of relative links such as ``bin/node ->
../../<hash>-node-20/bin/node``. Such a link may leave the new store path only
to land in a store path named in `links_into` (itself among the references);
every other escape stays refused (invariant 5) and leaves the store untouched.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from store.errors import UnsafeInput, UsageError
from store.hashing import digest_name, tree_digest
from store.local import LocalStore
from store.scan import scan
from tests.store.builders import Entry, write_dir


def _tool(tmp_path: Path, store: LocalStore, name: str) -> str:
    src = write_dir(tmp_path / f"src-{name}", [("bin/" + name, "f", f"#!{name}", 0o755),
                                              ("lib/x", "f", name, 0o644)])
    return store.add(src, name, "1").record.path


def _forest(tmp_path: Path, links: dict[str, str]) -> Path:
    entries: list[Entry] = [(rel, "l", target, 0) for rel, target in links.items()]
    return write_dir(tmp_path / f"forest-{len(os.listdir(tmp_path))}", entries)


def _store_state(store: LocalStore) -> list[str]:
    return sorted(os.listdir(store.layout.store))


def test_links_into_references_are_allowed(tmp_path: Path, store: LocalStore) -> None:
    node = _tool(tmp_path, store, "node")
    src = _forest(tmp_path, {"bin/node": f"../../{node}/bin/node",
                             "whole": f"../{node}",
                             "lib": f"../{node}/lib",
                             "bin/via-lib": "../lib/x"})
    expected = digest_name(tree_digest(scan(src)))  # its links name its references
    result = store.add(src, "profile", "node-1", references=[node], links_into=[node])
    assert result.created
    name = result.record.path
    assert name == f"{expected}-profile-node-1"
    env = store.layout.store_path(name)
    assert (env / "bin" / "node").read_bytes() == b"#!node"
    assert (env / "bin" / "via-lib").read_bytes() == b"node"
    assert store.verify([name]) == []
    assert store.get(name).references == (node,)
    again = store.add(src, "profile", "node-1", references=[node], links_into=[node])
    assert again.record.path == name and not again.created


@pytest.mark.parametrize("target", [
    "../../{ref}/bin/node",  # the right path, but links_into not given
])
def test_without_links_into_escapes_stay_refused(tmp_path: Path, store: LocalStore,
                                                 target: str) -> None:
    node = _tool(tmp_path, store, "node")
    src = _forest(tmp_path, {"bin/node": target.format(ref=node)})
    before = _store_state(store)
    with pytest.raises(UnsafeInput, match="points outside the tree"):
        store.add(src, "profile", "x", references=[node])
    assert _store_state(store) == before


@pytest.mark.parametrize("target", [
    "../../{other}/bin/other",  # a store path not named in links_into
    "../../{ref}/../{other}/bin/other",  # back out of the referenced path
    "../../{ref}/bin/../../{other}/bin/other",
    "../..",  # store/ itself
    "../../..",  # OMG_HOME
    "../../../db/data.mdb",
    "../../.links",
    "{store}/{ref}/bin/node",  # absolute, even into the store
    "../../{ref}x/bin/node",  # a name that only starts like the reference
])
def test_other_escapes_are_refused(tmp_path: Path, store: LocalStore, target: str) -> None:
    node = _tool(tmp_path, store, "node")
    other = _tool(tmp_path, store, "other")
    link = target.format(ref=node, other=other, store=store.layout.store)
    src = _forest(tmp_path, {"bin/node": link})
    before = _store_state(store)
    with pytest.raises(UnsafeInput, match=r"points outside the tree|absolute path"):
        store.add(src, "profile", "x", references=[node, other], links_into=[node])
    assert _store_state(store) == before


def test_escape_through_an_allowed_link_is_refused(tmp_path: Path, store: LocalStore) -> None:
    node = _tool(tmp_path, store, "node")
    src = _forest(tmp_path, {"lib": f"../{node}/lib", "bin/evil": "../lib/../../../etc"})
    with pytest.raises(UnsafeInput, match="bin/evil"):
        store.add(src, "profile", "x", references=[node], links_into=[node])


@pytest.mark.parametrize(("extra_refs", "links_into"), [
    ([], ["{ref}", "{other}"]),  # other is in the store but not a reference
    ([".."], [".."]),  # a reference that is a directory, but no store path
    (["{ref}/bin"], ["{ref}/bin"]),
])
def test_links_into_must_be_store_path_references(tmp_path: Path, store: LocalStore,
                                                  extra_refs: list[str],
                                                  links_into: list[str]) -> None:
    node = _tool(tmp_path, store, "node")
    other = _tool(tmp_path, store, "other")
    src = _forest(tmp_path, {"bin/node": f"../../{node}/bin/node"})
    refs = [node, *(n.format(ref=node) for n in extra_refs)]
    names = [n.format(ref=node, other=other) for n in links_into]
    before = _store_state(store)
    with pytest.raises(UsageError, match="links into"):
        store.add(src, "profile", "x", references=refs, links_into=names)
    assert _store_state(store) == before
