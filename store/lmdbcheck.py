"""Checks of an LMDB ``data.mdb`` that read the file itself, never through LMDB's map.

LMDB trusts its file: a truncated ``data.mdb`` (last page beyond the end of
the file) kills the process with SIGBUS on the first read, and a damaged page
can send a lookup anywhere. So:

- `check_header`, before every open (`store.index.Index`): the file's size,
  its two meta pages (magic, version, page size) and, in the meta LMDB will
  use, the roots of the free list, of the main tree and of each named table
  (read from the main tree's root page): each must lie inside the file. A
  truncated file loses its newest pages first, and every commit rewrites the
  roots there. (The meta's last page number is not the file's end: pages
  allocated and freed in one transaction are counted but never written.)
  Two or three small pread(2)s; only `os`.
- `check_pages`, for `omg doctor`: every page reachable from the meta page
  LMDB would use (the main tree, each named database's tree, the free list),
  checked for a sane header, its own page number, node offsets and sizes
  inside the page, and overflow runs inside the file. A tree that passes can
  be read by LMDB without leaving the file.

Layout (LMDB 0.9, 64-bit little-endian, as py-lmdb bundles it): a page starts
with pgno u64, pad u16, flags u16, lower u16, upper u16 (overflow pages:
pages u32 at 12); a meta page holds after that header magic u32, version u32,
address u64, mapsize u64, two MDB_db (pad/psize u32, flags u16, depth u16,
branch, leaf, overflow, entries, root: u64) and last_pg u64, txnid u64.
"""

from __future__ import annotations

import os

MAGIC = 0xBEEFC0DE
DATA_VERSION = 1
PAGE_HEADER = 16
P_BRANCH, P_LEAF, P_OVERFLOW, P_META, P_LEAF2 = 0x01, 0x02, 0x04, 0x08, 0x20
F_BIGDATA, F_SUBDATA, F_DUPDATA = 0x01, 0x02, 0x04
P_INVALID = (1 << 64) - 1
_META_END = 152
_DB_SIZE = 48
NODE_HEADER = 8


def _u16(b: bytes, at: int) -> int:
    return int.from_bytes(b[at:at + 2], "little")


def _u32(b: bytes, at: int) -> int:
    return int.from_bytes(b[at:at + 4], "little")


def _u64(b: bytes, at: int) -> int:
    return int.from_bytes(b[at:at + 8], "little")


class Meta:
    """One meta page: page size, last page, transaction id, the two roots."""

    __slots__ = ("free_root", "last_pg", "main_root", "psize", "txnid")

    def __init__(self, page: bytes) -> None:
        self.psize = _u32(page, 40)
        self.free_root = _u64(page, 80)
        self.main_root = _u64(page, 128)
        self.last_pg = _u64(page, 136)
        self.txnid = _u64(page, 144)


def _meta_problem(page: bytes, which: int, size: int) -> str | None:
    if len(page) < _META_END:
        return f"meta page {which} is cut short"
    if not _u16(page, 10) & P_META:
        return f"meta page {which} is not a meta page"
    if _u32(page, 16) != MAGIC:
        return f"meta page {which} has a bad magic number"
    if _u32(page, 20) != DATA_VERSION:
        return f"meta page {which} has format version {_u32(page, 20)}, not {DATA_VERSION}"
    meta = Meta(page)
    if not (512 <= meta.psize <= 65536 and meta.psize & (meta.psize - 1) == 0):
        return f"meta page {which} has a bad page size ({meta.psize})"
    if meta.last_pg < 1:
        return f"meta page {which} has a bad last page number ({meta.last_pg})"
    for root in (meta.free_root, meta.main_root):
        if root != P_INVALID and not 2 <= root <= meta.last_pg:
            return f"meta page {which} points at page {root}, past its own last page"
    return None


def _beyond(pgno: int, what: str, pages: int) -> str | None:
    if pgno != P_INVALID and pgno >= pages:
        return (f"page {pgno} ({what}) lies beyond the end of the file, which has "
                f"{pages} pages (truncated)")
    return None


def _roots_problem(fd: int, meta: Meta, size: int) -> str | None:
    """The roots LMDB starts every lookup from must be in the file."""
    pages = size // meta.psize
    problem = (_beyond(meta.free_root, "the free list's root", pages)
               or _beyond(meta.main_root, "the main tree's root", pages))
    if problem is not None or meta.main_root == P_INVALID:
        return problem
    page = os.pread(fd, meta.psize, meta.main_root * meta.psize)
    if not _u16(page, 10) & P_LEAF:
        return None  # more tables than one page holds: only the full walk looks further
    lower = _u16(page, 12)
    for i in range((lower - PAGE_HEADER) // 2):
        off = _u16(page, PAGE_HEADER + 2 * i)
        if off > meta.psize - NODE_HEADER or not _u16(page, off + 4) & F_SUBDATA:
            continue
        data_at = off + NODE_HEADER + _u16(page, off + 6)
        if data_at + _DB_SIZE <= meta.psize:
            name = page[off + NODE_HEADER:data_at].decode("utf-8", "replace")
            problem = _beyond(_u64(page, data_at + 40), f"the root of table {name!r}", pages)
            if problem is not None:
                return problem
    return None


def read_metas(fd: int) -> tuple[list[Meta], str | None]:
    """Both meta pages of an open ``data.mdb`` and what is wrong with them, if anything."""
    size = os.fstat(fd).st_size
    first = os.pread(fd, _META_END, 0)
    problem = _meta_problem(first, 0, size)
    if problem is not None:
        return [], problem
    psize = _u32(first, 40)
    second = os.pread(fd, _META_END, psize)
    problem = _meta_problem(second, 1, size)
    if problem is None and _u32(second, 40) != psize:
        problem = "the two meta pages disagree on the page size"
    return ([Meta(first), Meta(second)], problem) if problem is None else ([], problem)


def check_header(path: str) -> str | None:
    """What is wrong with ``data.mdb`` at `path` (None if fine, absent or empty).

    An empty file is what LMDB itself treats as a new environment.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return None
        metas, problem = read_metas(fd)
        if problem is not None:
            return problem
        return _roots_problem(fd, max(metas, key=lambda m: m.txnid), size)
    finally:
        os.close(fd)


class _Walker:
    """The page walk of `check_pages`: every page once, bounded by the file."""

    def __init__(self, fd: int, meta: Meta) -> None:
        self.fd = fd
        self.psize = meta.psize
        # A page past the file's end was never written: no tree may reach it.
        self.last = min(meta.last_pg, os.fstat(fd).st_size // meta.psize - 1)
        self.seen: set[int] = set()

    def page(self, pgno: int) -> bytes:
        return os.pread(self.fd, self.psize, pgno * self.psize)

    def tree(self, root: int, what: str, named: bool) -> None:
        """Walk one B-tree; `named`: leaf values may be named databases (the main tree)."""
        if root == P_INVALID:
            return
        todo = [(root, 0)]
        while todo:
            pgno, depth = todo.pop()
            if not 2 <= pgno <= self.last:
                raise ValueError(f"{what}: a link to page {pgno}, outside the file "
                                 f"(truncated or damaged)")
            if pgno in self.seen:
                raise ValueError(f"{what}: page {pgno} is reached twice")
            if depth > 64:
                raise ValueError(f"{what}: the tree is deeper than 64 levels")
            self.seen.add(pgno)
            page = self.page(pgno)
            if _u64(page, 0) != pgno:
                raise ValueError(f"{what}: page {pgno} carries the number {_u64(page, 0)}")
            flags = _u16(page, 10)
            for node_flags, node in self.nodes(page, pgno, what):
                if flags & P_BRANCH:
                    child = _u16(node, 0) | _u16(node, 2) << 16 | node_flags << 32
                    todo.append((child, depth + 1))
                else:
                    self.leaf_node(node, node_flags, pgno, what, named)

    def nodes(self, page: bytes, pgno: int, what: str) -> list[tuple[int, bytes]]:
        flags, lower, upper = _u16(page, 10), _u16(page, 12), _u16(page, 14)
        if flags & (P_BRANCH | P_LEAF) == 0 or flags & (P_META | P_OVERFLOW | P_LEAF2):
            raise ValueError(f"{what}: page {pgno} has unexpected flags {flags:#x}")
        if not PAGE_HEADER <= lower <= upper <= self.psize or lower % 2:
            raise ValueError(f"{what}: page {pgno} has bad bounds ({lower}, {upper})")
        out = []
        for i in range((lower - PAGE_HEADER) // 2):
            off = _u16(page, PAGE_HEADER + 2 * i)
            if not upper <= off <= self.psize - NODE_HEADER:
                raise ValueError(f"{what}: page {pgno} node {i} lies outside the page")
            ksize = _u16(page, off + 6)
            node_flags = _u16(page, off + 4)
            end = off + NODE_HEADER + ksize
            if end > self.psize:
                raise ValueError(f"{what}: page {pgno} node {i} key runs off the page")
            out.append((node_flags, page[off:]))
        return out

    def leaf_node(self, node: bytes, node_flags: int, pgno: int, what: str,
                  named: bool) -> None:
        dsize = _u16(node, 0) | _u16(node, 2) << 16
        data_at = NODE_HEADER + _u16(node, 6)
        if node_flags & F_BIGDATA:
            if data_at + 8 > len(node):
                raise ValueError(f"{what}: page {pgno} has a cut overflow link")
            self.overflow(_u64(node, data_at), dsize, what)
            return
        if data_at + dsize > len(node):
            raise ValueError(f"{what}: page {pgno} has a value running off the page")
        if node_flags & F_DUPDATA:
            raise ValueError(f"{what}: page {pgno} holds duplicate values (omg writes none)")
        if node_flags & F_SUBDATA:
            if not named or dsize != _DB_SIZE:
                raise ValueError(f"{what}: page {pgno} has a malformed named database")
            name = node[NODE_HEADER:data_at].decode("utf-8", "replace")
            self.tree(_u64(node, data_at + 40), f"table {name!r}", False)

    def overflow(self, first: int, dsize: int, what: str) -> None:
        if not 2 <= first <= self.last:
            raise ValueError(f"{what}: an overflow link to page {first}, outside the file")
        head = self.page(first)
        pages = _u32(head, 12)
        if not _u16(head, 10) & P_OVERFLOW or _u64(head, 0) != first:
            raise ValueError(f"{what}: page {first} is not the overflow page it should be")
        if pages * self.psize < dsize + PAGE_HEADER or first + pages - 1 > self.last:
            raise ValueError(f"{what}: the overflow run at page {first} does not fit")
        for p in range(first, first + pages):
            if p in self.seen:
                raise ValueError(f"{what}: page {p} is reached twice")
            self.seen.add(p)


def check_pages(path: str) -> str | None:
    """What is wrong with the trees of ``data.mdb`` at `path`, walked page by page."""
    problem = check_header(path)
    if problem is not None:
        return problem
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        metas, _ = read_metas(fd) if os.fstat(fd).st_size else ([], None)
        if not metas:
            return None
        meta = max(metas, key=lambda m: m.txnid)  # the one LMDB opens
        walker = _Walker(fd, meta)
        try:
            walker.tree(meta.main_root, "main tree", True)
            walker.tree(meta.free_root, "free list", False)
        except ValueError as exc:
            return str(exc)
    finally:
        os.close(fd)
    return None
