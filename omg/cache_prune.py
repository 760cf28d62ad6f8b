"""The download cache, pruned by `omg gc`: by age and by total size.

Verified artifacts stay in ``cache/downloads/`` so a reinstall or another user's
install needs no download (invariant 6: only checked bytes are there); nothing else
ever removed them, so after a few versions the cache held more than the store.
`omg gc` now removes what is older than ``[gc] cache_max_age_days`` (default 30,
by last use: the time a file was last read or written) and then the least recently
used until the cache is under ``[gc] cache_max_bytes`` (default 2 GiB); partial
downloads older than a day go too. 0 turns a limit off.
"""

from __future__ import annotations

import os
from typing import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

DAY = 86400.0
DEFAULT_MAX_AGE_DAYS = 30.0
DEFAULT_MAX_BYTES = 2 << 30
PARTIAL_MAX_AGE = DAY


class CachedFile(NamedTuple):
    path: str
    size: int
    used: float  # the later of its last access and modification


class CachePolicy(NamedTuple):
    max_age_days: float = DEFAULT_MAX_AGE_DAYS
    max_bytes: int = DEFAULT_MAX_BYTES


def plan(files: Sequence[CachedFile], now: float, policy: CachePolicy) -> list[CachedFile]:
    """What to remove: too old first, then the least recently used until under the size."""
    doomed: list[CachedFile] = []
    kept = sorted(files, key=lambda f: (f.used, f.path))  # oldest use first
    if policy.max_age_days > 0:
        cutoff = now - policy.max_age_days * DAY
        doomed = [f for f in kept if f.used < cutoff]
        kept = [f for f in kept if f.used >= cutoff]
    if policy.max_bytes > 0:
        total = sum(f.size for f in kept)
        for f in kept:
            if total <= policy.max_bytes:
                break
            doomed.append(f)
            total -= f.size
    return doomed


def _listing(directory: str) -> list[CachedFile]:
    out: list[CachedFile] = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return out
    for e in entries:
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        if e.is_file(follow_symlinks=False):
            out.append(CachedFile(e.path, st.st_size, max(st.st_atime, st.st_mtime)))
    return out


def prune(cache_dir: str, now: float, policy: CachePolicy, *,
          dry_run: bool = False) -> tuple[int, int]:
    """Remove (or with `dry_run` count) what `plan` chooses; (files, bytes)."""
    from store.fsutil import unlink_quietly

    doomed = plan(_listing(f"{cache_dir}/downloads"), now, policy)
    doomed += plan(_listing(f"{cache_dir}/partial"), now,
                   CachePolicy(PARTIAL_MAX_AGE / DAY, 0))
    if not dry_run:
        for f in doomed:
            unlink_quietly(f.path)
    return len(doomed), sum(f.size for f in doomed)
