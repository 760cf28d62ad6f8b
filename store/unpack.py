"""Safe unpacking into a private staging directory, hashing as it goes.

This module keeps invariant 5 for every archive format: no member may write
outside the staging root (``..``, absolute names, writes through a symlink),
create device nodes or FIFOs, keep setuid/setgid bits, hard-link to anything
outside the tree, appear twice, have a name or symlink target that is not
UTF-8, or exceed the configured size, file and depth limits.
Symlinks whose target leaves the final tree are refused once the whole tree is
known, unless they land in a store path the caller names in `links_into` (a
profile env's forest of links into the tools it references). The in-memory
`Tree` built here is what the store path's hash is computed from, so the bytes
hashed are exactly the bytes written.

For the store (`pool` given), files are also sealed and deduplicated as they
come: created read-only with the fixed mtime, and a file whose content is
already in this tree or in the pool becomes a hard link to that copy instead of
a new inode. A file up to one buffer (1 MiB, most files of a runtime) is
hashed before anything is written, so a duplicate costs one link(2) and no
write at all; a larger one is streamed to disk and replaced by a link if it
turns out to be known.
"""

from __future__ import annotations

import errno
import os
import posixpath
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from blake3 import blake3

from store.archive import PACKAGE_METADATA, Content, Member, MemberKind, corrupt_errors
from store.errors import IntegrityError, UnsafeInput
from store.fsutil import write_all
from store.hashing import CHUNK, Kind, Leaf, Tree, symlink_digest
from store.limits import DEFAULT_LIMITS, Limits

__all__ = ["DEFAULT_LIMITS", "FIXED_MTIME", "Limits", "Progress", "Unpacked", "link_key",
           "unpack"]

_MAX_LINK_DEPTH = 40
_METADATA_LIMIT = 4 << 20
FIXED_MTIME = 1  # like Nix: content, not time, is what a store path is
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def link_key(leaf: Leaf) -> str:
    """A file's name in the dedup pool: its digest, and whether it is executable."""
    return leaf.digest.hex() + ("x" if leaf.kind is Kind.EXECUTABLE else "")


@dataclass
class Unpacked:
    """What an unpack produced: the tree, where it is, and what was set aside."""

    root: Path
    tree: Tree
    metadata: dict[str, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    bytes_written: int = 0
    #: With a pool: files with new content (relative to `root`, pool key), first copies.
    new_files: list[tuple[bytes, str]] = field(default_factory=list)
    new_bytes: int = 0  # their total size: what this unpack adds to the store


Progress = Callable[[int], None]


def unpack(
    members: Iterable[Member],
    dest: Path,
    *,
    label: str,
    limits: Limits = DEFAULT_LIMITS,
    package: bool = False,
    strip_top: bool = True,
    progress: Progress | None = None,
    links_into: Collection[str] = (),
    pool: Path | None = None,
) -> Unpacked:
    """Write `members` under `dest` (an empty, private directory) and hash them.

    `package` mode (Arch ``.pkg.tar.*``) sets metadata members aside and rebases
    absolute symlink targets onto the package root; otherwise absolute targets
    are refused. `strip_top` makes a single top-level directory the tree root.
    `links_into` names store paths that symlinks may point into from the final
    store path (``../<name>/...`` from its root); every other link leaving the
    tree is refused.
    `pool` (the store's ``.links``, on the same filesystem) turns on sealing
    and deduplication of files (see the module docstring); the caller keeps the
    pool's entries alive meanwhile (LocalStore.add holds the GC lock) and seals
    directories and symlinks once the tree is complete.
    """
    dest.mkdir()
    state = _State(dest, label, limits, package, progress, pool)
    for member in members:
        state.add(member)
    root_path, tree = dest, state.tree
    new_files = state.new_files
    if strip_top and len(tree.entries) == 1:
        (name, node), = tree.entries.items()
        if isinstance(node, Tree):
            root_path, tree = dest / os.fsdecode(name), node
            cut = len(name) + 1
            new_files = [(rel[cut:], key) for rel, key in new_files]
    _check_symlinks(tree, label, frozenset(os.fsencode(n) for n in links_into))
    return Unpacked(root_path, tree, state.metadata, state.warnings, state.written,
                    new_files, state.new_bytes)


class _State:
    def __init__(self, dest: Path, label: str, limits: Limits, package: bool,
                 progress: Progress | None, pool: Path | None) -> None:
        self.dest = dest
        self.dest_b = os.fsencode(dest)
        self.label = label
        self.limits = limits
        self.package = package
        self.progress = progress
        self.pool = None if pool is None else os.fsencode(pool)
        self.tree = Tree()
        self.metadata: dict[str, bytes] = {}
        self.warnings: list[str] = []
        self.written = 0
        self.count = 0
        self.buffer = bytearray(CHUNK)  # one buffer for every file's bytes
        #: pool key -> the path of a copy to link to (in this tree or in the pool)
        self.copies: dict[str, bytes] = {}
        self.new_files: list[tuple[bytes, str]] = []
        self.new_bytes = 0

    def fail(self, name: str, why: str) -> UnsafeInput:
        return UnsafeInput(f"{self.label}: refusing member {_shown(name)}: {why}")

    def add(self, m: Member) -> None:
        parts = self.split(m.name)
        if self.package and len(parts) == 1 and os.fsdecode(parts[0]) in PACKAGE_METADATA:
            if m.kind is MemberKind.FILE and m.stream is not None:
                self.metadata[os.fsdecode(parts[0])] = self.read_small(m)
            return
        if not parts:
            if m.kind is MemberKind.DIRECTORY:
                return  # "./" itself
            raise self.fail(m.name, "empty name")
        self.count += 1
        if self.count > self.limits.max_files:
            raise UnsafeInput(
                f"{self.label}: more than {self.limits.max_files} entries "
                "(limit max_files; a decompression bomb?)"
            )
        parent = self.parent_dir(parts, m.name)
        name = parts[-1]
        existing = parent.entries.get(name)
        if m.kind is MemberKind.DIRECTORY:
            if existing is None:
                os.mkdir(self.path_of(parts), 0o755)
                parent.entries[name] = Tree()
            elif not isinstance(existing, Tree):
                raise self.fail(m.name, "duplicate member")
            self.note_special_bits(m)
            return
        if existing is not None:
            raise self.fail(m.name, "duplicate member")
        target = self.path_of(parts)
        if m.kind is MemberKind.FILE:
            parent.entries[name] = self.write_file(m, target, parts)
        elif m.kind is MemberKind.SYMLINK:
            link = self.symlink_target(m, parts)
            os.symlink(link, target)
            parent.entries[name] = Leaf(Kind.SYMLINK, symlink_digest(link), 0, link)
        elif m.kind is MemberKind.HARDLINK:
            try:
                source_parts = self.split(m.target)
            except UnsafeInput:
                raise self.fail(m.name, f"hard link to {_shown(m.target)}, outside the tree"
                                ) from None
            source = self.lookup(source_parts)
            if not isinstance(source, Leaf) or source.kind not in (Kind.FILE, Kind.EXECUTABLE):
                raise self.fail(m.name, f"hard link to {_shown(m.target)}, which is not a file "
                                "earlier in the archive")
            os.link(self.path_of(source_parts), target, follow_symlinks=False)
            parent.entries[name] = Leaf(source.kind, source.digest, source.size)
        else:
            raise self.fail(m.name, "device nodes, FIFOs and sockets are not allowed")

    def split(self, name: str) -> list[bytes]:
        if "\x00" in name:
            raise self.fail(name, "NUL in name")
        if name.startswith("/"):
            raise self.fail(name, "absolute path")
        if not _is_utf8(name):
            # Refused, not stored: the index, the records and the CLI all speak UTF-8.
            raise self.fail(name, "name is not valid UTF-8")
        parts = [p for p in os.fsencode(name).split(b"/") if p not in (b"", b".")]
        if b".." in parts:
            raise self.fail(name, "path contains '..'")
        if len(parts) > self.limits.max_depth:
            raise self.fail(name, f"{len(parts)} levels deep "
                                  f"(limit max_depth {self.limits.max_depth})")
        return parts

    def parent_dir(self, parts: list[bytes], name: str) -> Tree:
        """The directory that will hold the member; creates missing parents."""
        node = self.tree
        for i, part in enumerate(parts[:-1]):
            child = node.entries.get(part)
            if child is None:
                os.mkdir(self.path_of(parts[: i + 1]), 0o755)
                child = node.entries[part] = Tree()
            elif not isinstance(child, Tree):
                what = "a symlink" if child.kind is Kind.SYMLINK else "a file"
                where = os.fsdecode(b"/".join(parts[: i + 1]))
                raise self.fail(name, f"writes through {what} ({where})")
            node = child
        return node

    def lookup(self, parts: list[bytes]) -> Tree | Leaf | None:
        return _lookup(self.tree, parts)

    def path_of(self, parts: list[bytes]) -> bytes:
        return os.path.join(self.dest_b, *parts)

    def note_special_bits(self, m: Member) -> None:
        if m.mode & 0o6000:
            self.warnings.append(f"{m.name}: setuid/setgid bits dropped")

    def write_file(self, m: Member, target: bytes, parts: list[bytes]) -> Leaf:
        self.note_special_bits(m)
        kind = Kind.EXECUTABLE if m.mode & 0o111 else Kind.FILE
        assert m.stream is not None
        view = memoryview(self.buffer)
        hasher = blake3()
        n = self.fill(m, m.stream, view)
        hasher.update(view[:n])
        if n < len(view):  # the whole file is in the buffer: hash first, maybe only link
            leaf = Leaf(kind, hasher.digest(), n)
            if self.link_known(leaf, target):
                return leaf
            fd = self.create(target, kind)
            try:
                write_all(fd, view[:n])
                self.seal(fd)
            finally:
                os.close(fd)
            self.remember(leaf, parts, target)
            return leaf
        size = n
        fd = self.create(target, kind)
        try:
            write_all(fd, view[:n])
            while n := self.fill(m, m.stream, view):
                hasher.update(view[:n])
                write_all(fd, view[:n])
                size += n
            self.seal(fd)
        finally:
            os.close(fd)
        leaf = Leaf(kind, hasher.digest(), size)
        if not self.link_known(leaf, target, replace=True):
            self.remember(leaf, parts, target)
        return leaf

    def fill(self, m: Member, stream: Content, view: memoryview) -> int:
        """Read into `view` until it is full or the member ends; count and limit it."""
        filled = 0
        while filled < len(view):
            try:
                n = stream.readinto(view[filled:])
            except corrupt_errors() as exc:
                raise IntegrityError(f"{self.label}: corrupt or truncated archive "
                                     f"while reading {m.name!r}: {exc}") from exc
            if not n:
                break
            filled += n
        self.written += filled
        if self.written > self.limits.max_bytes:
            raise UnsafeInput(
                f"{self.label}: unpacks to more than {self.limits.max_bytes} bytes "
                "(limit max_bytes; a decompression bomb?)"
            )
        if self.progress and filled:
            self.progress(filled)
        return filled

    def create(self, target: bytes, kind: Kind) -> int:
        """A new file; in the store it is born read-only (the fd stays writable)."""
        if self.pool is None:
            return os.open(target, _CREATE, 0o755 if kind is Kind.EXECUTABLE else 0o644)
        mode = 0o555 if kind is Kind.EXECUTABLE else 0o444
        fd = os.open(target, _CREATE, mode)
        try:
            # The umask may have taken bits (a shared store must stay world-readable).
            os.fchmod(fd, mode)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def seal(self, fd: int) -> None:
        if self.pool is not None:
            os.utime(fd, (FIXED_MTIME, FIXED_MTIME))

    def copy_of(self, leaf: Leaf) -> bytes | None:
        if self.pool is None:
            return None
        key = link_key(leaf)
        return self.copies.get(key) or os.path.join(self.pool, key.encode())

    def link_known(self, leaf: Leaf, target: bytes, *, replace: bool = False) -> bool:
        """Make `target` a hard link to a copy of this content, if there is one.

        `replace`: `target` was already written; the link is made beside it and
        renamed over it (link(2) never overwrites, so a name already taken is
        skipped, never clobbered).
        """
        source = self.copy_of(leaf)
        if source is None:
            return False
        suffix = 0
        while True:
            made = target + (b".dedup%d" % suffix if replace else b"")
            try:
                os.link(source, made)
                break
            except FileNotFoundError:
                return False  # not in the pool: a new file
            except FileExistsError:
                if not replace:
                    raise
                suffix += 1
            except OSError as exc:
                if exc.errno in (errno.EMLINK, errno.EXDEV, errno.EPERM):
                    return False  # too many links, or a pool we may not link from
                raise
        if replace:
            os.replace(made, target)
        self.copies[link_key(leaf)] = source
        return True

    def remember(self, leaf: Leaf, parts: list[bytes], target: bytes) -> None:
        """A file written with new content: later duplicates link to it."""
        if self.pool is None:
            return
        key = link_key(leaf)
        self.copies[key] = target
        self.new_files.append((b"/".join(parts), key))
        self.new_bytes += leaf.size

    def symlink_target(self, m: Member, parts: list[bytes]) -> bytes:
        link = os.fsencode(m.target)
        if not link or b"\x00" in link:
            raise self.fail(m.name, "empty symlink target")
        if not _is_utf8(m.target):
            raise self.fail(m.name, f"symlink target {_shown(m.target)} is not valid UTF-8")
        if link.startswith(b"/"):
            if not self.package:
                raise self.fail(m.name, f"symlink to absolute path {_shown(m.target)}")
            # A package is rooted at /: make the link relative to the package root.
            start = b"/" + posixpath.dirname(b"/".join(parts))
            link = posixpath.relpath(posixpath.normpath(link), start)
        return link

    def read_small(self, m: Member) -> bytes:
        assert m.stream is not None
        try:
            data = m.stream.read(_METADATA_LIMIT + 1)
        except corrupt_errors() as exc:
            raise IntegrityError(f"{self.label}: corrupt archive: {exc}") from exc
        if len(data) > _METADATA_LIMIT:
            raise self.fail(m.name, "metadata member too large")
        return bytes(data)


def _is_utf8(text: str) -> bool:
    """Names arrive decoded with surrogateescape: lone surrogates are bytes that
    were not UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_SHOWN_MAX = 160


def _shown(name: str) -> str:
    """`name` quoted for a one-line message: undecodable bytes as ``\\xNN``, control
    characters escaped, a very long name cut in the middle."""
    if _is_utf8(name):
        text = repr(name)
    else:
        text = "'" + "".join(f"\\x{ord(c) - 0xDC00:02x}" if "\udc80" <= c <= "\udcff"
                             else repr(c)[1:-1] for c in name) + "'"
    if len(text) > _SHOWN_MAX:
        text = f"{text[:_SHOWN_MAX // 2]}...{text[-_SHOWN_MAX // 3:]}"
    return text


def _check_symlinks(root: Tree, label: str, links_into: frozenset[bytes] = frozenset()) -> None:
    """Refuse any symlink that, followed through the final tree, leaves it.

    The one exception is `links_into`: store path names (siblings of the new
    path under ``store/``) that a link may land in, as a profile env's
    ``bin/node -> ../../<hash>-node-20/bin/node`` does.
    """
    from store.hashing import walk

    for path, node in walk(root):
        if isinstance(node, Leaf) and node.kind is Kind.SYMLINK:
            directory = path.split(b"/")[:-1]
            if _resolve(root, (None, directory), node.target, 0, links_into) is None:
                raise UnsafeInput(
                    f"{label}: refusing member {os.fsdecode(path)!r}: symlink "
                    f"{os.fsdecode(node.target)!r} points outside the tree"
                )


#: Where a link has led: (None, parts inside the tree) or (name, parts inside
#: ``store/<name>``), with name one of `links_into`.
_Where = tuple[bytes | None, list[bytes]]
_STORE_DIR = b"/"  # a position at ``store/`` itself, between leaving the tree and a name


def _resolve(root: Tree, where: _Where, target: bytes, depth: int,
             links_into: frozenset[bytes]) -> _Where | None:
    """Follow `target` from `where`; None if it escapes the root (or the allowed paths).

    Dangling links are fine (they stay inside); loops count as escapes. Once in
    a referenced store path only plain descent is allowed (no ``..``): that
    path is immutable and its own links were checked when it was added.
    """
    if depth > _MAX_LINK_DEPTH or target.startswith(b"/"):
        return None
    into, stack = where[0], list(where[1])
    parts = [p for p in target.split(b"/") if p not in (b"", b".")]
    for i, part in enumerate(parts):
        if into == _STORE_DIR:
            if part not in links_into:
                return None
            into, stack = part, []
            continue
        if into is not None:
            if part == b"..":
                return None
            stack.append(part)
            continue
        if part == b"..":
            if stack:
                stack.pop()
            elif links_into:
                into = _STORE_DIR
            else:
                return None
            continue
        node = _lookup(root, [*stack, part])
        if isinstance(node, Leaf) and node.kind is Kind.SYMLINK and i < len(parts) - 1:
            resolved = _resolve(root, (None, stack), node.target, depth + 1, links_into)
            if resolved is None:
                return None
            into, stack = resolved
        else:
            stack.append(part)
    if into == _STORE_DIR:
        return None
    return into, stack


def _lookup(root: Tree, parts: list[bytes]) -> Tree | Leaf | None:
    node: Tree | Leaf = root
    for part in parts:
        if not isinstance(node, Tree) or part not in node.entries:
            return None
        node = node.entries[part]
    return node
