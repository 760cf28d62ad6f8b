"""The canonical BLAKE3 tree hash (docs/store-format.md is its specification).

Pure: it hashes an in-memory `Tree` whose files already carry their content
digests, so the same code serves archives (hashed while unpacking), plain
directories and verification. A directory's digest covers its sorted entries'
names, kinds and digests, so times, owners and non-executable mode bits can
never influence a store path's name.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
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
    """BLAKE3 over the tag and each entry's kind, name length, name and digest."""
    h = blake3(FORMAT_TAG)
    for name in sorted(tree.entries):
        node = tree.entries[name]
        digest = tree_digest(node) if isinstance(node, Tree) else node.digest
        h.update(node.kind.value + struct.pack(">I", len(name)) + name + digest)
    return h.digest()


def digest_name(digest: bytes) -> str:
    """The first 160 bits as 32 lowercase RFC 4648 base32 characters (no padding)."""
    return base64.b32encode(digest[:20]).decode("ascii").lower()


def walk(tree: Tree, prefix: bytes = b"") -> Iterator[tuple[bytes, Tree | Leaf]]:
    """Every entry below `tree` with its slash-joined relative path, parents first."""
    for name in sorted(tree.entries):
        node = tree.entries[name]
        path = prefix + name
        yield path, node
        if isinstance(node, Tree):
            yield from walk(node, path + b"/")
