"""store.lmdbcheck: healthy LMDB files pass, damaged ones are named before LMDB maps them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from store.errors import IntegrityError
from store.index import Index
from store.lmdbcheck import check_header, check_pages


def _busy_index(path: Path) -> Path:
    """Branch pages, overflow values, several tables and a used free list."""
    index = Index(path)
    try:
        for round_no in range(5):
            with index.write() as txn:
                for i in range(600):
                    txn.put(f"key-{i:05d}".encode(), os.urandom(50 + i % 300),
                            db=index.table("small"))
            index.put("big", b"one", {"blob": os.urandom(200_000), "round": round_no})
            index.delete("small", b"key-00007")
    finally:
        index.close()
    return path / "data.mdb"


def test_a_healthy_busy_index_passes(tmp_path: Path) -> None:
    data = _busy_index(tmp_path / "db")
    assert data.stat().st_size > 300_000
    assert check_header(str(data)) is None
    assert check_pages(str(data)) is None
    assert check_pages(str(tmp_path / "absent.mdb")) is None


def test_pages_allocated_and_freed_in_one_transaction_are_no_truncation(
        tmp_path: Path) -> None:
    """LMDB counts them in its last page number but never writes them: the file is
    shorter than that number says, and perfectly healthy."""
    index = Index(tmp_path / "db")
    try:
        for _ in range(3):
            with index.write() as txn:
                db = index.table("t")
                for i in range(50):
                    txn.put(b"k%d" % i, os.urandom(3000), db=db)
                for i in range(50):
                    txn.delete(b"k%d" % i, db=db)
    finally:
        index.close()
    data = tmp_path / "db" / "data.mdb"
    last_pg = int.from_bytes(data.read_bytes()[4096 + 136:4096 + 144], "little")
    assert (last_pg + 1) * 4096 > data.stat().st_size
    assert check_header(str(data)) is None
    assert check_pages(str(data)) is None
    Index(tmp_path / "db").close()


def test_truncation_is_named_and_never_mapped(tmp_path: Path) -> None:
    data = _busy_index(tmp_path / "db")
    with open(data, "r+b") as f:
        f.truncate(data.stat().st_size // 2)
    assert "truncated" in (check_header(str(data)) or "")
    # In a child: on the old code LMDB mapped the file and died of SIGBUS reading it.
    code = ("import sys\nfrom store.index import Index\nfrom store.errors import "
            "IntegrityError\ntry:\n    Index(sys.argv[1], readonly=True).items('small')\n"
            "except IntegrityError as exc:\n    print(exc.message, exc.hint)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(data.parent)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, (proc.returncode, proc.stderr)
    assert "is damaged" in proc.stdout and "omg doctor --repair" in proc.stdout
    with pytest.raises(IntegrityError, match="truncated"):
        Index(data.parent)


@pytest.mark.parametrize("at, why", [(16, "bad magic"), (10, "not a meta page"),
                                     (4096 + 40, "page size")])
def test_a_damaged_meta_page_is_named(tmp_path: Path, at: int, why: str) -> None:
    data = _busy_index(tmp_path / "db")
    with open(data, "r+b") as f:
        f.seek(at)
        f.write(b"\x00\x00")
    assert why in (check_header(str(data)) or "")


def test_a_damaged_tree_page_is_found_by_the_walk(tmp_path: Path) -> None:
    data = _busy_index(tmp_path / "db")
    raw = bytearray(data.read_bytes())
    psize = 4096
    damaged = 0
    for page in range(2, len(raw) // psize):  # every branch or leaf page: its node offsets
        flags = int.from_bytes(raw[page * psize + 10:page * psize + 12], "little")
        if flags & 0x03:
            raw[page * psize + 16:page * psize + 18] = b"\xff\x0f"
            damaged += 1
    assert damaged
    data.write_bytes(bytes(raw))
    assert check_header(str(data)) is None  # the meta pages are fine
    assert "outside the page" in (check_pages(str(data)) or "")
