"""The daemon's method table: one `Method` per request name (docs/protocol.md).

Each method declares its parameters (extras are refused before the handler
runs), whether it takes a file descriptor, and its own authorization check.
Handlers get the kernel-verified `Peer`, never a user name from the client.
``profile.*`` and ``roots.*`` live in `omg.daemon.profile_methods`, registered
into the same table when this module is imported (at its end).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omg.daemon.incoming import Quota, copy_in
from omg.daemon.observe import Stats
from omg.daemon.peer import Peer, is_trusted, may_gc
from omg.daemon.protocol import ParamSpec, ProtocolError
from store.claims import ADDED, Claim
from store.errors import PermissionDenied, UsageError
from store.ingest import validate_component
from store.local import LocalStore


@dataclass
class Context:
    """What handlers share: the store the daemon owns and its policy settings."""

    store: LocalStore
    gc_group: str | None = None
    #: ``[daemon] trusted_users``: whose `store add`s every user resolves (root always).
    trusted_users: frozenset[str] = frozenset()
    server: str = "omgd"
    extra: dict[str, Any] = field(default_factory=dict)
    # store.index.Index keeps its write transaction on the instance (not per
    # thread) and opens tables lazily inside it, so writers in this process take
    # turns; readers stay parallel. Lift once Index is thread-aware.
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    #: What each uid's store.add requests hold in `incoming` ([daemon] max_incoming_bytes).
    quota: Quota = field(default_factory=Quota)
    stats: Stats = field(default_factory=Stats)

    @property
    def settings(self) -> Any:
        """The daemon's own `omg.config.Settings`: its mirrors and cache, never a client's."""
        settings = self.extra.get("settings")
        if settings is None:
            from omg import config

            settings = self.extra["settings"] = config.load()
        return settings

    @property
    def incoming(self) -> Path:
        """Daemon-private copies of archives passed by fd (same fs as the store)."""
        return self.store.layout.home / "daemon" / "incoming"


Handler = Callable[[Context, Peer, dict[str, Any], list[int]], Any]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    params: ParamSpec = field(default_factory=dict)
    fds: int = 0  # exactly this many file descriptors must come with the request


METHODS: dict[str, Method] = {}
#: Most TOOL@SPEC a request may name (profile.use, runtime.install, ...).
MAX_SPECS = 64


def check_specs(method_name: str, specs: list[str]) -> list[str]:
    """1 to `MAX_SPECS` TOOL@SPEC: a bounded amount of work per request."""
    if not specs or len(specs) > MAX_SPECS:
        raise UsageError(f"{method_name} takes 1 to {MAX_SPECS} specs, got {len(specs)}")
    return specs


def to_wire(value: Any) -> Any:
    """NamedTuples as maps (``_asdict()``), tuples as lists, paths as text: msgpack-able."""
    if hasattr(value, "_asdict"):
        return {k: to_wire(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def register(method: Method, table: dict[str, Method] | None = None) -> Method:
    (METHODS if table is None else table)[method.name] = method
    return method


def method(name: str, params: Mapping[str, tuple[str, bool]] | None = None,
           fds: int = 0) -> Callable[[Handler], Handler]:
    def wrap(fn: Handler) -> Handler:
        register(Method(name, fn, dict(params or {}), fds))
        return fn
    return wrap


# Basics ----------------------------------------------------------------------


@method("ping")
def _ping(ctx: Context, peer: Peer, params: dict[str, Any], fds: list[int]) -> Any:
    return "pong"


@method("whoami")
def _whoami(ctx: Context, peer: Peer, params: dict[str, Any], fds: list[int]) -> Any:
    return {**peer.to_wire(), "may_gc": may_gc(peer, ctx.gc_group)}


@method("daemon.stats")
def _daemon_stats(ctx: Context, peer: Peer, params: dict[str, Any], fds: list[int]) -> Any:
    """Counts and latencies since start (no user's data: anyone may ask)."""
    return ctx.stats.to_wire(ctx.quota.held())


# Store -----------------------------------------------------------------------

_ADD_PARAMS = {
    "name": ("str", True),
    "version": ("str", True),
    "references": ("list[str]?", False),
    "origin": ("map?", False),
    "filename": ("str?", False),  # only for format hints (.pkg.tar.*); never a path
    "strip_top": ("bool?", False),
}


def _safe_filename(name: str | None) -> str:
    if not name:
        return "archive"
    if ("/" in name or name in (".", "..") or len(name) > 200
            or not name.isprintable()):  # it is echoed in error messages
        raise UsageError(f"invalid archive file name {name!r}")
    return name


#: The store records `origin` as JSON in the path's record: keep it a few lines.
MAX_ORIGIN = 4096


def _check_origin(origin: dict[str, Any]) -> dict[str, Any]:
    """JSON as the record stores it (no bytes, no NaN), and small."""
    import json

    try:
        size = len(json.dumps(origin, allow_nan=False))
    except (TypeError, ValueError):
        raise UsageError("store.add: origin may hold only text, numbers, booleans, "
                         "nil, lists and maps") from None
    if size > MAX_ORIGIN:
        raise UsageError(f"store.add: origin of {size} bytes exceeds {MAX_ORIGIN} bytes")
    return origin


@method("store.add", _ADD_PARAMS, fds=1)
def _store_add(ctx: Context, peer: Peer, params: dict[str, Any], fds: list[int]) -> Any:
    validate_component("name", params["name"])
    validate_component("version", params["version"])
    filename = _safe_filename(params.get("filename"))
    origin = _check_origin(dict(params.get("origin") or {}))
    origin["added_by"] = peer.user
    with ctx.quota.reserve(peer.uid) as reservation:
        copy = copy_in(fds[0], ctx.incoming, filename, max_bytes=ctx.store.limits.max_bytes,
                       reservation=reservation)
        try:
            with ctx.write_lock:
                # The peer's own claim: the name and version it typed resolve for it
                # alone, unless it is one of the store's trusted users (store.claims).
                claim = Claim(ADDED, peer.user, trusted=is_trusted(peer, ctx.trusted_users))
                result = ctx.store.add(copy, params["name"], params["version"],
                                       references=params.get("references") or (),
                                       origin=origin, strip_top=params.get("strip_top"),
                                       claim=claim)
        finally:
            copy.unlink(missing_ok=True)  # before the quota is given back
    return {"record": result.record.to_index(), "created": result.created,
            "added_bytes": result.added_bytes, "warnings": list(result.warnings)}


def _check_name(name: str) -> str:
    from store.layout import store_hash_of

    if store_hash_of(name) is None or "/" in name or name != name.strip():
        raise UsageError(f"invalid store path name {name!r}")
    return name


@method("store.get", {"name": ("str", True)})
def _store_get(ctx: Context, peer: Peer, params: dict[str, Any], fds: list[int]) -> Any:
    return ctx.store.get(_check_name(params["name"])).to_index()


@method("store.records")
def _store_records(ctx: Context, peer: Peer, params: dict[str, Any], fds: list[int]) -> Any:
    return [r.to_index() for r in ctx.store.records()]


@method("store.find", {"name": ("str", True), "version": ("str?", False)})
def _store_find(ctx: Context, peer: Peer, params: dict[str, Any], fds: list[int]) -> Any:
    return [r.to_index() for r in ctx.store.find(params["name"], params.get("version"))]


@method("store.closure", {"names": ("list[str]", True)})
def _store_closure(ctx: Context, peer: Peer, params: dict[str, Any], fds: list[int]) -> Any:
    return sorted(ctx.store.closure(_check_name(n) for n in params["names"]))


@method("store.verify", {"names": ("list[str]?", False)})
def _store_verify(ctx: Context, peer: Peer, params: dict[str, Any], fds: list[int]) -> Any:
    names = params.get("names")
    if names is not None:
        names = [_check_name(n) for n in names]
    return [{"path": p.path, "file": p.file, "what": p.what} for p in ctx.store.verify(names)]


# Garbage collection ------------------------------------------------------------


@method("gc", {"dry_run": ("bool?", False), "older_than": ("float?", False)})
def _gc(ctx: Context, peer: Peer, params: dict[str, Any], fds: list[int]) -> Any:
    """Collect garbage; with `older_than` (seconds), first delete every user's old generations."""
    if not may_gc(peer, ctx.gc_group):
        raise PermissionDenied(
            f"user {peer.user} may not collect garbage in the shared store",
            hint="gc needs root or membership of the [daemon] gc_group group"
                 + (f" ({ctx.gc_group})" if ctx.gc_group else ""))
    import time

    from generations.gc import collect

    older_than = params.get("older_than")
    if older_than is not None and older_than < 0:
        raise UsageError("gc: older_than must be a number of seconds >= 0")
    with ctx.write_lock:
        result = collect(ctx.store, dry_run=bool(params.get("dry_run")),
                         older_than=older_than, now=time.time())
    return to_wire(result)


def dispatch(ctx: Context, peer: Peer, method_name: str, params: dict[str, Any],
             fds: list[int], table: Mapping[str, Method] | None = None) -> Any:
    """Validate and run one request. The caller owns (and closes) `fds`."""
    from omg.daemon.protocol import check_params

    found = (METHODS if table is None else table).get(method_name)
    if found is None:
        raise ProtocolError(f"unknown method {method_name!r}")
    checked = check_params(method_name, params, found.params)
    if len(fds) != found.fds:
        raise ProtocolError(f"{method_name} takes {found.fds} file descriptor(s), "
                            f"got {len(fds)}")
    return found.handler(ctx, peer, checked, fds)


# profile.*, roots.* and runtime.*: registered into METHODS by importing the modules.
from omg.daemon import profile_methods as _profile_methods  # noqa: E402,F401
from omg.daemon import runtime_methods as _runtime_methods  # noqa: E402,F401
from omg.daemon import search_methods as _search_methods  # noqa: E402,F401
