"""`LocalStore`: the store on this machine's filesystem, the one facade layers above use.

Its counterpart for the shared mode talks to the daemon with the same methods,
so the rest of omg never knows which one it has (as Nix's LocalStore and
RemoteStore). Verify, repair and the sweep half of GC live here too.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store import claims as _claims
from store import ingest as _ingest
from store.errors import IntegrityError, NotFound, OmgError, PermissionDenied
from store.fsutil import force_remove
from store.hashing import digest_name, tree_digest
from store.index import Index
from store.layout import RECORD_SUFFIX, Layout, store_hash_of
from store.locks import flock
from store.record import PathRecord, TreeEntry, content_totals, decode_record, tree_entries
from store.unpack import DEFAULT_LIMITS, Limits, Progress


@dataclass(frozen=True)
class Problem:
    """One finding of `verify`: which store path, which file, what is wrong."""

    path: str
    file: str
    what: str

    def __str__(self) -> str:
        where = f"{self.path}/{self.file}" if self.file else self.path
        return f"{where}: {self.what}"


@dataclass(frozen=True)
class SweepResult:
    deleted: list[str]
    freed_bytes: int


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

    @contextlib.contextmanager
    def gc_guard(self, *, exclusive: bool = False, timeout: float = 60.0) -> Iterator[None]:
        """Shared: "I may link store paths"; exclusive: "I am collecting garbage"."""
        with flock(self.layout.gc_lock, shared=not exclusive, timeout=timeout,
                   what="the garbage collector lock"):
            yield

    # Adding ------------------------------------------------------------------

    def add(self, source: Path, name: str, version: str, *, references: Iterable[str] = (),
            origin: dict[str, Any] | None = None, strip_top: bool | None = None,
            progress: Progress | None = None,
            links_into: Collection[str] = (),
            claim: _claims.Claim | None = None) -> _ingest.AddResult:
        """Add an archive or a directory; see `store.ingest.ingest`.

        `links_into`: store paths (each also in `references`) whose trees the
        symlinks of `source` may point into; any other link leaving it is refused.
        `claim`: who vouches for it (see `store.claims`); by default an addition by
        `self.user`, which only that user resolves by name, unless this process is
        root's acting for itself (root is every store's trusted user). The claim is
        recorded whether or not the content was new: the same bytes are one store
        path, and each party that brings them adds its own claim.
        """
        if claim is None:
            claim = _claims.Claim(_claims.ADDED, self.user,
                                  trusted=self._user is None and os.geteuid() == 0)
        with self.gc_guard():
            try:
                result = _ingest.ingest(self.layout, self.index, source, name, version,
                                        references=tuple(references), origin=origin,
                                        limits=self.limits, strip_top=strip_top,
                                        progress=progress, links_into=tuple(links_into))
                if claim.kind != _claims.UNCLAIMED:
                    import time

                    _claims.record(self.layout, result.record.path, claim, now=time.time())
                return result
            except OSError as exc:  # a full disk, a read-only store: a message, not a traceback
                where = f" ({exc.filename})" if exc.filename else ""
                cls = PermissionDenied if isinstance(exc, PermissionError) else OmgError
                raise cls(f"cannot add {source.name}: {exc.strerror or exc}{where}") from exc

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
        try:
            return sorted(n for n in os.listdir(self.layout.store)
                          if store_hash_of(n) and not n.endswith(RECORD_SUFFIX))
        except FileNotFoundError:
            return []

    def get(self, name: str) -> PathRecord:
        if not self.layout.store_path(name).is_dir():
            raise NotFound(f"no store path {name!r}")
        return _ingest.existing_record(self.layout, self.index, name)

    def records(self) -> list[PathRecord]:
        indexed = {k.decode(): PathRecord.from_index(v) for k, v in self.index.items("paths")}
        out = []
        for name in self.names():  # already sorted
            rec = indexed.get(name)
            # names() just listed it: no second is_dir, as get() would do
            out.append(rec if rec is not None
                       else _ingest.existing_record(self.layout, self.index, name))
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

    def claims(self, name: str) -> list[dict[str, Any]]:
        """Who vouches for store path `name` (for `omg store info`)."""
        return _claims.read(self.layout, name)

    def entries(self, name: str) -> list[TreeEntry]:
        found = self.index.get("pathfiles", name.encode())
        if found is not None:
            return [(str(p), str(k), str(d), int(s)) for p, k, d, s in found]
        try:
            raw = self.layout.record_path(name).read_bytes()
        except OSError as exc:
            raise IntegrityError(f"{name}: cannot read its record: {exc.strerror}",
                                 hint="run `omg doctor --repair`") from exc
        return decode_record(raw, name)[1]

    def closure(self, names: Iterable[str]) -> set[str]:
        todo, seen = list(names), set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(self.get(name).references)
        return seen

    # Verify and repair --------------------------------------------------------

    def verify(self, names: Iterable[str] | None = None) -> list[Problem]:
        from store.scan import scan

        problems: list[Problem] = []
        for name in (self.names() if names is None else names):
            path = self.layout.store_path(name)
            try:
                tree = scan(path)
            except OSError as exc:
                problems.append(Problem(name, "", f"unreadable: {exc}"))
                continue
            if digest_name(tree_digest(tree)) == name[:32]:
                continue
            problems.extend(self._locate(name, tree))
        return problems

    def _locate(self, name: str, tree: Any) -> list[Problem]:
        """Name the files that differ from the record (the record is the reference)."""
        try:
            expected = {e[0]: e for e in self.entries(name)}
        except (OSError, IntegrityError):
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

    def repair_index(self) -> int:
        """Rebuild the store's tables from the records beside each path (invariant 4).

        Every record is read before the tables change, and the tables are
        replaced in one transaction: a corrupt record or a crash leaves the old
        index whole, never a half-rebuilt one.
        """
        rebuilt = []
        for name in self.names():
            try:
                rebuilt.append(decode_record(self.layout.record_path(name).read_bytes(), name))
            except FileNotFoundError:
                rebuilt.append(self._record_from_tree(name))
        with self.index.write() as txn:
            txn.drop(self.index.table("paths"), delete=False)
            txn.drop(self.index.table("pathfiles"), delete=False)
            for record, entries in rebuilt:
                _ingest.put_record(self.index, txn, record, entries)
        return len(rebuilt)

    def _record_from_tree(self, name: str) -> tuple[PathRecord, list[TreeEntry]]:
        """Last resort when a record file is lost: what the tree itself says."""
        from store.scan import scan

        tree = scan(self.layout.store_path(name))
        entries = tree_entries(tree)
        rest = name[33:]
        pname, _, version = rest.rpartition("-")
        size, files = content_totals(entries)
        record = PathRecord(path=name, hash=name[:32], name=pname or rest, version=version,
                            size=size, files=files)
        return record, entries

    # Sweep (the second half of GC; the caller holds gc_guard(exclusive=True)) -

    def sweep(self, dead: Iterable[str]) -> SweepResult:
        """Delete these store paths, then every pooled file that nothing links any more.

        The pool pass scans all of ``.links`` rather than only the dead paths' files,
        so pool entries and records left by an ingest killed mid-publish are
        reclaimed too. Safe only under ``gc_guard(exclusive=True)``: a live ingest
        keeps a second link to each file it publishes until its rename.
        """
        deleted, freed = [], 0
        for name in dead:
            path = self.layout.store_path(name)
            freed += _unshared_bytes(path)
            # The record goes last: a path on disk without a record is still repairable.
            force_remove(path)
            self.layout.record_path(name).unlink(missing_ok=True)
            deleted.append(name)
        if deleted:
            with self.index.write() as txn:
                paths, pathfiles = self.index.table("paths"), self.index.table("pathfiles")
                for name in deleted:
                    txn.delete(name.encode(), db=paths)
                    txn.delete(name.encode(), db=pathfiles)
        for record in self.orphan_records():
            record.unlink(missing_ok=True)
        freed += _sweep_pool(self.layout.links)
        return SweepResult(deleted, freed)

    def orphan_records(self) -> list[Path]:
        """Records whose store path is gone (a crash between record and rename)."""
        names = set(self.names())
        try:
            return [self.layout.store / n for n in os.listdir(self.layout.store)
                    if n.endswith(RECORD_SUFFIX) and n[: -len(RECORD_SUFFIX)] not in names]
        except FileNotFoundError:
            return []


def _sweep_pool(links: Path) -> int:
    """Unlink pooled files whose only link is the pool's own; return the bytes freed."""
    freed = 0
    try:
        entries = os.scandir(links)
    except FileNotFoundError:
        return 0
    with entries:
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                st = entry.stat(follow_symlinks=False)
                if st.st_nlink == 1:
                    os.unlink(entry.path)
                    freed += st.st_size
    return freed


def _unshared_bytes(path: Path) -> int:
    """Bytes that deleting `path` frees now: files whose only other link is the pool."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(dirpath, f))
                if st.st_nlink <= 1 and not stat.S_ISLNK(st.st_mode):
                    total += st.st_size
    return total

