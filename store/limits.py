"""Unpack limits: the guards against decompression bombs (invariant 5).

A module of its own so that settings can carry them without importing the
archive readers: `omg.config` is loaded on the hot paths. `store.unpack`
enforces them and re-exports both names.
"""

# No `from __future__ import annotations` here, on purpose: see omg/fast.py.
from typing import NamedTuple


class Limits(NamedTuple):
    """Each is configurable in settings (``[store]`` or ``OMG_MAX_*``)."""

    max_bytes: int = 16 << 30
    max_files: int = 1_000_000
    #: Path components of one member. No real package nests this deep; the
    #: store's walks are iterative, so this bounds work, it does not avoid a crash.
    max_depth: int = 256


DEFAULT_LIMITS = Limits()
