"""What every omgd methods module shares: `Context`, `Method` and a few checks.

A methods module (`store_methods`, `profile_methods`, `runtime_methods`,
`search_methods`) imports this module and declares its methods as data, a
``METHODS`` tuple of `Method`; `omg.daemon.table` builds the daemon's one
table from those tuples. This module imports no methods module, and no methods
module imports another (import-linter contracts in pyproject.toml).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from omg.backends.local import LocalBackend
from omg.daemon.incoming import Quota
from omg.daemon.observe import Stats
from omg.daemon.peer import Peer
from omg.daemon.protocol import Params as Params  # the methods modules' parameters
from omg.daemon.protocol import ParamSpec
from store.errors import UsageError
from store.local import LocalStore

if TYPE_CHECKING:
    from omg.config import Settings


@dataclass
class Context:
    """What handlers share: the store the daemon owns and its policy settings."""

    store: LocalStore
    gc_group: str | None = None
    #: ``[daemon] trusted_users``: whose `store add`s every user resolves (root always).
    trusted_users: frozenset[str] = frozenset()
    #: The daemon's settings (``settings``) and what handlers make once (``search``).
    extra: dict[str, object] = field(default_factory=dict)
    # store.index.Index keeps its write transaction on the instance (not per
    # thread) and opens tables lazily inside it, so writers in this process take
    # turns; readers stay parallel. Lift once Index is thread-aware.
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    #: What each uid's store.add requests hold in `incoming` ([daemon] max_incoming_bytes).
    quota: Quota = field(default_factory=Quota)
    stats: Stats = field(default_factory=Stats)

    @property
    def settings(self) -> Settings:
        """The daemon's own `omg.config.Settings`: its mirrors and cache, never a client's."""
        from omg import config

        settings = self.extra.get("settings")
        if not isinstance(settings, config.Settings):
            settings = self.extra["settings"] = config.load()
        return settings

    @property
    def incoming(self) -> Path:
        """Daemon-private copies of archives passed by fd (same fs as the store)."""
        return self.store.layout.home / "daemon" / "incoming"


#: (context, the kernel-verified peer, the checked params, the received fds) -> result.
Handler = Callable[[Context, Peer, Params, list[int]], object]


@dataclass(frozen=True)
class Method:
    """One request name: its handler, its parameters (extras are refused before the
    handler runs) and how many file descriptors must come with it."""

    name: str
    handler: Handler
    params: ParamSpec = field(default_factory=dict)
    fds: int = 0


#: Most TOOL@SPEC a request may name (profile.use, runtime.install, ...).
MAX_SPECS = 64


def check_specs(method_name: str, specs: list[str]) -> list[str]:
    """At most `MAX_SPECS` TOOL@SPEC: a bounded amount of work per request. No spec
    at all is the use case's to answer, as it answers a local command (tests/contract)."""
    if len(specs) > MAX_SPECS:
        raise UsageError(f"{method_name} takes at most {MAX_SPECS} specs, got {len(specs)}")
    return specs


def check_name(name: str) -> str:
    """A store path name (``<hash>-<name>-<version>``), never a path."""
    from store.layout import store_hash_of

    if store_hash_of(name) is None or "/" in name or name != name.strip():
        raise UsageError(f"invalid store path name {name!r}")
    return name


def backend(ctx: Context, user: str, *, mirror: bool = True) -> LocalBackend:
    """The use cases for `user` on the daemon's store: the very `LocalBackend` a local
    command runs, sharing the daemon's one open index (never closed by a request)."""
    from omg.backends.local import LocalBackend

    return LocalBackend(str(ctx.store.layout.home), user, lambda: ctx.settings,
                        store=ctx.store, mirror=mirror)
