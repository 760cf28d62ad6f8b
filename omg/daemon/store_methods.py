"""omgd's basic and store methods: ``ping``, ``whoami``, ``daemon.stats``, ``store.*``, ``gc``.

Declared as data in `METHODS` (docs/protocol.md, "How the server is built").
Anyone may read the store or add to it: the daemon hashes what is added itself,
from its own copy of the descriptor the client passed (`omg.daemon.incoming`),
and records the peer's claim (store.claims). Only root and ``[daemon] gc_group``
may collect garbage.
"""

from __future__ import annotations

from omg.backends.local import add_kept
from omg.daemon.base import Context, Method, Params, backend, check_name
from omg.daemon.incoming import copy_in, discard
from omg.daemon.peer import Peer, is_trusted, may_gc, may_write_profiles_of
from store.claims import ADDED, Claim
from store.errors import PermissionDenied, UsageError
from store.ingest import validate_component
from store.results import to_plain

#: The store records `origin` as JSON in the path's record: keep it a few lines.
MAX_ORIGIN = 4096

# Basics ----------------------------------------------------------------------


def _ping(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    return "pong"


def _whoami(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    return {**peer.to_wire(), "may_gc": may_gc(peer, ctx.gc_group)}


def _daemon_stats(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    """Counts and latencies since start (no user's data: anyone may ask)."""
    return ctx.stats.to_wire(ctx.quota.held())


# Store -----------------------------------------------------------------------


def _safe_filename(name: str | None) -> str:
    if not name:
        return "archive"
    if ("/" in name or name in (".", "..") or len(name) > 200
            or not name.isprintable()):  # it is echoed in error messages
        raise UsageError(f"invalid archive file name {name!r}")
    return name


def _check_origin(origin: dict[str, object]) -> dict[str, object]:
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


def _tool_env(origin: dict[str, object], name: str, version: str) -> None:
    """An untrusted peer's `origin` gets the env omgd's own install would record.

    The record's ``origin["env"]`` goes into every profile that uses the path, and
    the first record of a path stands: a user who adds upstream's own tarball before
    anyone installs it would otherwise set, say, NODE_OPTIONS for every user whose
    `omg install` later verifies the same bytes (and gains them the trusted claim).
    An import's env is exactly this one, so imports lose nothing; an Arch package
    (its origin has a ``kind``) never had one.
    """
    from omg import providers

    env = (providers.get(name).recorded_env(version)
           if name in providers.TOOLS and "kind" not in origin else {})
    if env:
        origin["env"] = env
    else:
        origin.pop("env", None)


def _store_add(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    validate_component("name", params["name"])
    validate_component("version", params["version"])
    filename = _safe_filename(params.get("filename"))
    origin = _check_origin(dict(params.get("origin") or {}))
    if not is_trusted(peer, ctx.trusted_users):
        _tool_env(origin, params["name"], params["version"])
    origin["added_by"] = peer.user
    keep = bool(params.get("keep"))
    if keep and not may_write_profiles_of(peer, peer.user):
        raise PermissionDenied(f"uid {peer.uid} has no user name: it has no roots to keep "
                               "an addition in")
    with ctx.quota.reserve(peer.uid) as reservation:
        copy = copy_in(fds[0], ctx.incoming, filename, max_bytes=ctx.store.limits.max_bytes,
                       reservation=reservation)
        try:
            with ctx.write_lock:
                # The peer's own claim: the name and version it typed resolve for it
                # alone, unless it is one of the store's trusted users (store.claims).
                claim = Claim(ADDED, peer.user, trusted=is_trusted(peer, ctx.trusted_users))
                result = add_kept(ctx.store, str(ctx.store.layout.home), peer.user, keep,
                                  copy, params["name"],
                                  params["version"],
                                  references=params.get("references") or (), origin=origin,
                                  strip_top=params.get("strip_top"), claim=claim)
        finally:
            discard(copy)  # before the quota is given back
    return to_plain(result)


def _store_get(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    return ctx.store.get(check_name(params["name"])).to_index()


def _store_records(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    return [r.to_index() for r in ctx.store.records()]


def _store_find(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    return [r.to_index() for r in ctx.store.find(params["name"], params.get("version"))]


def _store_closure(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    return sorted(ctx.store.closure(check_name(n) for n in params["names"]))


def _store_verify(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    from omg import store_cases

    names = params.get("names")
    if names is not None:
        names = [check_name(n) for n in names]
    return to_plain(store_cases.verify(ctx.store, names))


# Garbage collection ------------------------------------------------------------


def _gc(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    """Collect garbage; with `older_than` (seconds), first delete every user's old generations."""
    if not may_gc(peer, ctx.gc_group):
        raise PermissionDenied(
            f"user {peer.user} may not collect garbage in the shared store",
            hint="gc needs root or membership of the [daemon] gc_group group"
                 + (f" ({ctx.gc_group})" if ctx.gc_group else ""))
    older_than = params.get("older_than")
    if older_than is not None and older_than < 0:
        raise UsageError("gc: older_than must be a number of seconds >= 0")
    with ctx.write_lock:
        result = backend(ctx, peer.user).gc(dry_run=bool(params.get("dry_run")),
                                            older_than=older_than)
    return to_plain(result)


METHODS = (
    Method("ping", _ping),
    Method("whoami", _whoami),
    Method("daemon.stats", _daemon_stats),
    Method("store.add", _store_add, {
        "name": ("str", True),
        "version": ("str", True),
        "references": ("list[str]?", False),
        "origin": ("map?", False),
        "filename": ("str?", False),  # only for format hints (.pkg.tar.*); never a path
        "strip_top": ("bool?", False),
        "keep": ("bool?", False),  # the peer's install root for it (omg import)
    }, fds=1),
    Method("store.get", _store_get, {"name": ("str", True)}),
    Method("store.records", _store_records),
    Method("store.find", _store_find, {"name": ("str", True), "version": ("str?", False)}),
    Method("store.closure", _store_closure, {"names": ("list[str]", True)}),
    Method("store.verify", _store_verify, {"names": ("list[str]?", False)}),
    Method("gc", _gc, {"dry_run": ("bool?", False), "older_than": ("float?", False)}),
)
