"""Writing one root link, atomically: the one way every kind of root is placed.

Install roots (generations/installroots.py), venvs' roots (generations/venvroots.py),
projects' roots (shims/project.py) and omgd's ``roots.add`` all replace
``<directory>/<name>`` with a symlink the same way: a temporary link renamed over it,
so gc never sees a root half-written or briefly missing; and read them back the same
way (`links_in`), and list a user's (`user_roots`: ``omg store roots``).
"""

from __future__ import annotations

import os

from store.results import Result


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


class GcRoot(Result):
    """One of a user's roots under ``gcroots/<user>/``: its `name` there (``keep``,
    ``installs/node@22.2.0``, ``venvs/...``), the store path it links to directly
    (`store_path`, "" when it links elsewhere, a venv or a project, or dangles) and
    the link's `target` as written."""

    name: str
    store_path: str
    target: str


def user_roots(home: str, user: str) -> list[GcRoot]:
    """`user`'s roots: the links omgd's ``roots.add`` placed first, by name, then those
    of each kind's directory (``installs/``, ``projects/``, ``venvs/``), by name."""
    base = f"{home}/gcroots/{user}"
    try:
        kinds = sorted(e for e in os.listdir(base) if not e.startswith(".")
                       and not os.path.islink(f"{base}/{e}") and os.path.isdir(f"{base}/{e}"))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = [_root(home, name, target) for name, target in links_in(base)]
    for kind in kinds:
        found += [_root(home, f"{kind}/{name}", target)
                  for name, target in links_in(f"{base}/{kind}")]
    return found


def _root(home: str, name: str, target: str) -> GcRoot:
    from store.layout import store_hash_of

    store = f"{home}/store/"
    held = target[len(store):].rstrip("/") if target.startswith(store) else ""
    ok = held and "/" not in held and store_hash_of(held) and os.path.isdir(store + held)
    return GcRoot(name, held if ok else "", target)
