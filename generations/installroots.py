"""What a user installed, as gc roots: ``gcroots/<user>/installs/<name>@<version>``.

`omg install` links ``installs/<tool>@<version>`` to the store path it installed
(or found), so `omg gc` keeps it whatever the profiles say, until
`omg uninstall TOOL[@VERSION]` removes the link; the AUR's installs use the same
names (package@version). One root per name and version: installing the same
version again (a rebuilt store path) moves the link. A root is a symlink like
every other under ``gcroots/`` (`generations.gc.find_roots` follows it), so this
module only names, writes, lists and removes them.

The writer holds the gc lock shared from choosing the store path until the link
exists (invariant 3); omgd writes its peer's roots, under ``gcroots/<peer>/``, so
no user can add or drop another's. Store paths installed before these roots
existed have none: generations alone keep them, as before.
"""

from __future__ import annotations

import os

from generations.links import real_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

INSTALLS_DIR = "installs"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-")
#: Longest root name: one file name (255 bytes), with room for the temporary link's.
MAX_ROOT_NAME = 200


class InstallRoot:
    """One root: what was installed and the store path it holds ('' if none now)."""

    __slots__ = ("name", "store_path", "version")

    def __init__(self, name: str, version: str, store_path: str) -> None:
        self.name, self.version, self.store_path = name, version, store_path

    def __repr__(self) -> str:
        return f"InstallRoot({self.name!r}, {self.version!r}, {self.store_path!r})"


def root_name(name: str, version: str) -> str:
    """``<name>@<version>``, checked: one path component, never hidden."""
    text = f"{name}@{version}"
    if (not name or name[0] == "." or not set(name) <= _NAME_CHARS or not version
            or version[0] == "." or not set(version) <= _NAME_CHARS | {"~", ":"}
            or len(text.encode()) > MAX_ROOT_NAME):
        from store.errors import UsageError

        raise UsageError(f"cannot keep {text[:80]!r} installed: the name or version holds "
                         "characters a root's file name cannot")
    return text


def roots_dir(home: str, user: str) -> str:
    return f"{home}/gcroots/{user}/{INSTALLS_DIR}"


def add(home: str, user: str, name: str, version: str, store_path: str) -> str:
    """Link ``gcroots/<user>/installs/<name>@<version>`` to `store_path` (a store path
    name); idempotent. The caller holds the gc lock shared and has seen the path."""
    from generations.roots import place_link

    link_name = root_name(name, version)
    directory = real_dir(home, f"gcroots/{user}/{INSTALLS_DIR}")  # never via a symlink
    return place_link(directory, link_name, f"{home}/store/{store_path}")


def rooted(home: str, user: str) -> list[InstallRoot]:
    """`user`'s install roots, by name and version (dangling ones included)."""
    from generations.roots import links_in

    store = f"{home}/store/"
    out = []
    for entry, target in links_in(roots_dir(home, user)):
        name, sep, version = entry.partition("@")
        if not sep:
            continue
        held = target[len(store):] if target.startswith(store) else ""
        out.append(InstallRoot(name, version, held if os.path.isdir(target) else ""))
    return out


def remove(home: str, user: str, wanted: Callable[[InstallRoot], bool]) -> list[InstallRoot]:
    """Drop `user`'s roots `wanted` chooses; those removed. No lock: a root gone only
    makes its path collectable, which is what was asked."""
    gone = []
    for root in rooted(home, user):
        if not wanted(root):
            continue
        try:
            os.unlink(f"{roots_dir(home, user)}/{root.name}@{root.version}")
        except FileNotFoundError:
            continue  # removed meanwhile by another uninstall: not ours to report
        gone.append(root)
    return gone
