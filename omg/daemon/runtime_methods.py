"""omgd methods for runtimes: ``runtime.install``, ``.releases``, ``.outdated`` (invariants 6, 7).

The daemon resolves, downloads and verifies with its own settings (its
mirrors, keyrings and download cache), never a client's: a client names
``TOOL@SPEC`` and nothing else, so it cannot make the daemon fetch from a
place of its choosing or register content under a hash it chose. Any user
may install (like Nix's allowed users): an installed runtime is shared, and
gc frees it once no root reaches it.
"""

from __future__ import annotations

from omg.daemon.base import Context, Method, Params, backend, check_specs
from omg.daemon.peer import Peer
from store.errors import PermissionDenied, UsageError
from store.results import to_plain

#: Most TOOL@VERSION one runtime.outdated may ask about (a store rarely holds 100).
MAX_INSTALLED = 1024
#: Most platforms one runtime.lock may ask for (there are four).
MAX_PLATFORMS = 8


def _runtime_install(ctx: Context, peer: Peer, params: Params,
                     fds: list[int]) -> object:
    specs = check_specs("runtime.install", params["specs"])
    # One LMDB writer per process (see Context.write_lock); downloads happen inside it,
    # so a second install waits for the first rather than fetching the same file twice.
    with ctx.write_lock:
        results = backend(ctx, peer.user).install(specs, offline=bool(params.get("offline")),
                                                  refresh=bool(params.get("refresh")))
    return to_plain(results)


def _runtime_releases(ctx: Context, peer: Peer, params: Params,
                      fds: list[int]) -> object:
    """What the daemon's mirror offers (what `runtime.install` can fetch), newest first."""
    with ctx.write_lock:  # the upstream index is cached in LMDB
        found = backend(ctx, peer.user).releases(params["tool"],
                                                 offline=bool(params.get("offline")),
                                                 refresh=bool(params.get("refresh")))
    return to_plain(found)


def _runtime_lock(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    """Exact versions and every platform's artifacts for the client's `omg.lock`."""
    from omg.lock_cases import check_platform

    specs = check_specs("runtime.lock", params["specs"])
    platforms = params.get("platforms") or []
    if len(platforms) > MAX_PLATFORMS:
        raise UsageError(f"runtime.lock takes at most {MAX_PLATFORMS} platforms")
    for p in platforms:
        check_platform(p)
    with ctx.write_lock:  # the upstream indexes are cached in LMDB
        tools = backend(ctx, peer.user).lock(specs, platforms=platforms,
                                             offline=bool(params.get("offline")),
                                             refresh=bool(params.get("refresh")))
    return to_plain(tools)


def _runtime_outdated(ctx: Context, peer: Peer, params: Params,
                      fds: list[int]) -> object:
    """Which of the client's TOOL@VERSION have a newer patch or release upstream."""
    from omg import install

    if len(params["installed"]) > MAX_INSTALLED:
        raise UsageError(f"runtime.outdated takes at most {MAX_INSTALLED} TOOL@VERSION")
    pairs = []
    for text in params["installed"]:
        tool, sep, version = text.partition("@")
        if not (sep and tool and version):
            raise UsageError(f"runtime.outdated: {text!r} is not TOOL@VERSION")
        pairs.append((tool, version))
    with ctx.write_lock:
        rows = install.outdated(ctx.settings, offline=bool(params.get("offline")),
                                installed=lambda: pairs, index=ctx.store.index)
    return to_plain(rows)


def _cache_pull(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    """`omg cache pull` for a client: only from one of omgd's own substituters and with
    omgd's own trusted keys, so a client can neither add a trusted key nor make omgd
    fetch from a place of its choosing (docs/binary-cache.md, "Substitution and trust")."""
    from omg.config import substituters

    url = params["url"]
    if url not in substituters(ctx.settings)[0]:
        raise PermissionDenied(f"{url}: not one of omgd's substituters",
                               hint="omgd pulls only from the caches its own [cache] "
                                    "substituters name; ask its administrator")
    items = check_specs("cache.pull", params["items"])
    with ctx.write_lock:
        result = backend(ctx, peer.user).cache_pull(url, items)
    return to_plain(result)


def _cache_substitute(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    """Items asked of omgd's own substituters (an AUR build about to start): the client
    names what, never where from nor whose key to trust."""
    items = check_specs("cache.substitute", params["items"])
    with ctx.write_lock:
        result = backend(ctx, peer.user).cache_substitute(items,
                                                          keep=params.get("keep") is True)
    return to_plain(result)


METHODS = (
    Method("runtime.install", _runtime_install, {
        "specs": ("list[str]", True), "offline": ("bool?", False), "refresh": ("bool?", False)}),
    Method("runtime.releases", _runtime_releases, {
        "tool": ("str", True), "offline": ("bool?", False), "refresh": ("bool?", False)}),
    Method("runtime.lock", _runtime_lock, {
        "specs": ("list[str]", True), "platforms": ("list[str]?", False),
        "offline": ("bool?", False), "refresh": ("bool?", False)}),
    Method("runtime.outdated", _runtime_outdated, {
        "installed": ("list[str]", True), "offline": ("bool?", False)}),
    Method("cache.pull", _cache_pull, {"url": ("str", True), "items": ("list[str]", True)}),
    Method("cache.substitute", _cache_substitute, {"items": ("list[str]", True),
                                                   "keep": ("bool?", False)}),
)
