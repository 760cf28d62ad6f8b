"""Placeholder: the s3 backend lands in the next commit (h/cachestore phase 2)."""

from __future__ import annotations

from typing import NoReturn

from store.errors import UsageError


def S3Storage(where: object, *, timeout: float) -> NoReturn:
    raise UsageError(f"{where}: s3 caches are not supported yet")
