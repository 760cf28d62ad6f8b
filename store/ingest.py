"""Ingest: an archive or a directory becomes a store path (invariant 1).

Order of work, and why:
1. unpack and hash in one pass into ``store/.staging/<id>/`` (same filesystem);
   files are born read-only with the fixed mtime, and a file whose content the
   store (``store/.links``) or this tree already has is a hard link to that copy
   (deduplication at ingest: a known file costs one link(2), no write);
2. if ``store/<hash>-<name>-<version>`` exists, stop: adding known content is free;
3. seal the directories and symlinks (modes, mtimes);
4. move the root to ``store/.pending-<id>`` (same parent as the final name, so the
   last rename needs no write permission on the read-only directory), syncfs;
5. publish new unique files in ``.links``, write the record and the LMDB index
   row, then one rename(2) to the final name and fsync the store directory.
A crash or an error at any point leaves only staging debris, removed by the
next ingest: each staging area is owned through an flock on
``.staging/<id>.lock`` (see `clean_debris`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from store.archive import Format, Member, detect_format, is_package_name, open_members
from store.errors import IntegrityError, NotFound, UsageError
from store.fsutil import atomic_write, force_remove, fsync_dir, syncfs
from store.hashing import Kind, Tree, digest_name, path_digest, tree_digest, walk
from store.index import Index
from store.layout import COMPONENT_RE, Layout, store_hash_of, store_path_name
from store.limits import DEFAULT_LIMITS, Limits
from store.pkginfo import parse_pkginfo
from store.record import PathRecord, TreeEntry, content_totals, encode_record, tree_entry
from store.results import SHAPES
from store.unpack import FIXED_MTIME, Progress, unpack

if TYPE_CHECKING:
    import lmdb

_TMP_LOCK = ".lock-new"
_WORK_ID = re.compile(r"^[0-9]+-[0-9a-f]{12}$")  # what _claim_staging_id makes
_ARCHIVES = "archives"  # archive bytes digest + name/version -> store path name


@dataclass(frozen=True)
class AddResult:
    record: PathRecord
    created: bool  # False when the same content was already in the store
    added_bytes: int  # new unique file bytes this ingest wrote (after deduplication)
    warnings: list[str] = field(default_factory=list)


SHAPES[AddResult] = {"record": PathRecord.from_index, "warnings": list}


def validate_component(what: str, value: str) -> None:
    if not COMPONENT_RE.match(value) or len(value) > 100:
        raise UsageError(f"invalid {what} {value!r}: use letters, digits and + _ . @ ~ -")


def ingest(
    layout: Layout,
    index: Index,
    source: Path,
    name: str,
    version: str,
    *,
    references: tuple[str, ...] = (),
    origin: dict[str, object] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    strip_top: bool | None = None,
    progress: Progress | None = None,
    links_into: tuple[str, ...] = (),
    expect_name: str | None = None,
) -> AddResult:
    """Add `source` (an archive or a directory) as ``<hash>-<name>-<version>``.

    `links_into` names referenced store paths that symlinks in `source` may
    point into (relative links such as ``../../<ref>/bin/node``); by default
    every link leaving the tree is refused. `expect_name`: the store path name
    the content must hash to (a substitution); anything else is an
    IntegrityError with nothing published.
    """
    _check_arguments(layout, name, version, references, links_into)
    check_file_type(source)
    fmt = detect_format(source)
    if fmt is Format.DIRECTORY and _contains(source, layout.store):
        raise UsageError(f"cannot add {source}: it holds the store itself ({layout.store})",
                         hint="add a directory outside OMG_HOME")
    package = fmt is not Format.DIRECTORY and is_package_name(source)
    strip = (fmt is not Format.DIRECTORY and not package) if strip_top is None else strip_top
    memo = _archive_key(source, fmt, name, version, strip, references)
    known = _known_archive(layout, index, memo)
    if known is not None and expect_name in (None, known.path):
        return AddResult(known, False, 0)
    return _ingest(layout, index, lambda: open_members(source, fmt), source.name, name,
                   version, package=package, strip=strip, references=references,
                   origin=origin, limits=limits, progress=progress, links_into=links_into,
                   expect_name=expect_name, memo=memo)


def ingest_members(
    layout: Layout,
    index: Index,
    members: Iterable[Member],
    label: str,
    name: str,
    version: str,
    *,
    expect_name: str,
    references: tuple[str, ...] = (),
    origin: dict[str, object] | None = None,
    metadata: dict[str, object] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress | None = None,
) -> AddResult:
    """Add a tree given as a stream of members (a binary cache's manifest replayed,
    omg/cache/substitute.py) as `expect_name`, which its content must hash to.

    The same staging, checks, dedup and publish as `ingest`; symlinks may point
    into the references (the tree was a store path's, links and all).
    """
    _check_arguments(layout, name, version, references, ())

    @contextlib.contextmanager
    def opened() -> Iterator[Iterable[Member]]:
        yield members

    return _ingest(layout, index, opened, label, name, version, package=False, strip=False,
                   references=references, origin=origin, limits=limits, progress=progress,
                   links_into=references, expect_name=expect_name, memo=None,
                   metadata=metadata)


def _check_arguments(layout: Layout, name: str, version: str, references: tuple[str, ...],
                     links_into: tuple[str, ...]) -> None:
    validate_component("name", name)
    validate_component("version", version)
    for ref in references:
        if not layout.store_path(ref).is_dir():
            raise NotFound(f"reference {ref} is not in the store")
    for ref in links_into:
        if ref not in references or store_hash_of(ref) != ref[:32] or "/" in ref:
            raise UsageError(f"links into {ref!r}: only store paths among the references "
                             "may be linked into")


def _ingest(layout: Layout, index: Index,
            open_stream: Callable[[], contextlib.AbstractContextManager[Iterable[Member]]],
            label: str, name: str, version: str, *, package: bool, strip: bool,
            references: tuple[str, ...], origin: dict[str, object] | None, limits: Limits,
            progress: Progress | None, links_into: tuple[str, ...],
            expect_name: str | None, memo: bytes | None,
            metadata: dict[str, object] | None = None) -> AddResult:
    for directory in (layout.staging, layout.links):
        directory.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    clean_debris(layout, report=warnings.append)
    with staging_area(layout) as (work_id, work):
        with open_stream() as members:
            unpacked = unpack(members, work / "tree", label=label, limits=limits,
                              package=package, strip_top=strip, progress=progress,
                              links_into=links_into, pool=layout.links)
        warnings += unpacked.warnings
        metadata = dict(metadata or {})
        if package:
            if ".PKGINFO" not in unpacked.metadata:
                raise IntegrityError(f"{label}: an Arch package without .PKGINFO")
            metadata["pkginfo"] = parse_pkginfo(unpacked.metadata[".PKGINFO"])
        final_name = store_path_name(
            digest_name(path_digest(unpacked.tree, tree_digest(unpacked.tree), references)),
            name, version)
        if expect_name is not None and final_name != expect_name:
            # Before anything is published: the staging area goes with this error.
            raise IntegrityError(f"{label}: the content hashes to {final_name}, "
                                 f"not {expect_name}")
        final = layout.store_path(final_name)
        if final.is_dir():
            _remember_archive(index, memo, final_name)
            return AddResult(existing_record(layout, index, final_name), False, 0, warnings)
        entries = _seal(unpacked.root, unpacked.tree)
        new_files = [(os.fsdecode(rel), key) for rel, key in unpacked.new_files]
        added = unpacked.new_bytes
        size, files = content_totals(entries)
        record = PathRecord(
            path=final_name, hash=final_name[:32], name=name, version=version,
            size=size, files=files,
            references=tuple(sorted(set(references))), origin=origin,
            created=time.time(), metadata=metadata,
        )
        created = _publish(layout, index, work_id, unpacked.root, final, record, entries,
                           new_files)
        if not created:
            return AddResult(existing_record(layout, index, final_name), False, 0, warnings)
    _remember_archive(index, memo, final_name)
    return AddResult(record, True, added, warnings)


_FILE_TYPES = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device",
               stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


def check_file_type(source: Path, mode: int | None = None) -> None:
    """Refuse FIFOs and devices before anything opens them: opening a FIFO
    blocks, and /dev/zero reads as an endless empty tar. `mode`: the fstat of a
    descriptor opened with O_NONBLOCK (omgd's client, which sends it)."""
    if mode is None:
        try:
            mode = os.stat(source).st_mode
        except OSError:
            return  # detect_format reports it (not found, unreadable)
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        kind = _FILE_TYPES.get(stat.S_IFMT(mode), "a special file")
        raise UsageError(f"cannot add {source}: {kind}, not a regular file or a directory")


def _archive_key(source: Path, fmt: Format, name: str, version: str, strip: bool,
                 references: tuple[str, ...] = ()) -> bytes | None:
    """Identify an archive by its bytes, so re-adding it is a hash, not an unpack.

    Hashing the compressed file costs a few percent of unpacking it. Directories
    are not memoized: their content can change under the same name.
    """
    if fmt is Format.DIRECTORY:
        return None
    from store.scan import file_digest

    key = f"{file_digest(str(source)).hex()}:{int(strip)}:{name}:{version}"
    refs = sorted(set(references))
    # The same archive with other references is another store path (path_digest).
    return (f"{key}:{','.join(refs)}" if refs else key).encode()


def _known_archive(layout: Layout, index: Index, key: bytes | None) -> PathRecord | None:
    """The record of the path this archive made before, if that path still exists.

    The memo is only a shortcut: a stale entry (path collected, index rebuilt)
    just means a normal ingest.
    """
    if key is None:
        return None
    found = index.get(_ARCHIVES, key)
    if not isinstance(found, str) or not layout.store_path(found).is_dir():
        return None
    try:
        return existing_record(layout, index, found)
    except (OSError, IntegrityError):
        return None


def _remember_archive(index: Index, key: bytes | None, final_name: str) -> None:
    if key is not None and not index.readonly:
        index.put(_ARCHIVES, key, final_name)


def index_record(index: Index, record: PathRecord, entries: list[TreeEntry]) -> None:
    with index.write() as txn:
        put_record(index, txn, record, entries)


def put_record(index: Index, txn: lmdb.Transaction, record: PathRecord,
               entries: list[TreeEntry]) -> None:
    """Write one path's record and tree into the index, inside `txn`."""
    from store.index import pack

    key = record.path.encode()
    txn.put(key, pack(record.to_index()), db=index.table("paths"))
    txn.put(key, pack(entries), db=index.table("pathfiles"))


def existing_record(layout: Layout, index: Index, name: str) -> PathRecord:
    """The record of a path already in the store, indexing it if the index lacks it."""
    from store.record import decode_record

    found = index.get("paths", name.encode())
    if found is not None:
        return PathRecord.from_index(found)
    try:
        raw = layout.record_path(name).read_bytes()
    except OSError as exc:
        raise IntegrityError(f"{name}: cannot read its record: {exc.strerror}",
                             hint="run `omg doctor --repair`") from exc
    record, entries = decode_record(raw, name)
    if not index.readonly:
        index_record(index, record, entries)
    return record


def _seal(root: Path, tree: Tree) -> list[TreeEntry]:
    """Seal what unpack could not (directories and symlinks); return the record's entries.

    Files were born read-only with the fixed mtime; a directory is sealed only
    after everything in it exists, deepest first.
    """
    entries: list[TreeEntry] = []
    directories: list[bytes] = []
    root_b = os.fsencode(root)
    for rel, node in walk(tree):
        entries.append(tree_entry(rel, node))
        if isinstance(node, Tree):
            directories.append(os.path.join(root_b, rel))
        elif node.kind is Kind.SYMLINK:
            os.utime(os.path.join(root_b, rel), (FIXED_MTIME, FIXED_MTIME),
                     follow_symlinks=False)
    for full in reversed(directories):
        os.chmod(full, 0o555)
        os.utime(full, (FIXED_MTIME, FIXED_MTIME))
    return entries


def _publish(layout: Layout, index: Index, work_id: str, root: Path, final: Path,
             record: PathRecord, entries: list[TreeEntry], new_files: list[tuple[str, str]]
             ) -> bool:
    """Make the sealed tree at `root` the store path `final`; False if another
    process published it first.

    The record file and the index row are both written before the rename(2)
    that makes the path appear, so a failure of either (a full disk, an index
    that cannot be written) leaves no path the index does not know. A row for a
    path that never appeared is harmless: readers list ``store/`` first and
    look rows up by the names found there (`LocalStore.names`, `records`), a
    later ingest of the same path rewrites the row, and `doctor --repair`
    rebuilds the tables from the store.
    """
    pending = layout.store / f".pending-{work_id}"
    os.rename(root, pending)
    os.chmod(pending, 0o555)
    os.utime(pending, (FIXED_MTIME, FIXED_MTIME))
    syncfs(layout.store)
    for rel, key in new_files:
        with contextlib.suppress(FileExistsError):
            os.link(pending / rel, layout.links / key)
    if final.is_dir():
        return False  # published meanwhile: its record is already the truth, keep it
    atomic_write(layout.record_path(final.name), encode_record(record, entries))
    index_record(index, record, entries)
    try:
        os.rename(pending, final)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and final.is_dir():
            return False  # another process published the same content first
        raise
    fsync_dir(layout.store)
    return True


def _contains(directory: Path, inner: Path) -> bool:
    """`inner` is `directory` or below it (real paths: a symlink cannot hide it)."""
    outer = os.path.realpath(directory)
    return os.path.commonpath([outer, os.path.realpath(inner)]) == outer


@contextlib.contextmanager
def staging_area(layout: Layout) -> Iterator[tuple[str, Path]]:
    """A private, empty ``store/.staging/<id>/``, removed on exit (or by
    `clean_debris` once its owner is dead): for unpacking, or for building a
    tree that is then added (a profile env).

    The removal on exit never raises: it cannot hide the error that ended the
    work, nor fail a finished ingest. What it cannot remove stays, with its
    lock file, for the next `clean_debris`; the lock's descriptor is closed in
    every case (a long-lived omgd once leaked one per failed ingest).
    """
    layout.staging.mkdir(parents=True, exist_ok=True)
    lock_fd, work_id = _claim_staging_id(layout)
    work = layout.staging / work_id
    try:
        work.mkdir()
        yield work_id, work
    finally:
        try:
            _remove_area(layout, work_id, None)
        finally:
            os.close(lock_fd)


Report = Callable[[str], object]


def _remove_area(layout: Layout, work_id: str, report: Report | None) -> bool:
    """Remove the work dir and the pending root of `work_id`, then its lock file.

    The caller holds the lock's flock. The lock file goes last and only once
    the rest is gone: while it exists, it is how a cleaner finds the rest
    (see `clean_debris`). False, after reporting why, if something stays.
    """
    try:
        force_remove(layout.staging / work_id)
        force_remove(layout.store / f".pending-{work_id}")
        with contextlib.suppress(FileNotFoundError):  # another cleaner was faster
            os.unlink(layout.staging / f"{work_id}.lock")
    except OSError as exc:
        if report is not None:
            report(f"cannot remove staging area {work_id}: {_why(exc)}")
        return False
    return True


def _why(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def _claim_staging_id(layout: Layout) -> tuple[int, str]:
    """A fresh id whose ``<id>.lock`` is visible only once we hold its flock.

    The lock is made under a temporary name, locked, then renamed into place,
    so a cleaner that finds ``<id>.lock`` unlocked knows its owner is dead: no
    grace period, no window between creating the file and locking it. A
    cleaner may delete our temporary file before we lock it; the rename then
    fails with ENOENT and we simply take another id.
    """
    while True:
        work_id = f"{os.getpid()}-{secrets.token_hex(6)}"
        tmp = layout.staging / f"{work_id}{_TMP_LOCK}"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            os.rename(tmp, layout.staging / f"{work_id}.lock")
        except FileNotFoundError:
            os.close(fd)
            continue
        return fd, work_id


def _owner_is_dead(lock_path: Path) -> int | None:
    """An fd holding the flock of a dead owner's lock file, or None if alive/gone."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def clean_debris(layout: Layout, report: Report | None = None) -> list[str]:
    """Remove staging areas whose owner died (its flock is free); return their ids.

    Safe to run while other ingests are in flight: a live owner holds the
    flock of its ``<id>.lock`` from before its work dir exists until after it
    is gone, so anything without a locked lock file is debris.

    Only ``store/.staging/`` is listed, never ``store/`` (this runs before
    every ingest; listing the store made bulk ingest quadratic). That finds
    every debris item because of the order of work: ``<id>.lock`` is in place
    before its work dir is made, and its pending root ``store/.pending-<id>``
    is only ever made by renaming the tree out of that work dir while the lock
    is held; the owner and every cleaner remove the work dir and the pending
    root before the lock file, and leave the lock file if that removal fails.
    So whenever a pending root exists its lock file does, and it is found by
    name from there (one lstat).

    Never raises for debris: what it cannot parse or remove is passed to
    `report` (one line each) and left for a later run; the others go on.
    """
    removed: list[str] = []
    try:
        listing = os.listdir(layout.staging)
    except FileNotFoundError:
        return removed
    except OSError as exc:
        _report(report, f"cannot list {layout.staging}: {_why(exc)}")
        return removed
    for entry in listing:
        try:
            work_id = _clean_entry(layout, entry, report)
        except OSError as exc:
            _report(report, f"cannot clean up {layout.staging / entry}: {_why(exc)}")
            continue
        if work_id is not None:
            removed.append(work_id)
    return removed


def _clean_entry(layout: Layout, entry: str, report: Report | None) -> str | None:
    """Clean one entry of ``.staging/`` if its owner is dead; the id it removed."""
    work_id, kind = entry, "dir"
    for suffix in (_TMP_LOCK, ".lock"):
        if entry.endswith(suffix):
            work_id, kind = entry.removesuffix(suffix), suffix
            break
    if not _WORK_ID.match(work_id):
        _report(report, f"left {layout.staging / entry} alone: not a staging area's name")
        return None
    path = layout.staging / entry
    if kind == "dir":
        # A work dir whose lock file is gone (left by an older omg, or by hand):
        # nobody owns it. One whose lock exists is handled through that lock.
        if (layout.staging / f"{work_id}.lock").exists() or not os.path.lexists(path):
            return None  # (gone: removed through its lock, earlier in this listing)
        force_remove(path)
        return work_id
    fd = _owner_is_dead(path)
    if fd is None:
        return None
    try:
        if kind == _TMP_LOCK:  # died before its lock was in place: nothing else exists
            path.unlink(missing_ok=True)
            return None
        return work_id if _remove_area(layout, work_id, report) else None
    finally:
        os.close(fd)


def _report(report: Report | None, line: str) -> None:
    if report is not None:
        report(line)
