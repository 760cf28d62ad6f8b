"""Placeholder: the http backend lands in the next commit (h/cachestore phase 2)."""

from __future__ import annotations

from typing import NoReturn

from store.errors import UsageError


def HttpStorage(where: object, *, timeout: float) -> NoReturn:
    raise UsageError(f"{where}: http caches are not supported yet")
