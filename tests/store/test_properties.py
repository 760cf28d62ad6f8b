"""Property tests of the tree hash (hypothesis): what counts and what does not."""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from pathlib import Path

from blake3 import blake3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.archive import open_members
from store.hashing import Kind, Leaf, Tree, tree_digest
from store.layout import Layout
from store.local import LocalStore
from store.unpack import unpack
from tests.store.builders import Entry, write_dir

NAMES = st.text(alphabet="abcXYZ019._-é", min_size=1, max_size=6).filter(
    lambda n: n not in (".", ".."))

# A tree spec: name -> ("f", content, exec) | ("l", target) | ("d", subtree)
FILES = st.tuples(st.just("f"), st.binary(max_size=64), st.booleans())
LINKS = st.tuples(st.just("l"), NAMES)
TREES = st.recursive(
    st.dictionaries(NAMES, st.one_of(FILES, LINKS), max_size=4),
    lambda children: st.dictionaries(
        NAMES, st.one_of(FILES, LINKS, st.tuples(st.just("d"), children)), max_size=4),
    max_leaves=12,
)
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def to_tree(spec: dict[str, tuple]) -> Tree:  # type: ignore[type-arg]
    tree = Tree()
    for name, node in spec.items():
        key = name.encode()
        if node[0] == "f":
            kind = Kind.EXECUTABLE if node[2] else Kind.FILE
            tree.entries[key] = Leaf(kind, blake3(node[1]).digest(), len(node[1]))
        elif node[0] == "l":
            tree.entries[key] = Leaf(Kind.SYMLINK, blake3(node[1].encode()).digest(), 0,
                                     node[1].encode())
        else:
            tree.entries[key] = to_tree(node[1])
    return tree


def to_entries(spec: dict[str, tuple], prefix: str = "") -> list[Entry]:  # type: ignore[type-arg]
    out: list[Entry] = []
    for name, node in spec.items():
        path = prefix + name
        if node[0] == "f":
            out.append((path, "f", node[1], 0o755 if node[2] else 0o644))
        elif node[0] == "l":
            out.append((path, "l", node[1], 0o777))
        else:
            out.append((path + "/", "d", b"", 0o755))
            out.extend(to_entries(node[1], path + "/"))
    return out


def tar_of(entries: list[Entry], mode_bits: list[int], mtimes: list[int],
           owners: list[str]) -> bytes:
    """A tar of `entries` in the given order with the given metadata noise."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for i, (name, kind, payload, mode) in enumerate(entries):
            ti = tarfile.TarInfo(name)
            noise = mode_bits[i % len(mode_bits)] if mode_bits else 0
            ti.mtime = mtimes[i % len(mtimes)] if mtimes else 0
            ti.uname = ti.gname = owners[i % len(owners)] if owners else ""
            ti.uid = ti.gid = len(ti.uname) * 1000
            data = None
            if kind == "f":
                assert isinstance(payload, bytes)
                # Keep "executable or not", vary every other permission bit.
                ti.mode = ((noise & 0o666) | 0o400 | (mode & 0o100)) if mode & 0o111 \
                    else (noise & 0o666)
                ti.size = len(payload)
                data = io.BytesIO(payload)
            elif kind == "d":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o700 | (noise & 0o077)
            else:
                ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, str(payload), 0o777
            tf.addfile(ti, data)
    return buf.getvalue()


def digest_of_tar(data: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "t.tar"
        archive.write_bytes(data)
        with open_members(archive) as members:
            result = unpack(members, Path(tmp) / "out", label="t", strip_top=False)
        return tree_digest(result.tree)


@FAST
@given(TREES, st.randoms(use_true_random=False),
       st.lists(st.integers(0, 0o7777), max_size=5),
       st.lists(st.integers(0, 2**32), max_size=5),
       st.lists(st.sampled_from(["root", "alice", "bob", ""]), max_size=3))
def test_hash_ignores_order_times_owners_and_mode_bits(
        spec: dict, rnd: object, modes: list[int], mtimes: list[int],  # type: ignore[type-arg]
        owners: list[str]) -> None:
    entries = to_entries(spec)
    expected = tree_digest(to_tree(spec))
    assert digest_of_tar(tar_of(entries, [], [], [])) == expected
    shuffled = list(entries)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    # Parents need not come first: unpack creates missing directories.
    assert digest_of_tar(tar_of(shuffled, modes, mtimes, owners)) == expected


def _mutations(spec: dict[str, tuple]) -> list[dict[str, tuple]]:  # type: ignore[type-arg]
    """Every single change the hash must notice, applied at each entry (recursively)."""
    out: list[dict[str, tuple]] = []  # type: ignore[type-arg]
    for name, node in spec.items():
        def with_node(new: tuple, name: str = name) -> dict[str, tuple]:  # type: ignore[type-arg]
            return {**spec, name: new}

        renamed = name + "~"
        if renamed not in spec:
            out.append({**{k: v for k, v in spec.items() if k != name}, renamed: node})
        if node[0] == "f":
            content, executable = node[1], node[2]
            out.append(with_node(("f", content, not executable)))  # exec bit
            out.append(with_node(("f", content + b"\x00", executable)))  # a byte more
            if content:
                flipped = bytes([content[0] ^ 1]) + content[1:]
                out.append(with_node(("f", flipped, executable)))  # a byte changed
            out.append(with_node(("l", content.decode("latin-1") or "x")))  # kind
        elif node[0] == "l":
            out.append(with_node(("l", node[1] + "x")))
            out.append(with_node(("f", node[1].encode(), False)))  # kind, same bytes
        else:
            out.extend(with_node(("d", sub)) for sub in _mutations(node[1]))
            out.append(with_node(("f", b"", False)))
    out.append({**spec, "new-entry": ("d", {})})
    return out


@FAST
@given(TREES)
def test_hash_changes_with_any_byte_name_kind_or_exec_bit(spec: dict) -> None:  # type: ignore[type-arg]
    original = tree_digest(to_tree(spec))
    for mutated in _mutations(spec):
        assert tree_digest(to_tree(mutated)) != original, mutated


def test_file_and_symlink_with_same_bytes_differ() -> None:
    digest = blake3(b"target").digest()
    as_file = Tree({b"a": Leaf(Kind.FILE, digest, 6)})
    as_link = Tree({b"a": Leaf(Kind.SYMLINK, digest, 0, b"target")})
    assert tree_digest(as_file) != tree_digest(as_link)


def test_empty_directory_differs_from_empty_file() -> None:
    empty_file = Tree({b"a": Leaf(Kind.FILE, blake3(b"").digest(), 0)})
    assert tree_digest(Tree({b"a": Tree()})) != tree_digest(empty_file)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_archive_and_directory_give_the_same_path(spec: dict) -> None:  # type: ignore[type-arg]
    entries = to_entries(spec)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        directory = write_dir(root / "dir", entries)
        archive = root / "a.tar"
        archive.write_bytes(tar_of([(f"top/{n}", k, p, m) for n, k, p, m in entries],
                                   [0o644], [123], ["x"]))
        store = LocalStore(Layout(root / "omg"))
        try:
            from_archive = store.add(archive, "t", "1").record.path
            from_dir = store.add(directory, "t", "1").record.path
        finally:
            store.close()
            from store.fsutil import force_remove

            force_remove(root / "omg")
        assert from_archive == from_dir
        assert from_archive[:32] == __import__("store.hashing", fromlist=["x"]).digest_name(
            tree_digest(to_tree(spec)))
    assert os.path.exists(tmp) is False
