"""Store path records: the facts about a store path that its tree cannot say.

Each record is written beside its store path as ``<store-path>.meta`` (JSON,
read-only, versioned) *before* the path becomes visible, and mirrored in the
LMDB index. The file is the truth; the index is a fast copy (invariant 4).
The record lists every file's digest so `verify` can name the exact damaged
file and repair never has to trust possibly-damaged content.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, TypedDict, cast

from store.errors import FormatTooNew, IntegrityError

if TYPE_CHECKING:  # store.hashing pulls in blake3; `omg install` imports this module
    from store.hashing import Leaf, Tree

RECORD_FORMAT = 1

#: One tree entry: relative path, kind byte ("f", "x", "l", "d"), hex digest, size.
TreeEntry = tuple[str, str, str, int]


def tree_entry(rel: bytes, node: Leaf | Tree) -> TreeEntry:
    """The record entry of one node met by `walk`."""
    from store.hashing import Tree

    rel_s = os.fsdecode(rel)
    if isinstance(node, Tree):
        return (rel_s, "d", "", 0)
    return (rel_s, node.kind.value.decode(), node.digest.hex(), node.size)


def tree_from_plain(data: object) -> list[TreeEntry]:
    """Tree entries as JSON or msgpack gives them back (lists of four); ValueError if
    `data` is not that."""
    if not isinstance(data, list):
        raise ValueError(f"the tree is a {type(data).__name__}, not a list")
    out: list[TreeEntry] = []
    for e in data:
        if not (isinstance(e, list | tuple) and len(e) == 4 and isinstance(e[0], str)
                and isinstance(e[1], str) and isinstance(e[2], str)
                and isinstance(e[3], int) and not isinstance(e[3], bool)):
            raise ValueError(f"malformed tree entry {e!r:.80}")
        out.append((e[0], e[1], e[2], e[3]))
    return out


def tree_entries(tree: Tree) -> list[TreeEntry]:
    from store.hashing import walk

    return [tree_entry(rel, node) for rel, node in walk(tree)]


def content_totals(entries: list[TreeEntry]) -> tuple[int, int]:
    """(bytes of file content, number of files and symlinks) of a record's tree."""
    return (sum(e[3] for e in entries if e[1] in "fx"),
            sum(1 for e in entries if e[1] in "fxl"))


class PathRow(TypedDict):
    """A `PathRecord` as plain data: the ``paths`` row of the index, the body of its
    record file, its form on omgd's wire."""

    path: str
    hash: str
    name: str
    version: str
    size: int
    files: int
    references: list[str]
    origin: dict[str, object] | None
    created: float
    metadata: dict[str, object]


#: The type each field of a `PathRow` must have (`from_index` checks: never trust a row).
_ROW_TYPES: dict[str, type | tuple[type, ...]] = {
    "path": str, "hash": str, "name": str, "version": str, "size": int, "files": int,
    "references": (list, tuple), "origin": (dict, type(None)), "created": (int, float),
    "metadata": dict,
}


@dataclass(frozen=True)
class PathRecord:
    path: str  # the store path's name: <hash>-<name>-<version>
    hash: str
    name: str
    version: str
    size: int  # bytes of file content, before deduplication
    files: int
    references: tuple[str, ...] = ()
    #: Plain JSON data (text, numbers, booleans, lists, maps): a note of where it came from.
    origin: dict[str, object] | None = None
    created: float = 0.0
    #: Plain JSON data too (an Arch package's parsed ``.PKGINFO``).
    metadata: dict[str, object] = field(default_factory=dict)

    def to_index(self) -> PathRow:
        data = asdict(self)
        data["references"] = list(self.references)
        return cast(PathRow, data)  # asdict of this very class: the fields of PathRow

    @classmethod
    def from_index(cls, data: object) -> PathRecord:
        """A record from its plain form (an index row, a record file, omgd's reply);
        IntegrityError if `data` is not one."""
        if not isinstance(data, dict):
            raise IntegrityError(f"malformed store path record: {type(data).__name__}")
        for key, kind in _ROW_TYPES.items():
            value = data.get(key)
            if key in data and (not isinstance(value, kind) or isinstance(value, bool)):
                raise IntegrityError(f"malformed store path record: {key} is a "
                                     f"{type(value).__name__}")
        if not all(isinstance(r, str) for r in data.get("references", ())):
            raise IntegrityError("malformed store path record: references: not all text")
        try:
            return cls(**{**data, "references": tuple(data.get("references", ()))})
        except TypeError as exc:
            raise IntegrityError(f"malformed store path record: {exc}") from exc


def encode_record(record: PathRecord, tree: list[TreeEntry]) -> bytes:
    data = {"format": RECORD_FORMAT, **record.to_index(), "tree": [list(e) for e in tree]}
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def decode_record(raw: bytes, label: str) -> tuple[PathRecord, list[TreeEntry]]:
    try:
        data = json.loads(raw)
        fmt = data.pop("format")
        if fmt > RECORD_FORMAT:
            raise FormatTooNew(f"{label}: record format {fmt} is newer than this omg "
                               f"({RECORD_FORMAT})", hint="upgrade omg")
        tree = tree_from_plain(data.pop("tree"))
        return PathRecord.from_index(data), tree
    except FormatTooNew:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IntegrityError(f"{label}: corrupt store path record: {exc}") from exc
