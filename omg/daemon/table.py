"""The daemon's one method table, built from each methods module's ``METHODS`` tuple.

Adding a method (docs/protocol.md, "How the server is built"): one handler in
the module of its kind, one `Method` in that module's ``METHODS``, one row in the
methods table of docs/protocol.md (a test compares the two). A new kind of method
is a new module, imported and listed in `GROUPS` here: nothing registers itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from omg.daemon import profile_methods, runtime_methods, search_methods, store_methods
from omg.daemon.base import Context, Method
from omg.daemon.peer import Peer
from omg.daemon.protocol import ProtocolError, check_params

GROUPS: tuple[tuple[Method, ...], ...] = (
    store_methods.METHODS,
    profile_methods.METHODS,
    runtime_methods.METHODS,
    search_methods.METHODS,
)


def build(groups: Iterable[Iterable[Method]] = GROUPS) -> dict[str, Method]:
    """One name, one method: a name declared twice is a bug, found at start-up."""
    table: dict[str, Method] = {}
    for group in groups:
        for method in group:
            if method.name in table:
                raise ValueError(f"omgd method {method.name!r} is declared twice")
            table[method.name] = method
    return table


def dispatch(table: Mapping[str, Method], ctx: Context, peer: Peer, method_name: str,
             params: Mapping[str, object], fds: list[int]) -> object:
    """Validate and run one request. The caller owns (and closes) `fds`."""
    found = table.get(method_name)
    if found is None:
        raise ProtocolError(f"unknown method {method_name!r}")
    checked = check_params(method_name, params, found.params)
    if len(fds) != found.fds:
        raise ProtocolError(f"{method_name} takes {found.fds} file descriptor(s), "
                            f"got {len(fds)}")
    return found.handler(ctx, peer, checked, fds)
