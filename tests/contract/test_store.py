"""The contract of the store methods: store_add, store_records, store_info,
store_verify, resolve_name; and gc. The same on both backends (conftest.py)."""

from __future__ import annotations

import os

from generations.gc import GcResult
from omg.backend import Backend
from omg.store_cases import StoreInfo, VerifyResult
from store.ingest import AddResult
from store.local import Problem
from tests.contract.conftest import Failure, Kit

TOOL_FILES = {"bin/tool": b"#!/bin/sh\necho tool\n", "share/README": b"read me\n"}


def _trusted(kit: Kit) -> bool:
    """Root's additions resolve by name for every user, whichever backend made them
    (docs/shared-store.md, "Trust"); any other user's resolve for that user alone."""
    return os.geteuid() == 0


# store_add -----------------------------------------------------------------------------


def test_store_add_of_an_archive_and_of_a_directory(backend: Backend, kit: Kit) -> None:
    archive = kit.archive("tool", "1.0", TOOL_FILES)
    added = backend.store_add(archive, "tool", "1.0")
    assert isinstance(added, AddResult) and added.created and added.warnings == []
    record = added.record
    assert (record.name, record.version, record.files, record.references) == \
        ("tool", "1.0", 2, ())
    assert record.size == sum(len(v) for v in TOOL_FILES.values())
    assert record.origin == kit.origin(None)
    assert record.path.startswith(record.hash[:8]) and record.path.endswith("-tool-1.0")
    assert (kit.store_path(record.path) / "bin" / "tool").read_bytes() == TOOL_FILES["bin/tool"]
    # The same content again: the same store path, nothing new written.
    again = backend.store_add(archive, "tool", "1.0")
    assert (again.record.path, again.created, again.added_bytes) == (record.path, False, 0)
    # A directory holding the same tree (the archive's top directory stripped).
    tree = kit.root / "tree"
    for rel, data in TOOL_FILES.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(data)
    os.chmod(tree / "bin" / "tool", 0o755)
    from_dir = backend.store_add(tree, "tool", "1.0")
    assert (from_dir.record.path, from_dir.created) == (record.path, False)
    # A directory's one subdirectory is content, never stripped as an archive's top is.
    nested = kit.root / "nested"
    (nested / "tool-1.0").mkdir(parents=True)
    os.rename(tree / "bin", nested / "tool-1.0" / "bin")
    inner = backend.store_add(nested, "tool", "1.0").record
    assert inner.path != record.path and inner.files == 1
    assert (kit.store_path(inner.path) / "tool-1.0" / "bin" / "tool").is_file()


def test_store_add_keeps_references_and_origin(backend: Backend, kit: Kit) -> None:
    lib = backend.store_add(kit.tree("lib", "1.0"), "lib", "1.0").record.path
    origin = {"url": "https://example.org/app-2.0.tar.gz", "note": ["a", 1, True, None]}
    app = backend.store_add(kit.tree("app", "2.0"), "app", "2.0",
                            references=[lib[:12]], origin=origin)
    assert app.record.references == (lib,)
    assert app.record.origin == kit.origin(origin)
    assert backend.store_info(app.record.path).record == app.record


def test_store_add_refuses_bad_input_and_changes_nothing(backend: Backend, kit: Kit) -> None:
    tree = kit.tree("tool", "1.0")
    assert kit.fails(lambda: backend.store_add(tree, "bad name", "1.0")) == Failure(
        "UsageError", "invalid name 'bad name': use letters, digits and + _ . @ ~ -", None, 2)
    assert kit.fails(lambda: backend.store_add(tree, "tool", "1.0",
                                               references=["0000nothere"])) == Failure(
        "NotFound", "no store path '0000nothere'", None, 3)
    assert backend.store_records() == []


# store_records, store_info, resolve_name ------------------------------------------------


def test_store_records_and_info_with_its_claims(backend: Backend, kit: Kit) -> None:
    a = backend.store_add(kit.tree("aaa", "1.0"), "aaa", "1.0").record
    b = backend.store_add(kit.tree("bbb", "2.0"), "bbb", "2.0").record
    assert sorted(backend.store_records(), key=lambda r: r.path) == \
        sorted([a, b], key=lambda r: r.path)
    info = backend.store_info(b.path[:10])
    assert isinstance(info, StoreInfo)
    assert (info.record, info.store_path) == (b, str(kit.store_path(b.path)))
    [claim] = info.claims
    scope = "trusted" if _trusted(kit) else "user"
    assert {k: claim[k] for k in ("scope", "kind", "user", "store_path", "detail")} == {
        "scope": scope, "kind": "add", "user": kit.user, "store_path": b.path, "detail": {}}
    assert kit.fails(lambda: backend.store_info("zzzz")) == Failure(
        "NotFound", "no store path 'zzzz'", None, 3)


def test_resolve_name_takes_a_name_a_path_or_a_unique_prefix(backend: Backend,
                                                              kit: Kit) -> None:
    one = backend.store_add(kit.tree("aaa", "1.0"), "aaa", "1.0").record.path
    two = backend.store_add(kit.tree("aaa", "2.0"), "aaa", "2.0").record.path
    assert backend.resolve_name(one) == one
    assert backend.resolve_name(str(kit.store_path(two)) + "/") == two
    assert backend.resolve_name(two[:6]) == two
    assert kit.fails(lambda: backend.resolve_name("nothing")) == Failure(
        "NotFound", "no store path 'nothing'", None, 3)
    common = one[:next(i for i, (x, y) in enumerate(zip(one, two, strict=True)) if x != y)]
    failure = kit.fails(lambda: backend.resolve_name(common))
    assert (failure.kind, failure.exit_code) == ("NotFound", 3)
    assert failure.message.startswith(f"{common!r} is ambiguous: ")


# store_verify --------------------------------------------------------------------------


def test_store_verify_of_a_clean_store(backend: Backend, kit: Kit) -> None:
    assert backend.store_verify() == VerifyResult(0, [])
    a = backend.store_add(kit.archive("tool", "1.0", TOOL_FILES), "tool", "1.0").record.path
    backend.store_add(kit.tree("other", "1.0"), "other", "1.0")
    assert backend.store_verify() == VerifyResult(2, [])
    assert backend.store_verify([a[:8]]) == VerifyResult(1, [])


def test_store_verify_names_the_corrupted_file(backend: Backend, kit: Kit) -> None:
    a = backend.store_add(kit.archive("tool", "1.0", TOOL_FILES), "tool", "1.0").record.path
    b = backend.store_add(kit.tree("other", "1.0"), "other", "1.0").record.path
    # The test's user owns the store (omgd's too): it may make a file writable and change it.
    readme = kit.store_path(a) / "share" / "README"
    os.chmod(readme, 0o644)
    with open(readme, "r+b") as f:
        f.write(b"R")
    result = backend.store_verify()
    assert result.checked == 2 and len(result.problems) == 1
    [problem] = result.problems
    assert isinstance(problem, Problem)
    assert (problem.path, problem.file) == (a, "share/README")
    assert backend.store_verify([b]) == VerifyResult(1, [])
    assert backend.store_verify([a]) == VerifyResult(1, [problem])
    assert kit.fails(lambda: backend.store_verify(["nothere"])) == Failure(
        "NotFound", "no store path 'nothere'", None, 3)


# gc ------------------------------------------------------------------------------------

# Who may collect garbage differs by design: through omgd the peer must be root or in
# `[daemon] gc_group`; a local backend's user owns its store. The suite's daemon is the
# test user's and names its group (conftest.py), so both backends collect here.


def test_gc_keeps_what_a_generation_reaches_and_frees_the_rest(backend: Backend,
                                                                kit: Kit) -> None:
    old = backend.store_add(kit.tree("tool", "1.0"), "tool", "1.0").record
    new = backend.store_add(kit.tree("tool", "2.0"), "tool", "2.0").record
    loose = backend.store_add(kit.tree("loose", "1.0"), "loose", "1.0").record
    first = backend.use(["tool@1.0"])
    second = backend.use(["tool@2.0"])
    everything = {r.path for r in backend.store_records()}
    assert everything == {old.path, new.path, loose.path, first.env, second.env}
    # Generation 1 still reaches tool 1.0: only the path nothing reaches is dead.
    dry = backend.gc(dry_run=True)
    assert isinstance(dry, GcResult)
    assert (dry.dead, dry.dry_run, dry.deleted_generations, dry.live) == \
        ([loose.path], True, [], 4)
    assert dry.freed_bytes == loose.size
    assert {r.path for r in backend.store_records()} == everything  # a dry run frees nothing
    backend.delete_generations([1])
    dry = backend.gc(dry_run=True)
    assert sorted(dry.dead) == sorted([old.path, loose.path, first.env])
    real = backend.gc()
    # freed_bytes: a dry run adds up the dead records' sizes, a sweep counts what it
    # removed (links and files as they are on disk): close, not equal. The transcript
    # holds both backends to the same figures.
    assert (sorted(real.dead), real.dry_run, real.live) == (sorted(dry.dead), False, 2)
    assert real.freed_bytes > 0
    assert {r.path for r in backend.store_records()} == {new.path, second.env}
    assert not kit.store_path(old.path).exists()
    assert backend.which("tool").store_path == new.path
    assert backend.gc() == GcResult([], 0, False, [], 2)


def test_gc_older_than_deletes_old_generations_first(backend: Backend, kit: Kit) -> None:
    for v in ("1.0", "2.0"):
        backend.store_add(kit.tree("tool", v), "tool", v)
        backend.use([f"tool@{v}"])
    backend.use(["tool@1.0"], profile="other")
    result = backend.gc(older_than=0.0)
    # Every profile's generations but the current ones.
    assert result.deleted_generations == [(f"{kit.user}/default", 1)]
    assert [g.number for g in backend.generations()] == [2]
    assert backend.gc(dry_run=True, older_than=3600.0).deleted_generations == []

