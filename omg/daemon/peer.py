"""Who is on the other end of a connection, and what may they do (invariant 7).

The kernel tells us the peer's uid, gid and pid (SO_PEERCRED) when it
connected; nothing the client says about itself is trusted. The policy
functions are pure (user and group databases are passed in) so they are
tested without real users.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_CRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


@dataclass(frozen=True)
class Peer:
    pid: int
    uid: int
    gid: int
    user: str

    def to_wire(self) -> dict[str, object]:
        return {"pid": self.pid, "uid": self.uid, "gid": self.gid, "user": self.user}


def user_name(uid: int, lookup: Callable[[int], str] | None = None) -> str:
    """The login name of `uid`, or the number as text for a uid without one."""
    if lookup is None:
        import pwd

        def lookup(u: int) -> str:
            return pwd.getpwuid(u).pw_name
    try:
        return lookup(uid)
    except KeyError:
        return str(uid)


def peer_of(sock: socket.socket, lookup: Callable[[int], str] | None = None) -> Peer:
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size)
    pid, uid, gid = _CRED.unpack(raw)
    return Peer(pid, uid, gid, user_name(uid, lookup))


def may_write_profiles_of(peer: Peer, owner: str) -> bool:
    """Only root, or the user whose ``profiles/<owner>/`` it is."""
    return peer.uid == 0 or (peer.user == owner and not owner.isdigit() and owner != "")


def is_trusted(peer: Peer, trusted_users: Iterable[str]) -> bool:
    """Root, or a user named in ``[daemon] trusted_users``: their additions to the
    store resolve by name for every user (docs/shared-store.md, "Trust")."""
    return peer.uid == 0 or (peer.user in set(trusted_users) and not peer.user.isdigit())


@dataclass(frozen=True)
class Group:
    gid: int
    members: tuple[str, ...]


def may_gc(peer: Peer, gc_group: str | None,
           group_lookup: Callable[[str], Group] | None = None) -> bool:
    """Root always; others only as members of ``[daemon] gc_group`` (primary or listed)."""
    if peer.uid == 0:
        return True
    if not gc_group:
        return False
    if group_lookup is None:
        import grp

        def group_lookup(name: str) -> Group:
            g = grp.getgrnam(name)
            return Group(g.gr_gid, tuple(g.gr_mem))
    try:
        group = group_lookup(gc_group)
    except KeyError:
        return False
    return peer.gid == group.gid or peer.user in group.members
