"""Provenance: who vouches for a store path, and so for whom its name resolves (invariant 7).

A store path is content, and content is safe to share: two users who hold the same
bytes hold the same store path. What is not safe to share is a *name*. ``omg use
node@22`` picks a store path by the package name and version in its record, and a
name and a version typed by a client (``omg store add t.tgz --name node --version
22.11.0``) say nothing about where the bytes came from. So every way into the store
leaves a claim, and resolving by name looks only at the paths someone the caller
trusts has claimed:

- a *trusted* claim (a provider's download verified against its upstream checksum,
  a trusted binary cache) lets every user resolve the path by name;
- a *user* claim (``omg store add``, an import, a package that user built) lets that
  user alone resolve it; for everyone else the path is only content, reachable by
  its hash.

On disk, beside the store paths (the files are the truth; nothing here is in LMDB,
so deleting ``db/`` loses no claim)::

    store/.claims/trusted/<store path name>         a trusted claim
    store/.claims/users/<user>/<store path name>    that user's claim

Each file is one small JSON record (format, kind, who asked, when, and what vouches:
URL and checksum, cache, ...). The first claim of a scope is kept; later claims of
the same scope add nothing, since they grant nothing more. A claim outlives nothing:
garbage collection removes it with its path, and orphans (a path collected by a run
killed before it removed the claims) are removed by the next sweep. Asking "may
this user resolve that path" is one or two stat(2) calls, cheap enough for the hot
path of ``omg use``; so only ``os`` is imported at module level.

In the shared mode only omgd (or root) writes ``store/``: a user's claim is made by
the daemon for the peer it knows by SO_PEERCRED, never for a name the client sends.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from store.layout import Layout

CLAIM_FORMAT = 1
CLAIMS_DIR = ".claims"
TRUSTED_DIR = "trusted"
USERS_DIR = "users"

#: A provider's artifact verified against upstream's checksum (and signature).
UPSTREAM = "upstream"
#: Substituted from a binary cache whose signing key the store trusts.
CACHE = "cache"
#: ``omg store add`` of an archive or directory.
ADDED = "add"
#: Built on this machine from a recipe the user reviewed (an AUR package).
BUILT = "build"
#: Kinds every user may resolve by name; every other kind is its user's alone.
TRUSTED_KINDS = frozenset({UPSTREAM, CACHE})
#: No claim at all: a path never resolved by name (a profile env is found by its plan).
UNCLAIMED = "none"


class Claim:
    """One statement "this path is NAME-VERSION, because ...", made for `user`.

    `trusted` (default: the kind is in `TRUSTED_KINDS`) puts it in the scope every
    user resolves; a store's trusted users (root, ``[daemon] trusted_users``) make
    trusted additions, as Nix's trusted users may import unsigned paths.
    """

    __slots__ = ("detail", "kind", "trusted", "user")

    def __init__(self, kind: str, user: str, detail: Mapping[str, object] | None = None, *,
                 trusted: bool | None = None) -> None:
        self.trusted = kind in TRUSTED_KINDS if trusted is None else trusted
        if not self.trusted and kind != UNCLAIMED and not valid_user(user):
            raise ValueError(f"a {kind!r} claim needs a user name, got {user!r}")
        self.kind = kind
        self.user = user
        self.detail = dict(detail or {})

    def __repr__(self) -> str:
        return f"Claim({self.kind!r}, {self.user!r}, trusted={self.trusted})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Claim) and (
            self.kind, self.user, self.detail, self.trusted) == (
            other.kind, other.user, other.detail, other.trusted)

    def __hash__(self) -> int:
        return hash((self.kind, self.user, self.trusted))


def process_user() -> str:
    """The login name of this process's user (its uid as text if it has none)."""
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def valid_user(user: str) -> bool:
    """One path component, not hidden: the same rule as ``profiles/<user>/``."""
    return bool(user) and "/" not in user and "\0" not in user and not user.startswith(".")


def claims_dir(store_dir: str) -> str:
    return store_dir + "/" + CLAIMS_DIR


def _file(store_dir: str, name: str, user: str | None) -> str:
    """Where the claim of scope `user` (None: trusted) on `name` lives."""
    if user is None:
        return f"{store_dir}/{CLAIMS_DIR}/{TRUSTED_DIR}/{name}"
    return f"{store_dir}/{CLAIMS_DIR}/{USERS_DIR}/{user}/{name}"


def resolvable(store_dir: str, name: str, user: str | None) -> bool:
    """May `user` resolve store path `name` by its name? (None: trusted claims only.)"""
    if os.path.exists(_file(store_dir, name, None)):
        return True
    return user is not None and valid_user(user) and os.path.exists(
        _file(store_dir, name, user))


def record(layout: Layout, name: str, claim: Claim, *, now: float) -> bool:
    """Write `claim` on store path `name` unless its scope has one; True if written.

    Written whole under a temporary name, then link(2)ed into place: link never
    replaces, so of two concurrent claims of one scope exactly one lands, and a
    reader never sees half a file.
    """
    import json

    from store.fsutil import write_all

    scope = None if claim.trusted else claim.user
    final = _file(str(layout.store), name, scope)
    if os.path.exists(final):
        return False
    directory = os.path.dirname(final)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    data = {"format": CLAIM_FORMAT, "store_path": name, "kind": claim.kind,
            "user": claim.user, "time": now, "detail": claim.detail}
    tmp = f"{directory}/.{name}.new-{os.getpid()}-{os.urandom(6).hex()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
    try:
        try:
            write_all(fd, json.dumps(data, sort_keys=True).encode() + b"\n")
            os.fchmod(fd, 0o444)  # world-readable whatever the umask: store info reads it
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, final)
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True


def read(layout: Layout, name: str) -> list[dict[str, object]]:
    """Every claim on `name`, trusted first, as their JSON records (for `store info`).

    A damaged file still grants what its place grants, so it is listed as such.
    """
    import json

    store_dir = str(layout.store)
    found: list[tuple[str | None, str]] = [(None, _file(store_dir, name, None))]
    users_dir = f"{claims_dir(store_dir)}/{USERS_DIR}"
    try:  # noqa: SIM105 (os only: claims are read on the hot path)
        found += [(u, _file(store_dir, name, u)) for u in sorted(os.listdir(users_dir))]
    except FileNotFoundError:
        pass
    out: list[dict[str, object]] = []
    for user, path in found:
        try:
            with open(path, "rb") as f:
                raw = f.read(1 << 16)
        except (FileNotFoundError, NotADirectoryError):
            continue
        try:
            loaded = json.loads(raw)
            if not isinstance(loaded, dict):
                raise ValueError
            data: dict[str, object] = loaded
        except ValueError:
            data = {"kind": "damaged"}
        data["scope"] = "trusted" if user is None else "user"
        if user is not None:
            data["user"] = user
        out.append(data)
    return out


def forget(layout: Layout, on_disk: Iterable[str]) -> int:
    """Remove every claim whose store path is not in `on_disk`; how many were removed.

    Called by the sweep under the exclusive gc lock, once the dead paths are gone:
    `on_disk` is every store path still there, so a live path never loses a claim,
    and claims a killed run left behind (and temporary files of a killed `record`,
    which runs under the shared gc lock) go too.
    """
    live = set(on_disk)
    root = claims_dir(str(layout.store))
    directories = [f"{root}/{TRUSTED_DIR}"]
    try:  # noqa: SIM105 (os only: claims are read on the hot path)
        directories += [f"{root}/{USERS_DIR}/{u}" for u in os.listdir(f"{root}/{USERS_DIR}")]
    except FileNotFoundError:
        pass
    removed = 0
    for directory in directories:
        try:
            entries = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if entry not in live:
                try:
                    os.unlink(f"{directory}/{entry}")
                    removed += 1
                except (FileNotFoundError, IsADirectoryError):
                    pass
    return removed
