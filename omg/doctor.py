"""`omg doctor`: what is wrong with the store, its index and the profiles; the repair.

`diagnose` reads everything and changes nothing: the index file is walked
page by page (`store.lmdbcheck`) before LMDB is allowed to map it, then its
rows are compared with the record files; every record file, every store
path's content (`verify`), every generation record and every generation's
closure is checked.

`repair` rebuilds what can be rebuilt from the files (invariant 4), whatever
state ``db/`` is in, under the exclusive gc lock (no ingest, use or gc runs
meanwhile): store path records that are missing or unreadable are rebuilt
from their trees (a bad file is kept aside), corrupt generation records are
set aside (their links stay), and a fresh index is built beside the old one,
which is moved aside unopened (`store.index.rebuild`). Content that does not
match its hash is not repairable: `diagnose` names it, reinstalling fixes it.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from generations import profile as gp
from store.errors import Busy
from store.index import Index, rebuild
from store.layout import Layout
from store.lmdbcheck import check_pages
from store.local import LocalStore

if TYPE_CHECKING:
    from omg.backend import Backend


class RepairResult(NamedTuple):
    store_paths: int
    generations: int
    #: What had to be rebuilt or set aside, one line each.
    notes: list[str]
    #: Where the old index went (None when there was none).
    old_index: str | None


def diagnose(backend: Backend, layout: Layout) -> list[str]:
    """Every problem found, one line each, prefixed by its kind.

    Through omgd (the shared mode) the daemon verifies the content; the index
    and the records are its owner's to check.
    """
    from omg.backends.local import LocalBackend

    lines: list[str] = []
    if isinstance(backend, LocalBackend):
        store = backend.store
        data = os.path.join(layout.db, "data.mdb")
        damage = check_pages(data)
        if damage is not None:
            lines.append(f"index: damaged: {damage}")
        elif os.path.exists(data):  # no index is no damage: it fills as paths are read
            lines += [f"index: {p}" for p in _index_problems(store)]
        lines += [f"record: {p}" for p in store.check_records()]
    lines += [f"corrupt: {p}" for p in backend.store_verify().problems]
    lines += [f"generation: {p}" for p in gp.check_records(layout)]
    lines += [f"broken: {p}" for p in gp.check(layout)]
    return lines


def _index_problems(store: LocalStore) -> list[str]:
    """Index rows that differ from the record files (the files are the truth)."""
    from store.errors import OmgError
    from store.record import decode_record, tree_from_plain

    try:
        rows = dict(store.index.items("paths"))
        trees = dict(store.index.items("pathfiles"))
    except OmgError as exc:
        return [exc.message]
    problems = []
    for name in store.names():
        row, tree = rows.get(name.encode()), trees.get(name.encode())
        if row is None and tree is None:
            continue  # not indexed yet: read from its record file when needed
        try:
            record, entries = decode_record(store.layout.record_path(name).read_bytes(), name)
        except (OSError, OmgError):
            continue  # reported as a bad record
        try:
            indexed = tree_from_plain(tree) if tree is not None else []
        except ValueError:
            indexed = None  # a malformed row differs
        if row != record.to_index() or indexed != entries:
            problems.append(f"the row of {name} differs from its record file")
    return problems


def repair(layout: Layout) -> RepairResult:
    """Rebuild records and the index from the files; see the module docstring."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    store = LocalStore(layout, index=None)  # never opens db/: it may be what is broken
    with _no_daemon(layout), store.gc_guard(exclusive=True):
        repaired = store.repair_records(stamp)
        notes = repaired.notes + gp.quarantine_records(layout)

        def fill(index: Index) -> tuple[int, int]:
            return store.put_records(index, repaired.records), gp.rebuild_index(layout, index)

        (paths, gens), old = rebuild(layout.db, fill, stamp)
    return RepairResult(paths, gens, notes, old)


@contextlib.contextmanager
def _no_daemon(layout: Layout) -> Iterator[None]:
    """Hold omgd's own lock (`omg.daemon.server.pid_lock`) for the repair.

    A running omgd keeps db/ open: after the repair moved it aside, the daemon
    would go on writing its rows there, and no start may begin meanwhile.
    """
    from store.locks import FileLock

    path = layout.locks / "omgd.lock"
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(FileLock(path, timeout=0))
        except Busy:
            pid = path.read_text(errors="replace").strip() or "?"
            raise Busy(f"omgd (pid {pid}) serves this store and keeps its index open",
                       hint="stop it (`systemctl stop omgd`), then run `omg doctor "
                            "--repair` again") from None
        yield
