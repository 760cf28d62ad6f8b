"""The canonical BLAKE3 tree hash (docs/store-format.md is its specification).

Pure: it hashes an in-memory `Tree` whose files already carry their content
digests, so the same code serves archives (hashed while unpacking), plain
directories and verification. A directory's digest covers its sorted entries'
names, kinds and digests, so times, owners and non-executable mode bits can
never influence a store path's name.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum

from blake3 import blake3

FORMAT_TAG = b"omg-tree-v1\x00"
CHUNK = 1 << 20


class Kind(bytes, Enum):
    """One byte per entry kind, as written into a directory's description."""

    FILE = b"f"
    EXECUTABLE = b"x"
    SYMLINK = b"l"
    DIRECTORY = b"d"


@dataclass
class Leaf:
    """A file or symlink: its digest is BLAKE3 of the bytes or of the link target."""

    kind: Kind
    digest: bytes
    size: int = 0
    target: bytes = b""  # symlinks only


@dataclass
class Tree:
    """A directory: entries by name (bytes, as the filesystem has them)."""

    entries: dict[bytes, Tree | Leaf] = field(default_factory=dict)

    @property
    def kind(self) -> Kind:
        return Kind.DIRECTORY


def content_digest(data: bytes) -> bytes:
    return blake3(data).digest()


def symlink_digest(target: bytes) -> bytes:
    return blake3(target).digest()


def tree_digest(tree: Tree) -> bytes:
    """BLAKE3 over the tag and each entry's kind, name length, name and digest.

    The specification is recursive; this is the same computation with an
    explicit stack, since input decides how deep a tree is (a recursion here
    once failed on an archive 1,500 directories deep).
    """
    # A level: its hasher, its sorted entries not yet hashed, its name in its parent.
    levels = [(blake3(FORMAT_TAG), iter(sorted(tree.entries.items())), b"")]
    while True:
        h, entries, own_name = levels[-1]
        for name, node in entries:
            if isinstance(node, Tree):
                levels.append((blake3(FORMAT_TAG), iter(sorted(node.entries.items())), name))
                break
            h.update(_entry(node.kind, name, node.digest))
        else:  # every entry hashed: this directory is done
            digest = h.digest()
            levels.pop()
            if not levels:
                return digest
            levels[-1][0].update(_entry(Kind.DIRECTORY, own_name, digest))


def _entry(kind: Kind, name: bytes, digest: bytes) -> bytes:
    return kind.value + struct.pack(">I", len(name)) + name + digest


REFS_TAG = b"omg-refs-v1\x00"


def path_digest(tree: Tree, tree_hash: bytes, references: Iterable[str] = ()) -> bytes:
    """A store path's digest: its tree's, covering its references too, as Nix's names do.

    A reference some symlink of the tree points into is named by that link already
    (a profile env); the others are hashed in after the tree digest (sorted,
    length-prefixed). So the same files built against another dependency are
    another path with its own references, never the first ingest's, and a path
    whose references are all linked (or that has none) keeps its tree digest.
    """
    refs = sorted(set(references) - _linked(tree, references))
    if not refs:
        return tree_hash
    h = blake3(REFS_TAG)
    h.update(tree_hash)
    for ref in refs:
        raw = ref.encode()
        h.update(struct.pack(">I", len(raw)) + raw)
    return h.digest()


def _linked(tree: Tree, references: Iterable[str]) -> set[str]:
    """The references that a symlink target of `tree` names as a path component."""
    wanted = {os.fsencode(r) for r in references}
    found: set[bytes] = set()
    if wanted:
        for _, node in walk(tree):
            if isinstance(node, Leaf) and node.kind is Kind.SYMLINK:
                found.update(wanted.intersection(node.target.split(b"/")))
    return {os.fsdecode(r) for r in found}


def digest_name(digest: bytes) -> str:
    """The first 160 bits as 32 lowercase RFC 4648 base32 characters (no padding)."""
    return base64.b32encode(digest[:20]).decode("ascii").lower()


def walk(tree: Tree, prefix: bytes = b"") -> Iterator[tuple[bytes, Tree | Leaf]]:
    """Every entry below `tree` with its slash-joined relative path, parents first
    (depth first, names sorted at each level; iterative, like `tree_digest`)."""
    stack = [(prefix, iter(sorted(tree.entries.items())))]
    while stack:
        base, entries = stack[-1]
        for name, node in entries:
            path = base + name
            yield path, node
            if isinstance(node, Tree):
                stack.append((path + b"/", iter(sorted(node.entries.items()))))
                break
        else:
            stack.pop()
