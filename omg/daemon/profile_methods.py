"""omgd methods for profiles and roots: ``profile.*``, ``roots.*`` and ``venv.*``
(invariant 7).

Each method acts in ``profiles/<owner>/`` or ``gcroots/<owner>/`` where the
owner is the peer's user name from SO_PEERCRED. An optional ``user``
parameter may only repeat that name (root alone may name another user, as an
administrator); anything else is `PermissionDenied` before any file is
touched. The work itself is the single-user use cases of `omg.profiles`, run
by the daemon on the daemon's store and index, so the generation records,
links and profile envs are written by the daemon alone. Directories are
created owned by the daemon's user and world-readable (0755): every user's
shell follows the links, nobody but omgd changes them.

Locking: `Context.write_lock` (one LMDB writer per process) is taken before
a profile's flock or the gc lock, never after, so the daemon's own threads
cannot deadlock; rollback and listing never touch the index and take no
process-wide lock, so they run in parallel.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from generations.links import real_dir, valid_user_name
from generations.roots import place_link
from omg.backends.local import LocalBackend
from omg.daemon.base import Context, Method, Params, backend, check_name, check_specs
from omg.daemon.peer import Peer, may_write_profiles_of
from store.errors import NotFound, PermissionDenied, UsageError
from store.results import to_plain

#: Names of a user's roots under ``gcroots/<user>/``: one path component.
ROOT_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,99}$")
#: ``gcroots/<user>/projects/`` belongs to project profiles (shims/project.py),
#: ``gcroots/<user>/venvs/`` to venvs (generations/venvroots.py), ``installs/`` to
#: what the user installed (generations/installroots.py).
RESERVED_ROOT_NAMES = frozenset({"projects", "venvs", "installs"})
MAX_COMMAND = 1000
#: Longest project path: its name must fit one file name (255 bytes) with room to spare.
MAX_PROJECT_PATH = 200


def owner_of(peer: Peer, params: Params, *, write: bool = True) -> str:
    """The user whose profiles a request touches: the peer's, never a stranger's."""
    owner = params.get("user") or peer.user
    if write and not may_write_profiles_of(peer, owner):
        if owner == peer.user:
            raise PermissionDenied(f"uid {peer.uid} has no user name: it has no profiles "
                                   "in the shared store")
        raise PermissionDenied(f"user {peer.user} may not change the profiles or roots of "
                               f"user {owner}",
                               hint="each user changes only profiles/<their user>/ and "
                                    "gcroots/<their user>/")
    if not valid_user_name(owner):
        raise UsageError(f"invalid user name {owner!r}")
    return owner


def _world_readable_dir(ctx: Context, rel: str) -> Path:
    """``OMG_HOME/rel``, made 0755 where missing (the user's shell follows its links);
    every component a real directory of the daemon's, never a symlink (`real_dir`)."""
    return Path(real_dir(str(ctx.store.layout.home), rel, 0o755))


def _backend(ctx: Context, owner: str, *, mirror: bool = True,
             create: bool = True) -> LocalBackend:
    """`owner`'s use cases (`omg.daemon.base.backend`), their profile directory made
    first unless it only reads (anyone may read, so a read leaves no directory)."""
    if create:
        _world_readable_dir(ctx, f"profiles/{owner}")
    return backend(ctx, owner, mirror=mirror)


def _profile(params: Params) -> str:
    from generations.profile import DEFAULT_PROFILE, validate_profile_name

    name = params.get("profile") or DEFAULT_PROFILE
    validate_profile_name(name)
    return str(name)


def _project(params: Params) -> Path | None:
    """A project profile's directory, as the client found it (never read or written here).

    The daemon only turns the path into the name of ``profiles/<owner>/projects/<name>``
    (every ``/`` becomes ``%``, so it cannot leave that directory); the version files
    in the project belong to the user, and the client writes them itself.
    """
    raw = params.get("project")
    if raw is None:
        return None
    if not raw.startswith("/") or "\0" in raw or len(raw) > MAX_PROJECT_PATH:
        raise UsageError(f"project must be an absolute path of at most {MAX_PROJECT_PATH} "
                         f"characters, got {raw[:80]!r}")
    return Path(raw)


# Profiles --------------------------------------------------------------------------

_USER = ("str?", False)
_PROFILE = ("str?", False)
_PROJECT = ("str?", False)


def _profile_use(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    """A new generation; versions the store lacks are installed by the daemon first."""
    owner = owner_of(peer, params)
    profile, project = _profile(params), _project(params)
    specs = check_specs("profile.use", params["specs"])
    command = str(params.get("command") or "")[:MAX_COMMAND]
    with ctx.write_lock:  # installs, builds envs and mirrors the generation in the index
        b = _backend(ctx, owner)
        try:
            # The project's version files are the user's: the client writes them.
            result = b.use(specs, profile=profile, project=project,
                           offline=bool(params.get("offline")), command=command,
                           write_version_files=False)
        finally:
            b.close()
    return to_plain(result)


def _profile_exec(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    """`omg exec`: the env of the specs, rooted for the peer's process (its pid from
    SO_PEERCRED; the command it becomes keeps the root until it exits)."""
    owner = owner_of(peer, params)
    specs = check_specs("profile.exec", params["specs"])
    with ctx.write_lock:  # installs and builds envs
        b = _backend(ctx, owner, create=False)
        try:
            result = b.exec_env(specs, pid=peer.pid, offline=bool(params.get("offline")))
        finally:
            b.close()
    return to_plain(result)


def _profile_uninstall(ctx: Context, peer: Peer, params: Params,
                       fds: list[int]) -> object:
    owner = owner_of(peer, params)
    specs = check_specs("profile.uninstall", params["specs"])
    with ctx.write_lock:
        result = _backend(ctx, owner).uninstall(specs, profile=_profile(params),
                                                project=_project(params))
    return to_plain(result)


def _profile_rollback(ctx: Context, peer: Peer, params: Params,
                      fds: list[int]) -> object:
    owner = owner_of(peer, params)
    b = _backend(ctx, owner, mirror=False)  # a rollback never writes the index
    return to_plain(b.rollback(profile=_profile(params), project=_project(params),
                               to=params.get("to")))


def _profile_generations(ctx: Context, peer: Peer, params: Params,
                         fds: list[int]) -> object:
    # Profiles are world-readable on disk; listing another user's is no secret.
    owner = owner_of(peer, params, write=False)
    b = _backend(ctx, owner, mirror=False, create=False)
    return to_plain(b.generations(profile=_profile(params), project=_project(params)))


def _profile_delete(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    owner = owner_of(peer, params)
    numbers = params.get("numbers") or []
    keep, older_than = params.get("keep"), params.get("older_than")
    with ctx.write_lock:  # drops the generations' rows from the index
        result = _backend(ctx, owner).delete_generations(
            numbers, profile=_profile(params), project=_project(params), keep=keep,
            older_than=older_than)
    return to_plain(result)


# Roots -------------------------------------------------------------------------------


def _root_name(name: str) -> str:
    if not ROOT_NAME_RE.match(name) or name in RESERVED_ROOT_NAMES:
        raise UsageError(f"invalid root name {name!r}: one component of letters, digits, "
                         "_ . @ + - (not projects, venvs or installs)")
    return name


def _roots_dir(ctx: Context, owner: str) -> Path:
    return ctx.store.layout.gcroots / owner


def _roots_add(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    owner = owner_of(peer, params)
    name = _root_name(params["name"])
    store_path = check_name(params["store_path"])
    layout = ctx.store.layout
    target = layout.store_path(store_path)
    directory = _roots_dir(ctx, owner)
    # Shared gc lock from "it exists" until the root is linked (invariant 3).
    with ctx.store.gc_guard():
        if not target.is_dir() or target.is_symlink():
            raise NotFound(f"no store path {store_path}")
        _world_readable_dir(ctx, f"gcroots/{owner}")
        link = place_link(str(directory), name, str(target))
    return {"user": owner, "name": name, "store_path": store_path, "root": link}


def _roots_remove(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    owner = owner_of(peer, params)
    name = _root_name(params["name"])
    link = _roots_dir(ctx, owner) / name
    if not link.is_symlink():
        raise NotFound(f"user {owner} has no root named {name!r}")
    link.unlink()
    return {"user": owner, "name": name}


def _roots_list(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    from generations.roots import user_roots

    owner = owner_of(peer, params, write=False)
    return [r._asdict() for r in user_roots(str(ctx.store.layout.home), owner)]


# Venvs -------------------------------------------------------------------------------


def _venv_path(params: Params) -> str:
    from generations.venvroots import check_venv_path

    return check_venv_path(params["path"])


def _venv_root(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    """Root the interpreter of a venv the peer made (omg/venvs.py): the link is checked
    to land in the store under the gc lock, and the venv must be the peer's own."""
    owner = owner_of(peer, params)
    path = _venv_path(params)
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise NotFound(f"no venv at {path}: {exc.strerror}") from None
    if st.st_uid != peer.uid and peer.uid != 0:
        raise PermissionDenied(f"{path} belongs to uid {st.st_uid}, not to {peer.user}")
    _world_readable_dir(ctx, f"gcroots/{owner}")
    store_path = _backend(ctx, owner, create=False).venv_root(path)
    return {"user": owner, "path": path, "store_path": store_path}


def _venv_unroot(ctx: Context, peer: Peer, params: Params, fds: list[int]) -> object:
    owner = owner_of(peer, params)
    path = _venv_path(params)
    _backend(ctx, owner, create=False).venv_root(path, add=False)
    return {"user": owner, "path": path}


_OWNED = {"profile": _PROFILE, "user": _USER, "project": _PROJECT}

METHODS = (
    Method("profile.use", _profile_use, {
        "specs": ("list[str]", True), **_OWNED, "command": ("str?", False),
        "offline": ("bool?", False)}),
    Method("profile.exec", _profile_exec, {"specs": ("list[str]", True),
                                           "offline": ("bool?", False), "user": _USER}),
    Method("profile.uninstall", _profile_uninstall, {"specs": ("list[str]", True), **_OWNED}),
    Method("profile.rollback", _profile_rollback, {**_OWNED, "to": ("int?", False)}),
    Method("profile.generations", _profile_generations, _OWNED),
    Method("profile.delete", _profile_delete, {
        **_OWNED, "numbers": ("list[int]?", False), "keep": ("int?", False),
        "older_than": ("float?", False)}),
    Method("roots.add", _roots_add, {"name": ("str", True), "store_path": ("str", True),
                                     "user": _USER}),
    Method("roots.remove", _roots_remove, {"name": ("str", True), "user": _USER}),
    Method("roots.list", _roots_list, {"user": _USER}),
    Method("venv.root", _venv_root, {"path": ("str", True), "user": _USER}),
    Method("venv.unroot", _venv_unroot, {"path": ("str", True), "user": _USER}),
)
