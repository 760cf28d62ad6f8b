"""The test vectors of docs/store-format.md, checked three ways.

Each vector is computed by the store's code, by an independent re-implementation
of the byte format written from the document, and by ingesting the same tree
from disk, so the document, the code and the store agree.
"""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path

import pytest
from blake3 import blake3

from store.hashing import Kind, Leaf, Tree, digest_name, tree_digest
from store.layout import Layout
from store.local import LocalStore
from store.scan import scan
from tests.store.builders import Entry, write_dir

DOC = Path(__file__).resolve().parents[2] / "docs" / "store-format.md"

#: name -> (entries as on disk, expected hex digest, expected store hash)
VECTORS: dict[str, tuple[list[Entry], str, str]] = {
    "empty": ([], "3397b9fa3cdff037e33b86b7903b26603fa2c62f1c65accf700792c031598850",
              "gol3t6r437ydpyz3q23zaozgma72frrp"),
    "one-file": ([("hello.txt", "f", b"hello\n", 0o644)],
                 "4eceb5fc5edc8c84518e5425f3c423fbac22816d865dd76553f9a1ee1d18d1ca",
                 "j3hll7c63sgiiumokqs7hrbd7owcfaln"),
    "one-executable": ([("hello.txt", "f", b"hello\n", 0o755)],
                       "30b78acf52f7f26921f7986b7c8670d8d29164e0aa3c744f45efb7c4c2fd8c17",
                       "gc3yvt2s67zgsipxtbvxzbtq3djjczha"),
    "mixed": ([("bin/tool", "f", b"#!/bin/sh\necho hi\n", 0o755),
               ("README", "f", b"hi\n", 0o644),
               ("lib", "l", "bin", 0o777),
               ("share/", "d", b"", 0o755)],
              "4b453051553a2dd81c33f8ef11efabb040b1ef3d61e691c23fab00493379306d",
              "jnctaukvhiw5qhbt7dxrd35lwbald3z5"),
}


def reference_digest(path: Path) -> bytes:
    """The format re-implemented from docs/store-format.md alone, over a directory."""
    out = b"omg-tree-v1\x00"
    for name in sorted(p.name.encode() for p in path.iterdir()):
        child = path / name.decode()
        if child.is_symlink():
            kind, digest = b"l", blake3(str(child.readlink()).encode()).digest()
        elif child.is_dir():
            kind, digest = b"d", reference_digest(child)
        else:
            kind = b"x" if child.stat().st_mode & 0o111 else b"f"
            digest = blake3(child.read_bytes()).digest()
        out += kind + struct.pack(">I", len(name)) + name + digest
    return blake3(out).digest()


def reference_name(digest: bytes) -> str:
    return base64.b32encode(digest[:20]).decode().lower()


@pytest.mark.parametrize("vector", sorted(VECTORS))
def test_vector(vector: str, tmp_path: Path) -> None:
    entries, hex_digest, name = VECTORS[vector]
    root = write_dir(tmp_path / "tree", entries)
    assert reference_digest(root).hex() == hex_digest
    assert reference_name(bytes.fromhex(hex_digest)) == name
    digest = tree_digest(scan(root))
    assert digest.hex() == hex_digest
    assert digest_name(digest) == name
    store = LocalStore(Layout(tmp_path / "omg"))
    try:
        record = store.add(root, "vec", "1").record
    finally:
        store.close()
    assert record.path == f"{name}-vec-1"


def test_one_file_description_bytes() -> None:
    """The worked example of the document, byte for byte."""
    content = blake3(b"hello\n").digest()
    description = b"omg-tree-v1\x00" + b"f" + b"\x00\x00\x00\x09" + b"hello.txt" + content
    tree = Tree({b"hello.txt": Leaf(Kind.FILE, content, 6)})
    assert tree_digest(tree) == blake3(description).digest()


def test_document_lists_every_vector() -> None:
    text = DOC.read_text()
    for _entries, hex_digest, name in VECTORS.values():
        assert hex_digest in text
        assert name in text
    assert re.search(r"omg-tree-v1", text)
