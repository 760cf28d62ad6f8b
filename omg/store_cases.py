"""Store use cases: add, list, info, verify, with the results the CLI renders.

`LocalBackend` runs these on this user's `LocalStore`; omgd runs the changing
ones (add, verify) the same way on the shared store, and a `DaemonBackend` reads
`records` and `info` straight from the world-readable files, as here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.local import Problem
from store.results import SHAPES, Result, many, shaped

if TYPE_CHECKING:
    from collections.abc import Sequence

    from store.layout import Layout
    from store.local import LocalStore
    from store.record import PathRecord


class StoreInfo(Result):
    record: PathRecord
    store_path: str
    #: Who vouches for the path (`store.claims.read`): for whom its name resolves.
    claims: list[dict[str, object]]


class VerifyResult(Result):
    checked: int
    problems: list[Problem]


SHAPES[VerifyResult] = {"problems": many(shaped(Problem))}


def info(store: LocalStore, layout: Layout, name: str) -> StoreInfo:
    from store.claims import read as read_claims

    record = store.get(store.resolve_name(name))
    return StoreInfo(record, str(layout.store_path(record.path)),
                     read_claims(layout, record.path))


def verify(store: LocalStore, names: Sequence[str] | None = None) -> VerifyResult:
    """Re-hash `names` (every store path if None); each problem names the file."""
    resolved = [store.resolve_name(n) for n in names] if names else None
    problems = store.verify(resolved)
    checked = len(resolved) if resolved is not None else len(store.names())
    return VerifyResult(checked, problems)
