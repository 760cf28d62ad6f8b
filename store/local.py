"""`LocalStore`: the store on this machine's filesystem, the one facade layers above use.

Commands never use it directly: they ask a backend (omg/backend.py), and in the
shared mode omgd's `LocalBackend` uses the daemon's LocalStore for them. Verify,
repair and the sweep half of GC live here too.

Light at import time (no dataclasses, no ingest, hashing or pathlib of its
own): ``omg gc`` builds a LocalStore on its hot path (omg/fast.py); the heavy
modules load when a method needs them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from store import claims as _claims
from store import sweep as _sweep
from store.errors import FormatTooNew, IntegrityError, NotFound, OmgError, PermissionDenied
from store.index import REPAIR_HINT, Index, malformed, unpack
from store.layout import Layout, store_hash_of
from store.limits import DEFAULT_LIMITS, Limits
from store.locks import FileLock, gc_lock

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping
    from pathlib import Path

    from store.archive import Member
    from store.hashing import Tree
    from store.ingest import AddResult
    from store.record import PathRecord, TreeEntry
    from store.unpack import Progress


def read_record_file(layout: Layout, name: str) -> tuple[PathRecord, list[TreeEntry]]:
    """The record file of `name`, decoded (the truth, no index needed); IntegrityError
    if it cannot be read."""
    from store.record import decode_record

    try:
        raw = layout.record_path(name).read_bytes()
    except OSError as exc:
        raise IntegrityError(f"{name}: cannot read its record: {exc.strerror}",
                             hint=REPAIR_HINT) from exc
    return decode_record(raw, name)


class Problem(NamedTuple):
    """One finding of `verify`: which store path, which file, what is wrong."""

    path: str
    file: str
    what: str

    def __str__(self) -> str:
        where = f"{self.path}/{self.file}" if self.file else self.path
        return f"{where}: {self.what}"


class SweepResult(NamedTuple):
    deleted: list[str]
    freed_bytes: int
    #: False when a signal stopped the sweep: `deleted` is what left the store.
    complete: bool = True


class Repaired(NamedTuple):
    """What `repair_records` made of each store path's record file."""

    records: list[tuple[PathRecord, list[TreeEntry]]]
    #: One line per record that had to be rebuilt, and where a bad file was put.
    notes: list[str]


class LocalStore:
    """`user`: for whom additions are claimed unless a claim says otherwise (default:
    the user running this process; omgd passes each peer's claim itself)."""

    def __init__(self, layout: Layout, *, limits: Limits = DEFAULT_LIMITS,
                 index: Index | None = None, user: str | None = None) -> None:
        self.layout = layout
        self.limits = limits
        self._index = index
        self._user = user

    @property
    def user(self) -> str:
        if self._user is None:
            self._user = _claims.process_user()
        return self._user

    @property
    def index(self) -> Index:
        if self._index is None:
            self._index = Index.for_home(self.layout.db)
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    # Locking ----------------------------------------------------------------

    def gc_guard(self, *, exclusive: bool = False, timeout: float = 60.0) -> FileLock:
        """Shared: "I may link store paths"; exclusive: "I am collecting garbage"."""
        return gc_lock(self.layout.home, exclusive=exclusive, timeout=timeout)

    # Adding ------------------------------------------------------------------

    def add(self, source: Path, name: str, version: str, *, references: Iterable[str] = (),
            origin: dict[str, object] | None = None, strip_top: bool | None = None,
            progress: Progress | None = None,
            links_into: Collection[str] = (),
            claim: _claims.Claim | None = None,
            expect_name: str | None = None) -> AddResult:
        """Add an archive or a directory; see `store.ingest.ingest`.

        `links_into`: store paths (each also in `references`) whose trees the
        symlinks of `source` may point into; any other link leaving it is refused.
        `claim`: who vouches for it (see `store.claims`); by default an addition by
        `self.user`, which only that user resolves by name, unless this process is
        root's acting for itself (root is every store's trusted user). The claim is
        recorded whether or not the content was new: the same bytes are one store
        path, and each party that brings them adds its own claim.
        `expect_name`: the name the content must hash to, else an IntegrityError
        and nothing published.
        """
        from store import ingest

        return self._claimed(source.name, claim, lambda: ingest.ingest(
            self.layout, self.index, source, name, version, references=tuple(references),
            origin=origin, limits=self.limits, strip_top=strip_top, progress=progress,
            links_into=tuple(links_into), expect_name=expect_name))

    def add_members(self, members: Iterable[Member], label: str, name: str, version: str,
                    *, expect_name: str, claim: _claims.Claim,
                    references: Iterable[str] = (), origin: dict[str, object] | None = None,
                    metadata: dict[str, object] | None = None,
                    progress: Progress | None = None) -> AddResult:
        """Add a tree given as members (`store.ingest.ingest_members`) as
        `expect_name`, which it must hash to; `claim` as for `add`."""
        from store import ingest

        return self._claimed(label, claim, lambda: ingest.ingest_members(
            self.layout, self.index, members, label, name, version, expect_name=expect_name,
            references=tuple(references), origin=origin, metadata=metadata,
            limits=self.limits, progress=progress))

    def _claimed(self, label: str, claim: _claims.Claim | None,
                 run: Callable[[], AddResult]) -> AddResult:
        """`run` an ingest under the shared gc lock, then record `claim` on its path."""
        if claim is None:
            claim = _claims.Claim(_claims.ADDED, self.user,
                                  trusted=self._user is None and os.geteuid() == 0)
        with self.gc_guard():
            try:
                result = run()
                if claim.kind != _claims.UNCLAIMED:
                    import time

                    _claims.record(self.layout, result.record.path, claim, now=time.time())
                return result
            except OSError as exc:  # a full disk, a read-only store: a message, not a traceback
                where = f" ({exc.filename})" if exc.filename else ""
                cls = PermissionDenied if isinstance(exc, PermissionError) else OmgError
                raise cls(f"cannot add {label}: {exc.strerror or exc}{where}") from exc

    # Queries -----------------------------------------------------------------

    def resolve_name(self, text: str) -> str:
        """A store path name from a name, a full path or a unique hash prefix."""
        base = text.rstrip("/").rsplit("/", 1)[-1]
        if store_hash_of(base) and self.layout.store_path(base).is_dir():
            return base
        matches = [n for n in self.names() if n.startswith(base)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(f"no store path {text!r}")
        raise NotFound(f"{text!r} is ambiguous: {', '.join(matches[:5])}")

    def names(self) -> list[str]:
        """Store path names on disk, sorted (never the trash, staging or the pool)."""
        return _sweep.store_names(os.fspath(self.layout.store))

    def get(self, name: str) -> PathRecord:
        from store.ingest import existing_record

        if not self.layout.store_path(name).is_dir():
            raise NotFound(f"no store path {name!r}")
        return existing_record(self.layout, self.index, name)

    def records(self) -> list[PathRecord]:
        """Every store path's record; a bad one is an error naming the repair."""
        from store.ingest import existing_record
        from store.record import PathRecord

        indexed = {k.decode(): PathRecord.from_index(v) for k, v in self.index.items("paths")}
        out = []
        for name in self.names():  # already sorted
            rec = indexed.get(name)
            if rec is None:
                # names() just listed it: no second is_dir, as get() would do
                try:
                    rec = existing_record(self.layout, self.index, name)
                except IntegrityError as exc:
                    raise IntegrityError(exc.message, hint=exc.hint or REPAIR_HINT) from exc
            out.append(rec)
        return out

    def find(self, name: str, version: str | None = None) -> list[PathRecord]:
        """Store paths with this package name (and version), newest first, whoever
        claimed them: for showing what is there, never for choosing what to run."""
        found = [r for r in self.records()
                 if r.name == name and (version is None or r.version == version)]
        return sorted(found, key=lambda r: r.created, reverse=True)

    def resolvable(self, name: str, version: str | None = None, *,
                   user: str | None) -> list[PathRecord]:
        """`find`, limited to the paths `user` may resolve by name (`store.claims`);
        `user=None`: trusted claims only (what "installed from upstream" means)."""
        store_dir = str(self.layout.store)
        return [r for r in self.find(name, version)
                if _claims.resolvable(store_dir, r.path, user)]

    def claims(self, name: str) -> list[dict[str, object]]:
        """Who vouches for store path `name` (for `omg store info`)."""
        return _claims.read(self.layout, name)

    def entries(self, name: str) -> list[TreeEntry]:
        from store.record import tree_from_plain

        found = self.index.get("pathfiles", name.encode())
        if found is None:
            return self._record_file(name)[1]
        try:
            return tree_from_plain(found)
        except ValueError as exc:
            raise malformed("pathfiles", name.encode(), str(exc)) from exc

    def _record_entries(self, name: str) -> list[TreeEntry]:
        try:
            return self._record_file(name)[1]
        except OmgError:
            return self.entries(name)

    def _record_file(self, name: str) -> tuple[PathRecord, list[TreeEntry]]:
        return read_record_file(self.layout, name)

    def closure(self, names: Iterable[str]) -> set[str]:
        todo, seen = list(names), set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(self.get(name).references)
        return seen

    def _rows(self, names: list[str]) -> list[Mapping[str, object] | None]:
        """The index rows of `names` in one read (None where missing or unreadable)."""
        out: list[Mapping[str, object] | None] = []
        for raw in self.index.get_raw("paths", [n.encode() for n in names]):
            try:
                row = None if raw is None else unpack(raw)
            except IntegrityError:
                row = None  # the record file is the truth: the caller falls back to it
            out.append(row if isinstance(row, dict) else None)
        return out

    def references(self, names: list[str]) -> dict[str, list[str]]:
        """Each name's references, from its index row or else its record file.

        For the mark of gc, which asks only about live paths. A record that can
        be read nowhere is an IntegrityError: what it references is unknown,
        so nothing may be deleted on its account.
        """
        out: dict[str, list[str]] = {}
        for name, row in zip(names, self._rows(names), strict=True):
            refs = row.get("references") if row is not None else None
            if not isinstance(refs, list | tuple) or not all(isinstance(r, str) for r in refs):
                try:
                    refs = list(self._record_file(name)[0].references)
                except IntegrityError as exc:
                    raise IntegrityError(
                        f"cannot tell what {name} references, and a root needs it: "
                        f"{exc.message}; gc deleted nothing", hint=REPAIR_HINT) from exc
            out[name] = list(refs)
        return out

    def sizes(self, names: list[str]) -> dict[str, int]:
        """Recorded content size of each path (index row, else record file, else 0)."""
        out: dict[str, int] = {}
        for name, row in zip(names, self._rows(names), strict=True):
            size = row.get("size") if row is not None else None
            if not isinstance(size, int):
                try:
                    size = self._record_file(name)[0].size
                except IntegrityError:
                    size = 0
            out[name] = size
        return out

    # Verify and repair --------------------------------------------------------

    def verify(self, names: Iterable[str] | None = None) -> list[Problem]:
        from store.hashing import digest_name, path_digest, tree_digest
        from store.scan import scan

        problems: list[Problem] = []
        for name in (self.names() if names is None else names):
            path = self.layout.store_path(name)
            try:
                tree = scan(path)
            except OSError as exc:
                problems.append(Problem(name, "", f"unreadable: {exc}"))
                continue
            digest = tree_digest(tree)
            # A name covers the references too (path_digest); paths made before it
            # did are named by their tree alone, and still verify.
            if name[:32] in (digest_name(digest),
                             digest_name(path_digest(tree, digest, self._recorded_refs(name)))):
                continue
            problems.extend(self._locate(name, tree))
        return problems

    def _recorded_refs(self, name: str) -> tuple[str, ...]:
        """The references in the record file (the truth), else the index row."""
        try:
            return self._record_file(name)[0].references
        except OmgError:
            try:
                return tuple(self.references([name])[name])
            except OmgError:
                return ()

    def _locate(self, name: str, tree: Tree) -> list[Problem]:
        """Name the files that differ from the record (the record is the reference)."""
        from store.record import tree_entries

        try:  # the record file first: it is the truth, and the index may be what is broken
            expected = {e[0]: e for e in self._record_entries(name)}
        except (OSError, OmgError):
            return [Problem(name, "", "content does not match its hash (no record to compare)")]
        found = {e[0]: e for e in tree_entries(tree)}
        problems = []
        for where in sorted(set(expected) | set(found)):
            want, got = expected.get(where), found.get(where)
            if want is None:
                problems.append(Problem(name, where, "unexpected file"))
            elif got is None:
                problems.append(Problem(name, where, "missing"))
            elif want[1] != got[1]:
                problems.append(Problem(name, where, f"kind changed ({want[1]} -> {got[1]})"))
            elif want[2] != got[2]:
                problems.append(Problem(name, where, "content changed (hash mismatch)"))
        return problems or [Problem(name, "", "content does not match its hash")]

    def check_records(self) -> list[Problem]:
        """Record files that are missing or cannot be read (for `omg doctor`)."""
        from store.record import decode_record

        problems = []
        for name in self.names():
            try:
                decode_record(self.layout.record_path(name).read_bytes(), name)
            except FileNotFoundError:
                problems.append(Problem(name, "", "its record file is missing"))
            except (OSError, OmgError) as exc:
                problems.append(Problem(name, "", f"bad record: {exc}"))
        return problems

    def repair_records(self, stamp: str) -> Repaired:
        """Every store path's record, rebuilding the missing and the unreadable ones.

        A bad record file is kept aside as ``.<path>.meta.corrupt-<stamp>`` (not
        deleted: it may still tell a human something; hidden, so no listing of
        ``store/`` takes it for a store path) and replaced by one made
        from the tree (`_record_from_tree`). Reads no index: repair must work
        whatever state ``db/`` is in.
        """
        from store.fsutil import atomic_write
        from store.record import decode_record, encode_record

        good: dict[str, tuple[PathRecord, list[TreeEntry]]] = {}
        broken: list[tuple[str, str]] = []
        for name in self.names():
            path = self.layout.record_path(name)
            try:
                good[name] = decode_record(path.read_bytes(), name)
            except FileNotFoundError:
                broken.append((name, "its record was missing"))
            except FormatTooNew:
                raise  # a newer omg's record is no damage: never replace it
            except (OSError, OmgError) as exc:
                aside = path.with_name(f".{path.name}.corrupt-{stamp}")
                os.replace(path, aside)
                broken.append((name, f"its record was unreadable ({exc}); kept as {aside.name}"))
        known = {rec.name for rec, _ in good.values()}
        notes = []
        for name, why in broken:
            rebuilt = self._record_from_tree(name, known)
            atomic_write(self.layout.record_path(name), encode_record(*rebuilt))
            good[name] = rebuilt
            notes.append(f"{name}: {why}; rebuilt from its tree")
        return Repaired([good[n] for n in sorted(good)], notes)

    def put_records(self, index: Index, records: Iterable[tuple[PathRecord, list[TreeEntry]]]
                    ) -> int:
        """Write records into the ``paths`` and ``pathfiles`` tables of `index`, in one go."""
        from store.ingest import put_record

        count = 0
        with index.write() as txn:
            for record, entries in records:
                put_record(index, txn, record, entries)
                count += 1
        return count

    def _record_from_tree(self, name: str, known: Collection[str] = ()
                          ) -> tuple[PathRecord, list[TreeEntry]]:
        """Last resort when a record is lost: what the tree and its name say.

        Name and version come from the store path name (a package name the
        store already knows wins the split, else the version starts at the
        first ``-<digit>``), references from the store paths its symlinks
        point into. Origin, time and metadata are lost.
        """
        from store.hashing import Kind, Leaf, walk
        from store.record import PathRecord, content_totals, tree_entries
        from store.scan import scan

        tree = scan(self.layout.store_path(name))
        entries = tree_entries(tree)
        pname, version = split_name(name[33:], known)
        on_disk = set(self.names()) - {name}
        refs: set[str] = set()
        for _, node in walk(tree):
            if isinstance(node, Leaf) and node.kind is Kind.SYMLINK:
                parts = os.fsdecode(node.target).split("/")
                refs.update(p for p in parts if p in on_disk)
        size, files = content_totals(entries)
        record = PathRecord(path=name, hash=name[:32], name=pname, version=version,
                            size=size, files=files, references=tuple(sorted(refs)))
        return record, entries

    # Sweep (the second half of GC; the caller holds gc_guard(exclusive=True)) -

    def sweep(self, dead: Iterable[str], stop: Callable[[], bool] | None = None
              ) -> SweepResult:
        """Delete these store paths, then every pooled file that nothing links any more.

        Order, and why (invariant 1 through any interruption): every dead path
        leaves ``store/`` for ``store/.trash/`` by one rename(2) (`store.sweep`),
        the store directory is fsynced, the index rows go, then the files and
        (alongside them) the records. A kill at any point leaves whole store paths
        and trash; the next sweep empties the trash first and removes the
        records and index rows whose path is gone. `stop()` (a signal) is
        polled between paths: the sweep then finishes the bookkeeping of what
        it moved and returns with ``complete=False``. Claims of paths no
        longer on disk go with the records (`store.claims.forget`).

        `freed_bytes` is what the pool pass frees: every file of a store path is
        pooled, so a file no store path links any more is a pool entry left with
        one link. The pool pass scans all of ``.links`` rather than only the dead
        paths' files, so pool entries and records left by an ingest killed
        mid-publish are reclaimed too. Safe only under ``gc_guard(exclusive=True)``: a live
        ingest keeps a second link to each file it publishes until its rename.
        """
        store_dir, links = os.fspath(self.layout.store), os.fspath(self.layout.links)
        freed, emptied = _sweep.empty_trash(store_dir, stop)
        moved = _sweep.to_trash(store_dir, dead, stop) if emptied else []
        keys = self._pool_keys(moved)  # before their index rows go
        self._forget_missing(moved)
        # The moved paths' records and claims are orphans now, like a killed ingest's:
        # they go alongside the trees (other directories, so the deletions overlap).
        on_disk = self.names()
        orphans = _sweep.orphan_records(store_dir)
        more, done = _sweep.empty_trash(store_dir, stop, pool=(links, keys), first=(
            lambda: _sweep.remove_records(store_dir, orphans),
            lambda: _claims.forget(self.layout, on_disk)))
        freed += more
        emptied = emptied and done
        if emptied:
            freed += _sweep.sweep_pool(links)
        return SweepResult(moved, freed, emptied and not (stop is not None and stop()))

    def _pool_keys(self, names: list[str]) -> dict[str, list[str]]:
        """The pool names of each path's files, from the index (a path it lacks has
        none here: the pool pass finds its files anyway)."""
        from store.record import tree_from_plain

        out: dict[str, list[str]] = {}
        if not names:
            return out
        for name, raw in zip(names, self.index.get_raw("pathfiles",
                                                       [n.encode() for n in names]),
                             strict=True):
            try:
                entries = tree_from_plain(unpack(raw)) if raw is not None else []
            except (IntegrityError, ValueError):
                continue
            out[name] = _sweep.pool_keys(entries)
        return out

    def _forget_missing(self, deleted: list[str]) -> None:
        """Drop the index rows of `deleted` and of any other path no longer on disk."""
        index = self.index
        if index.readonly:
            return
        on_disk = {n.encode() for n in self.names()}
        stale = {n.encode() for n in deleted}
        for table in ("paths", "pathfiles"):
            stale.update(k for k in index.keys(table) if k not in on_disk)
        if not stale:
            return
        with index.write() as txn:
            paths, pathfiles = index.table("paths"), index.table("pathfiles")
            for key in stale:
                txn.delete(key, db=paths)
                txn.delete(key, db=pathfiles)


def split_name(rest: str, known: Collection[str] = ()) -> tuple[str, str]:
    """``name-version`` of a store path name (after the hash) split in two.

    Names and versions may both hold dashes (``python-foo``, Arch's ``1.2-3``),
    so the longest name in `known` that fits wins; else the version starts at
    the first ``-<digit>``; else at the last dash.
    """
    fits = [k for k in known if rest.startswith(k + "-") and len(rest) > len(k) + 1]
    if fits:
        name = max(fits, key=len)
        return name, rest[len(name) + 1:]
    for i, ch in enumerate(rest):
        if ch == "-" and i and rest[i + 1:i + 2].isdigit():
            return rest[:i], rest[i + 1:]
    name, _, version = rest.rpartition("-")
    return (name, version) if name else (rest, "")
