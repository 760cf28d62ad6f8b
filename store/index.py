"""The LMDB index under ``db/`` (invariant 4: it can always be rebuilt).

Named databases hold msgpack values. The store owns ``paths`` (store path
records) and ``pathfiles`` (each path's per-file digests, for `verify` to name
the exact corrupted file); layers above open their own named databases through
`Index.table`, so one environment and one map serve all of omg.

Only `os` and `lmdb` at import time (msgpack where a value is packed or
unpacked, no pathlib or contextlib): the `omg search` fast path opens this
index read-only to read its plain-text search rows.

A damaged ``data.mdb`` is refused before LMDB maps it (`store.lmdbcheck`: a
truncated file would otherwise kill the process with SIGBUS), and every lmdb
error of a read or a write becomes an `IntegrityError` whose hint is
``omg doctor --repair``, which rebuilds ``db/`` without opening the old one.
"""

from __future__ import annotations

import os

import lmdb

from store.errors import FormatTooNew, IntegrityError, PermissionDenied
from store.lmdbcheck import check_header

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    from store.fsutil import StrPath

    T = TypeVar("T")
    #: An open named database.
    Table = lmdb._Database

MAP_SIZE = 4 << 30
REPAIR_HINT = "run `omg doctor --repair`"
INDEX_FORMAT = 1
_FORMAT_KEY = b"format"
#: msgpack of INDEX_FORMAT (a small int is its own byte): checked without loading msgpack.
PACKED_FORMAT = b"\x01"


def pack(value: object) -> bytes:
    import msgpack

    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def unpack(data: bytes) -> object:
    """A stored value, as msgpack made it: the caller checks its shape (`malformed`)."""
    import msgpack

    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise IntegrityError("corrupt index record", hint=REPAIR_HINT) from exc


def damaged(path: StrPath, why: object) -> IntegrityError:
    return IntegrityError(f"the index at {os.fspath(path)} is damaged: {why}", hint=REPAIR_HINT)


def malformed(table: str, key: bytes, why: str) -> IntegrityError:
    """A row that unpacked but is not what its table holds: the index is damaged."""
    name = key.decode(errors="replace")
    return IntegrityError(f"malformed index row {table}/{name}: {why}", hint=REPAIR_HINT)


class Index:
    """One LMDB environment; cheap to open, so each command opens its own."""

    def __init__(self, path: StrPath, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        problem = check_header(os.path.join(os.fspath(path), "data.mdb"))
        if problem is not None:
            raise damaged(path, problem)
        try:
            if not readonly:
                os.makedirs(path, exist_ok=True)
            self.env = lmdb.open(
                os.fspath(path),
                map_size=MAP_SIZE,
                max_dbs=16,
                subdir=True,
                readonly=readonly,
                lock=not readonly,
                create=not readonly,
            )
        except lmdb.Error as exc:
            if isinstance(exc, lmdb.ReadonlyError) or "Permission denied" in str(exc):
                raise PermissionDenied(f"cannot open the index at {path}: {exc}") from exc
            raise IntegrityError(f"cannot open the index at {path}: {exc}",
                                 hint=REPAIR_HINT) from exc
        self._tables: dict[str, Table | None] = {}
        self._write_txn: lmdb.Transaction | None = None
        try:
            self._check_format()
        except lmdb.Error as exc:
            self.env.close()
            raise damaged(path, exc) from exc

    @classmethod
    def for_home(cls, db_dir: StrPath) -> Index:
        """Open read-write when allowed (single-user), read-only otherwise (shared store)."""
        readonly = os.path.exists(db_dir) and not os.access(db_dir, os.W_OK)
        return cls(db_dir, readonly=readonly)

    def close(self) -> None:
        self.env.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_format(self) -> None:
        meta = self.table("meta")
        with self.env.begin(write=not self.readonly, db=meta) as txn:
            raw = txn.get(_FORMAT_KEY)
            if raw is None:
                if not self.readonly:
                    txn.put(_FORMAT_KEY, pack(INDEX_FORMAT))
                return
            if raw == PACKED_FORMAT:
                return
            found = unpack(raw)
            if not isinstance(found, int) or found > INDEX_FORMAT:
                raise FormatTooNew(
                    f"the index at {self.path} has format {found}, this omg knows {INDEX_FORMAT}",
                    hint="upgrade omg",
                )

    def table(self, name: str) -> Table | None:
        """A named database, opened once per environment (None: read-only and absent)."""
        if name not in self._tables:
            try:
                # Inside a write transaction, LMDB must open the table in it (one writer).
                self._tables[name] = self.env.open_db(
                    name.encode(), txn=self._write_txn, create=not self.readonly
                )
            except lmdb.NotFoundError:
                # Read-only and never written: an empty table is the truth.
                self._tables[name] = None
            except lmdb.Error as exc:
                raise damaged(self.path, exc) from exc
        return self._tables[name]

    def write(self) -> _Writing:
        """``with index.write() as txn:``, committed whole or aborted whole."""
        if self.readonly:
            raise PermissionDenied(f"the index at {self.path} is read-only for this user")
        return _Writing(self)

    def read(self) -> lmdb.Transaction:
        """``with index.read() as txn:`` (an lmdb transaction is its own context)."""
        return self.env.begin(write=False)

    # Small helpers used by every layer ------------------------------------------

    def get(self, table: str, key: bytes) -> object:
        """The unpacked row, or None; its reader checks its shape (`malformed`)."""
        raw = self.get_raw(table, [key])[0]
        return None if raw is None else unpack(raw)

    def get_raw(self, table: str, keys: list[bytes]) -> list[bytes | None]:
        """Values as stored (msgpack bytes), several keys in one read transaction."""
        db = self.table(table)
        if db is None:
            return [None] * len(keys)
        try:
            with self.env.begin(db=db) as txn:
                return [txn.get(k) for k in keys]
        except lmdb.Error as exc:
            raise damaged(self.path, exc) from exc

    def keys(self, table: str) -> list[bytes]:
        db = self.table(table)
        if db is None:
            return []
        try:
            with self.env.begin(db=db) as txn:
                return [bytes(k) for k in txn.cursor().iternext(keys=True, values=False)]
        except lmdb.Error as exc:
            raise damaged(self.path, exc) from exc

    def put(self, table: str, key: bytes, value: object) -> None:
        with self.write() as txn:
            txn.put(key, pack(value), db=self.table(table))

    def delete(self, table: str, key: bytes) -> None:
        with self.write() as txn:
            txn.delete(key, db=self.table(table))

    def items(self, table: str, prefix: bytes = b"") -> list[tuple[bytes, object]]:
        db = self.table(table)
        if db is None:
            return []
        out: list[tuple[bytes, object]] = []
        try:
            with self.env.begin(db=db) as txn:
                cur = txn.cursor()
                if not cur.set_range(prefix):
                    return out
                for key, raw in cur:
                    if not key.startswith(prefix):
                        break
                    out.append((bytes(key), unpack(raw)))
        except lmdb.Error as exc:
            raise damaged(self.path, exc) from exc
        return out

    def clear(self, table: str) -> None:
        with self.write() as txn:
            db = self.table(table)
            if db is not None:  # never None here: only a read-only index lacks a table
                txn.drop(db, delete=False)


class _Writing:
    """The write transaction of `Index.write`; lmdb errors (map or disk full) abort it
    whole and become an `IntegrityError`: the store's files stay the truth."""

    __slots__ = ("index", "txn")

    def __init__(self, index: Index) -> None:
        self.index = index
        self.txn: lmdb.Transaction | None = None

    def _failed(self, exc: lmdb.Error) -> IntegrityError:
        return IntegrityError(f"cannot write the index at {self.index.path}: {exc}",
                              hint=REPAIR_HINT)

    def __enter__(self) -> lmdb.Transaction:
        try:
            self.txn = self.index.env.begin(write=True)
        except lmdb.Error as exc:
            raise self._failed(exc) from exc
        self.index._write_txn = self.txn
        return self.txn

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        self.index._write_txn = None
        assert self.txn is not None
        try:
            if exc is None:
                self.txn.commit()
            else:
                self.txn.abort()
        except lmdb.Error as failed:
            raise self._failed(failed) from failed
        if isinstance(exc, lmdb.Error):
            raise self._failed(exc) from exc


def rebuild(db_dir: StrPath, fill: Callable[[Index], T], stamp: str) -> tuple[T, str | None]:
    """A fresh index in place of `db_dir`, filled by `fill`; (its result, where the old went).

    The old directory is never opened (it may be what is damaged): the new one
    is built beside it, then the old one is renamed to ``<db>.old-<stamp>`` and
    the new one into place. A crash before the swap leaves the old index as it
    was (and a ``.<db>.new-*`` directory the next rebuild replaces); the new
    directory takes the old one's owner and modes, so a daemon's user keeps
    its access.
    """
    import shutil

    path = os.fspath(db_dir).rstrip("/")
    parent, base = os.path.split(path)
    new = os.path.join(parent, f".{base}.new-{os.getpid()}")
    shutil.rmtree(new, ignore_errors=True)
    index = Index(new)
    try:
        result = fill(index)
    finally:
        index.close()
    aside = None
    if os.path.lexists(path):
        _same_owner(path, new)
        aside = os.path.join(parent, f"{base}.old-{stamp}")
        if os.path.lexists(aside):
            aside += f"-{os.getpid()}"
        os.rename(path, aside)
    os.rename(new, path)
    from store.fsutil import fsync_dir

    fsync_dir(parent or ".")
    return result, aside


def _same_owner(old: str, new: str) -> None:
    """Give `new` (a directory of LMDB files) the owner and modes of `old`."""
    for name in ("", "data.mdb", "lock.mdb"):
        try:
            st = os.stat(os.path.join(old, name) if name else old)
        except OSError:
            continue
        target = os.path.join(new, name) if name else new
        try:
            os.chmod(target, st.st_mode & 0o7777)
            if os.geteuid() == 0:
                os.chown(target, st.st_uid, st.st_gid)
        except OSError:
            pass
