"""Reading pacman sync databases (``repo.db``: a tar of ``name-ver-rel/desc`` files).

Used to build the search index without libalpm, so `omg search` never pays for
pyalpm; a file that is not a readable db becomes one IntegrityError naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from store.errors import IntegrityError

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def parse_desc(text: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    key: str | None = None
    for line in text.split("\n"):
        if line.startswith("%") and line.endswith("%") and len(line) > 2:
            key = line[1:-1]
            fields[key] = []
        elif line and key is not None:
            fields[key].append(line)
        elif not line:
            key = None
    return fields


def read_db(path: Path) -> list[dict[str, list[str]]]:
    """Every package's desc fields; raises IntegrityError for a corrupt file."""
    import io
    import tarfile  # here, not at the top: the warm search path never reads a db

    try:
        data = path.read_bytes()
        if data[:4] == ZSTD_MAGIC:
            import zstandard

            data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
        out = []
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                if member.isfile() and member.name.endswith("/desc"):
                    f = tar.extractfile(member)
                    if f is not None:
                        out.append(parse_desc(f.read().decode("utf-8", "replace")))
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise IntegrityError(f"corrupt sync database {path}: {exc}",
                             hint="refresh it with `pacman -Sy`") from exc
    for fields in out:
        if not fields.get("NAME") or not fields.get("VERSION"):
            raise IntegrityError(f"corrupt sync database {path}: a desc without NAME/VERSION")
    return out


def compact(fields: dict[str, list[str]]) -> list[Any]:
    """The search index row: [name, version, desc, provides]."""
    return [fields["NAME"][0], fields["VERSION"][0], " ".join(fields.get("DESC", [])),
            fields.get("PROVIDES", [])]
