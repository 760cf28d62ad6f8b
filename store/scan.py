"""Hash a tree that is already on disk (for `verify` and for repair)."""

from __future__ import annotations

import os
import stat

from blake3 import blake3

from store.fsutil import walk_tree
from store.hashing import CHUNK, Kind, Leaf, Tree, symlink_digest


def scan(path: str | os.PathLike[str]) -> Tree:
    """The `Tree` of a directory on disk, without following symlinks.

    Names stay exact bytes: str paths decode with surrogateescape, which
    `os.fsencode` reverses, so undecodable names hash as they are on disk.
    Iterative (`walk_tree`): a store path may be deeper than Python's recursion.
    """
    root = Tree()
    trees = {os.fspath(path): root}
    for dirpath, dirnames, filenames in walk_tree(path):
        tree = trees.pop(dirpath)
        for name in dirnames:
            tree.entries[os.fsencode(name)] = trees[os.path.join(dirpath, name)] = Tree()
        for name in filenames:
            full = os.path.join(dirpath, name)
            tree.entries[os.fsencode(name)] = _leaf(full, os.lstat(full))
    return root


def _leaf(full: str, st: os.stat_result) -> Leaf:
    if stat.S_ISLNK(st.st_mode):
        target = os.fsencode(os.readlink(full))
        return Leaf(Kind.SYMLINK, symlink_digest(target), 0, target)
    if stat.S_ISREG(st.st_mode):
        kind = Kind.EXECUTABLE if st.st_mode & 0o111 else Kind.FILE
        return Leaf(kind, file_digest(full), st.st_size)
    raise OSError(f"unexpected file type in store: {full!r}")


def file_digest(path: str | bytes) -> bytes:
    h = blake3()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.digest()
