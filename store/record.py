"""Store path records: the facts about a store path that its tree cannot say.

Each record is written beside its store path as ``<store-path>.meta`` (JSON,
read-only, versioned) *before* the path becomes visible, and mirrored in the
LMDB index. The file is the truth; the index is a fast copy (invariant 4).
The record lists every file's digest so `verify` can name the exact damaged
file and repair never has to trust possibly-damaged content.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from store.errors import FormatTooNew, IntegrityError

RECORD_FORMAT = 1

#: One tree entry: relative path, kind byte ("f", "x", "l", "d"), hex digest, size.
TreeEntry = tuple[str, str, str, int]


@dataclass(frozen=True)
class PathRecord:
    path: str  # the store path's name: <hash>-<name>-<version>
    hash: str
    name: str
    version: str
    size: int  # bytes of file content, before deduplication
    files: int
    references: tuple[str, ...] = ()
    origin: dict[str, Any] | None = None
    created: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_index(self) -> dict[str, Any]:
        data = asdict(self)
        data["references"] = list(self.references)
        return data

    @classmethod
    def from_index(cls, data: dict[str, Any]) -> PathRecord:
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
        tree = [(str(p), str(k), str(d), int(s)) for p, k, d, s in data.pop("tree")]
        return PathRecord.from_index(data), tree
    except FormatTooNew:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IntegrityError(f"{label}: corrupt store path record: {exc}") from exc
