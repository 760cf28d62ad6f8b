"""Arch package metadata: the ``.PKGINFO`` format (``key = value`` lines).

Pure parsing; repeated keys (depend, optdepend, provides, conflict, replaces,
backup, license, group, makedepend, checkdepend) become lists.
"""

from __future__ import annotations

from store.errors import IntegrityError

LIST_KEYS = frozenset({
    "depend", "optdepend", "makedepend", "checkdepend", "provides", "conflict",
    "replaces", "backup", "license", "group",
})


def parse_pkginfo(text: str | bytes) -> dict[str, str | list[str]]:
    """The fields of a ``.PKGINFO``; bytes must be UTF-8 (it goes into the index)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise IntegrityError(f".PKGINFO is not UTF-8 (byte {exc.start}: "
                                 f"{exc.object[exc.start:exc.start + 1]!r})") from None
    lists: dict[str, list[str]] = {key: [] for key in LIST_KEYS}
    single: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        # Keys never contain "="; values may (and may be empty: `url = `).
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise IntegrityError(f".PKGINFO line {lineno}: expected `key = value`")
        if key in LIST_KEYS:
            lists[key].append(value)
        else:
            single[key] = value
    for required in ("pkgname", "pkgver"):
        if required not in single:
            raise IntegrityError(f".PKGINFO lacks {required}")
    return {**lists, **single}
