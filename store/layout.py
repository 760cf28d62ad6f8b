"""Where everything lives under one OMG_HOME (docs/store-format.md, "Layout on disk").

Pure path arithmetic: no directory is created here, so computing a layout is
free on the hot paths, and importing this module is cheap (a NamedTuple, not
a dataclass: `omg use` imports it and is timed against `python -c pass`).
"""

# No `from __future__ import annotations` here, on purpose: see omg/fast.py.
import re
from pathlib import Path
from typing import NamedTuple

#: Names and versions of store paths: path-safe, no slash, no colon (PATH-safe).
COMPONENT_RE = re.compile(r"^[A-Za-z0-9+_.@][A-Za-z0-9+_.@~-]*$")
HASH_RE = re.compile(r"^[a-z2-7]{32}$")

RECORD_SUFFIX = ".meta"


class Layout(NamedTuple):
    """The directories of one OMG_HOME."""

    home: Path

    @property
    def store(self) -> Path:
        return self.home / "store"

    @property
    def staging(self) -> Path:
        """Same filesystem as the store, so the final step is one rename(2)."""
        return self.home / "store" / ".staging"

    @property
    def links(self) -> Path:
        """One hard link per unique file content: the deduplication pool."""
        return self.home / "store" / ".links"

    @property
    def db(self) -> Path:
        return self.home / "db"

    @property
    def profiles(self) -> Path:
        return self.home / "profiles"

    @property
    def gcroots(self) -> Path:
        return self.home / "gcroots"

    @property
    def temproots(self) -> Path:
        return self.home / "temproots"

    @property
    def cache(self) -> Path:
        return self.home / "cache"

    @property
    def locks(self) -> Path:
        return self.home / "locks"

    @property
    def gc_lock(self) -> Path:
        return self.locks / "gc.lock"

    def store_path(self, name: str) -> Path:
        return self.store / name

    def record_path(self, name: str) -> Path:
        return self.store / (name + RECORD_SUFFIX)


def store_path_name(digest_name: str, name: str, version: str) -> str:
    return f"{digest_name}-{name}-{version}"


def store_hash_of(text: str) -> str | None:
    """The hash part of a store path name (or of a path ending in one).

    Names and versions may both contain dashes (``python-foo``, Arch's
    ``1.2-3``), so only the hash is parsed back; the rest lives in the record.
    """
    base = text.rstrip("/").rsplit("/", 1)[-1]
    if len(base) < 34 or base[32] != "-" or not HASH_RE.match(base[:32]):
        return None
    return base[:32]
