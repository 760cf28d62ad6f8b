"""Writing one root link, atomically: the one way every kind of root is placed.

Install roots (generations/installroots.py), venvs' roots (generations/venvroots.py),
projects' roots (shims/project.py) and omgd's ``roots.add`` all replace
``<directory>/<name>`` with a symlink the same way: a temporary link renamed over it,
so gc never sees a root half-written or briefly missing; and read them back the same
way (`links_in`).
"""

from __future__ import annotations

import os


def links_in(directory: str) -> list[tuple[str, str]]:
    """(name, target) of each root link in `directory`, sorted by name: no hidden
    entries (temporary links), nothing that is not a link, [] for no directory."""
    try:
        entries = sorted(os.listdir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    out = []
    for entry in entries:
        if entry.startswith("."):
            continue
        try:
            out.append((entry, os.readlink(f"{directory}/{entry}")))
        except OSError:
            continue
    return out


def place_link(directory: str, name: str, target: str) -> str:
    """``directory/name`` -> `target`, replacing what was there; the link's path.

    The caller made `directory` (`generations.links.real_dir`: never through a
    symlink) and holds the gc lock shared if `target` must stay in the store.
    """
    link = f"{directory}/{name}"
    if os.path.islink(link) and os.readlink(link) == target:
        return link
    tmp = f"{directory}/.{name[:120]}.tmp-{os.getpid()}-{os.urandom(4).hex()}"
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:  # e.g. a directory in the way: no stray link left behind
        os.unlink(tmp)
        raise
    return link
