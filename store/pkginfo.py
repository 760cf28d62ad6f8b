"""Arch package metadata: the ``.PKGINFO`` format (``key = value`` lines).

Pure parsing; repeated keys (depend, optdepend, provides, conflict, replaces,
backup, license, group, makedepend, checkdepend) become lists.
"""

from __future__ import annotations

from typing import Any

from store.errors import IntegrityError

LIST_KEYS = frozenset({
    "depend", "optdepend", "makedepend", "checkdepend", "provides", "conflict",
    "replaces", "backup", "license", "group",
})


def parse_pkginfo(text: str) -> dict[str, Any]:
    info: dict[str, Any] = {key: [] for key in LIST_KEYS}
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(" = ")
        if not sep:
            raise IntegrityError(f".PKGINFO line {lineno}: expected `key = value`")
        key, value = key.strip(), value.strip()
        if key in LIST_KEYS:
            info[key].append(value)
        else:
            info[key] = value
    for required in ("pkgname", "pkgver"):
        if required not in info:
            raise IntegrityError(f".PKGINFO lacks {required}")
    return info
