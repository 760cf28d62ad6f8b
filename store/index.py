"""The LMDB index under ``db/`` (invariant 4: it can always be rebuilt).

Named databases hold msgpack values. The store owns ``paths`` (store path
records) and ``pathfiles`` (each path's per-file digests, for `verify` to name
the exact corrupted file); layers above open their own named databases through
`Index.table`, so one environment and one map serve all of omg.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lmdb
import msgpack

from store.errors import FormatTooNew, IntegrityError, PermissionDenied

MAP_SIZE = 4 << 30
INDEX_FORMAT = 1
_FORMAT_KEY = b"format"


def pack(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def unpack(data: bytes) -> Any:
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise IntegrityError("corrupt index record", hint="run `omg doctor --repair`") from exc


class Index:
    """One LMDB environment; cheap to open, so each command opens its own."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        try:
            if not readonly:
                path.mkdir(parents=True, exist_ok=True)
            self.env = lmdb.open(
                str(path),
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
            raise IntegrityError(
                f"cannot open the index at {path}: {exc}", hint="run `omg doctor --repair`"
            ) from exc
        self._tables: dict[str, Any] = {}
        self._write_txn: lmdb.Transaction | None = None
        self._check_format()

    @classmethod
    def for_home(cls, db_dir: Path) -> Index:
        """Open read-write when allowed (single-user), read-only otherwise (shared store)."""
        readonly = db_dir.exists() and not os.access(db_dir, os.W_OK)
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
            found = unpack(raw)
            if not isinstance(found, int) or found > INDEX_FORMAT:
                raise FormatTooNew(
                    f"the index at {self.path} has format {found}, this omg knows {INDEX_FORMAT}",
                    hint="upgrade omg",
                )

    def table(self, name: str) -> Any:
        """A named database, opened once per environment."""
        if name not in self._tables:
            try:
                # Inside a write transaction, LMDB must open the table in it (one writer).
                self._tables[name] = self.env.open_db(
                    name.encode(), txn=self._write_txn, create=not self.readonly
                )
            except lmdb.NotFoundError:
                # Read-only and never written: an empty table is the truth.
                self._tables[name] = None
        return self._tables[name]

    @contextmanager
    def write(self) -> Iterator[lmdb.Transaction]:
        if self.readonly:
            raise PermissionDenied(f"the index at {self.path} is read-only for this user")
        try:
            with self.env.begin(write=True) as txn:
                self._write_txn = txn
                try:
                    yield txn
                finally:
                    self._write_txn = None
        except lmdb.Error as exc:  # map full, disk full: aborted whole, said as an OmgError
            raise IntegrityError(f"cannot write the index at {self.path}: {exc}",
                                 hint="run `omg doctor --repair`") from exc

    @contextmanager
    def read(self) -> Iterator[lmdb.Transaction]:
        with self.env.begin(write=False) as txn:
            yield txn

    # Small helpers used by every layer ------------------------------------------

    def get(self, table: str, key: bytes) -> Any:
        db = self.table(table)
        if db is None:
            return None
        with self.env.begin(db=db) as txn:
            raw = txn.get(key)
        return None if raw is None else unpack(raw)

    def put(self, table: str, key: bytes, value: Any) -> None:
        with self.write() as txn:
            txn.put(key, pack(value), db=self.table(table))

    def delete(self, table: str, key: bytes) -> None:
        with self.write() as txn:
            txn.delete(key, db=self.table(table))

    def items(self, table: str, prefix: bytes = b"") -> list[tuple[bytes, Any]]:
        db = self.table(table)
        if db is None:
            return []
        out: list[tuple[bytes, Any]] = []
        with self.env.begin(db=db) as txn:
            cur = txn.cursor()
            if not cur.set_range(prefix):
                return out
            for key, raw in cur:
                if not key.startswith(prefix):
                    break
                out.append((bytes(key), unpack(raw)))
        return out

    def clear(self, table: str) -> None:
        with self.write() as txn:
            txn.drop(self.table(table), delete=False)
