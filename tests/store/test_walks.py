"""Tree walks and removal at any depth: input decides how deep a tree is.

Python 3.11's os.walk and shutil.rmtree recurse, so a tree a few thousand
levels deep (an archive made to be hostile) raised RecursionError while hashing,
scanning, walking or removing it; removal failing the same way wedged every
later ingest. Every walk of the store is iterative now; these trees are deeper
than the interpreter's recursion limit and, for removal, longer than PATH_MAX.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from store.fsutil import force_remove, walk_tree
from store.hashing import Kind, Leaf, Tree, content_digest, digest_name, tree_digest, walk
from store.scan import scan
from tests.store.builders import deep_dirs

DEEP = sys.getrecursionlimit() + 500


def _chain(depth: int) -> Tree:
    """The in-memory tree of `deep_dirs(root, depth)`."""
    bottom = Tree({b"f": Leaf(Kind.FILE, content_digest(b"bottom"), 6)})
    for _ in range(depth):
        bottom = Tree({b"d": bottom})
    return bottom


def _recursive_digest(tree: Tree) -> bytes:
    """The specification's recursion (docs/store-format.md), for shallow trees."""
    import struct

    from blake3 import blake3

    from store.hashing import FORMAT_TAG

    h = blake3(FORMAT_TAG)
    for name in sorted(tree.entries):
        node = tree.entries[name]
        digest = _recursive_digest(node) if isinstance(node, Tree) else node.digest
        h.update(node.kind.value + struct.pack(">I", len(name)) + name + digest)
    return h.digest()


def test_tree_digest_and_walk_of_a_deep_tree() -> None:
    tree = _chain(DEEP)
    assert len(digest_name(tree_digest(tree))) == 32
    paths = [p for p, _ in walk(tree)]
    assert len(paths) == DEEP + 1
    assert paths[-1] == b"d/" * DEEP + b"f"


def test_the_iterative_digest_and_walk_keep_the_format(tmp_path: Path) -> None:
    """Same digest as the recursive definition; walk still lists parents first, sorted."""
    leaf = Leaf(Kind.EXECUTABLE, content_digest(b"x"), 1)
    link = Leaf(Kind.SYMLINK, content_digest(b"a/x"), 0, b"a/x")
    tree = Tree({b"b": Tree({b"y": leaf, b"c": Tree()}), b"a": Tree({b"x": leaf}),
                 b"l": link, b"z": Leaf(Kind.FILE, content_digest(b""), 0)})
    assert tree_digest(tree) == _recursive_digest(tree)
    assert tree_digest(_chain(50)) == _recursive_digest(_chain(50))
    assert [p for p, _ in walk(tree)] == [b"a", b"a/x", b"b", b"b/c", b"b/y", b"l", b"z"]


def test_scan_of_a_deep_directory(deep_tmp: Path) -> None:
    # scan reads by path: keep the chain under PATH_MAX ("d/" per level).
    depth = min(DEEP, (4000 - len(str(deep_tmp))) // 2)
    assert depth > sys.getrecursionlimit()
    deep_dirs(deep_tmp / "t", depth, mode=0o555)
    assert tree_digest(scan(deep_tmp / "t")) == tree_digest(_chain(depth))


def test_walk_tree_is_os_walk_without_following_links(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "f").write_bytes(b"1")
    (root / "g").write_bytes(b"2")
    outside = tmp_path / "outside"
    (outside / "inner").mkdir(parents=True)
    (root / "to-dir").symlink_to(outside)
    (root / "dangling").symlink_to(tmp_path / "nowhere")
    os.mkfifo(root / "a" / "fifo")
    seen = [(os.path.relpath(d, root), sorted(ds), sorted(fs)) for d, ds, fs in walk_tree(root)]
    # A symlink is never descended into, and counts as a file even when it points
    # at a directory (os.walk lists it among the directories).
    assert sorted(seen) == [(".", ["a"], ["dangling", "g", "to-dir"]),
                            ("a", ["b"], ["f", "fifo"]), ("a/b", [], [])]
    # Top-down: pruning dirnames in place skips them, as with os.walk.
    pruned = []
    for dirpath, dirnames, _ in walk_tree(root):
        pruned.append(os.path.relpath(dirpath, root))
        dirnames.clear()
    assert pruned == ["."]


def test_walk_tree_of_a_deep_directory(deep_tmp: Path) -> None:
    depth = min(DEEP, (4000 - len(str(deep_tmp))) // 2)
    deep_dirs(deep_tmp / "t", depth)
    walked = list(walk_tree(deep_tmp / "t"))
    assert len(walked) == depth + 1
    assert walked[-1][2] == ["f"]


def test_walk_tree_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(walk_tree(tmp_path / "missing"))
    errors: list[OSError] = []
    assert list(walk_tree(tmp_path / "missing", onerror=errors.append)) == []
    assert len(errors) == 1


def test_force_remove_deeper_and_longer_than_path_max(deep_tmp: Path) -> None:
    """A sealed (0555) chain 3,000 deep, 6,000 characters long: removed whole."""
    deep_dirs(deep_tmp / "t", 3000, mode=0o555)
    os.chmod(deep_tmp / "t", 0o555)
    force_remove(deep_tmp / "t")
    assert not (deep_tmp / "t").exists()
    force_remove(deep_tmp / "t")  # already gone: nothing to do


def test_force_remove_never_follows_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "keep").write_bytes(b"keep")
    os.chmod(outside / "sub", 0o555)
    tree = tmp_path / "tree"
    (tree / "x").mkdir(parents=True)
    (tree / "x" / "link").symlink_to(outside)
    (tree / "x" / "sublink").symlink_to(outside / "sub")
    os.chmod(tree / "x", 0o555)
    force_remove(tree)
    assert not tree.exists()
    assert (outside / "sub" / "keep").read_bytes() == b"keep"
    assert os.stat(outside / "sub").st_mode & 0o777 == 0o555  # not even chmod-ed
    # A symlink given as the path is removed itself, its target kept.
    (tmp_path / "alias").symlink_to(outside)
    force_remove(tmp_path / "alias")
    assert not os.path.lexists(tmp_path / "alias") and (outside / "sub" / "keep").exists()


def test_force_remove_beside_a_concurrent_remover(tmp_path: Path) -> None:
    """Two removers of one tree both finish without error (a cleaner and an owner)."""
    tree = tmp_path / "tree"
    for i in range(40):
        for j in range(40):
            (tree / f"d{i}" / f"e{j}").mkdir(parents=True)
            (tree / f"d{i}" / f"e{j}" / "f").write_bytes(b"x")
    with ThreadPoolExecutor(3) as pool:
        removers = [pool.submit(force_remove, tree) for _ in range(3)]
    for remover in removers:
        remover.result()  # raises what that remover raised
    assert not tree.exists()


def test_unpack_refuses_a_member_deeper_than_max_depth(tmp_path: Path) -> None:
    from store.archive import Member, MemberKind
    from store.errors import UnsafeInput
    from store.unpack import Limits, unpack

    def members(deepest: str, kind: MemberKind) -> list[Member]:
        return [Member("a/b/c", MemberKind.DIRECTORY), Member(deepest, kind, stream=None)]

    limits = Limits(max_depth=3)
    done = unpack(members("a/b/c", MemberKind.DIRECTORY), tmp_path / "ok", label="t",
                  limits=limits, strip_top=False)
    assert [p for p, _ in walk(done.tree)] == [b"a", b"a/b", b"a/b/c"]
    for kind in (MemberKind.DIRECTORY, MemberKind.SYMLINK):
        dest = tmp_path / f"deep-{kind.value}"
        with pytest.raises(UnsafeInput) as caught:
            unpack(members("a/b/c/d/e", kind), dest, label="t", limits=limits)
        assert str(caught.value) == ("t: refusing member 'a/b/c/d/e': 5 levels deep "
                                     "(limit max_depth 3)")
        assert os.listdir(dest / "a" / "b" / "c") == []  # nothing made for it
    assert Limits().max_depth == 256
