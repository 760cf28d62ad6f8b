"""Package names and versions: what is accepted from users and from the AUR (pure).

A name that could reach a shell, a URL path or a file name is checked here first:
Arch's own rule (lower-case letters, digits, ``@ . _ + -``, not starting with ``-``
or ``.``), so shell metacharacters and slashes never get further than one error line.
"""

from __future__ import annotations

import re

from store.errors import UsageError

PKGNAME_RE = re.compile(r"^[a-z0-9@_+][a-z0-9@._+-]{0,126}$")
DEP_SPLIT_RE = re.compile(r"(<=|>=|=|<|>)")


def check_name(name: str) -> str:
    if not PKGNAME_RE.match(name):
        raise UsageError(f"invalid package name {name!r}: use a-z 0-9 @ . _ + - "
                         "(no slash, spaces or shell characters)")
    return name


def split_target(target: str) -> tuple[str | None, str]:
    """`aur/foo` -> ("aur", "foo"); `core/foo` -> ("core", "foo"); `foo` -> (None, "foo")."""
    if target.count("/") == 1:
        repo, name = target.split("/")
        if re.match(r"^[A-Za-z0-9_-]+$", repo):
            return repo, check_name(name)
    return None, check_name(target)


def dep_name(dep: str) -> str:
    """The package name of a dependency string: `foo>=1.2: why` -> `foo`."""
    dep = dep.split(":", 1)[0] if ": " in dep else dep
    return DEP_SPLIT_RE.split(dep.strip(), maxsplit=1)[0].strip()


def store_version(version: str) -> str:
    """Store path versions cannot hold `:`: the epoch separator becomes `_` (1:2.0-1 -> 1_2.0-1)."""
    return version.replace(":", "_")
