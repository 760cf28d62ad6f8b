"""Hash a tree that is already on disk (for `verify` and for repair)."""

from __future__ import annotations

import os
import stat

from blake3 import blake3

from store.hashing import CHUNK, Kind, Leaf, Tree, symlink_digest


def scan(path: str | os.PathLike[str]) -> Tree:
    """The `Tree` of a directory on disk, without following symlinks.

    Names stay exact bytes: str paths decode with surrogateescape, which
    `os.fsencode` reverses, so undecodable names hash as they are on disk.
    """
    tree = Tree()
    with os.scandir(os.fspath(path)) as it:
        for entry in it:
            st = entry.stat(follow_symlinks=False)
            name = os.fsencode(entry.name)
            if stat.S_ISDIR(st.st_mode):
                tree.entries[name] = scan(entry.path)
            elif stat.S_ISLNK(st.st_mode):
                target = os.fsencode(os.readlink(entry.path))
                tree.entries[name] = Leaf(Kind.SYMLINK, symlink_digest(target), 0, target)
            elif stat.S_ISREG(st.st_mode):
                kind = Kind.EXECUTABLE if st.st_mode & 0o111 else Kind.FILE
                tree.entries[name] = Leaf(kind, file_digest(entry.path), st.st_size)
            else:
                raise OSError(f"unexpected file type in store: {entry.path!r}")
    return tree


def file_digest(path: str | bytes) -> bytes:
    h = blake3()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.digest()
