"""Python venvs as gc roots: ``gcroots/<user>/venvs/<name>`` (invariant 3).

A venv made from a store interpreter holds ``bin/python``, a symlink to that
interpreter's store path (``python3 -m venv`` links, it does not copy). Its
root is an *indirect* root, as Nix's ``gcroots/auto``: a symlink to the venv's
``bin/python``, named after the venv's absolute path with every ``/`` replaced
by ``%`` (as project profiles are, shims/project.py). `generations.gc.find_roots`
follows every link under ``gcroots/`` to the store path it lands in, so:

- the venv's interpreter is live as long as the venv is there;
- a venv deleted by hand leaves a dangling link, which roots nothing;
- a venv recreated in place with another interpreter roots the new one.

The link never points into the store itself, so nothing here decides which
interpreter is live: the venv does. Pure path work and a few syscalls, no
knowledge of Python: omg/venvs.py makes the venvs.
"""

from __future__ import annotations

import os

from generations.links import real_dir

VENVS_DIR = "venvs"
#: The venv's interpreter link, relative to the venv: what the root points at.
PYTHON_LINK = "bin/python"
#: Longest venv path: its root's name must fit one file name (255 bytes), with room.
MAX_VENV_PATH = 200


def root_name(venv_dir: str) -> str:
    """The root's file name for the venv at the absolute, normalised `venv_dir`."""
    return venv_dir.replace("/", "%")


def check_venv_path(venv_dir: str) -> str:
    """`venv_dir` if it can have a root: absolute, normalised, not too long."""
    from store.errors import UsageError

    if (not venv_dir.startswith("/") or "\0" in venv_dir or "\n" in venv_dir
            or os.path.normpath(venv_dir) != venv_dir or venv_dir == "/"
            or len(venv_dir.encode()) > MAX_VENV_PATH):
        raise UsageError(f"a venv needs an absolute, normalised path of at most "
                         f"{MAX_VENV_PATH} bytes, got {venv_dir[:80]!r}")
    return venv_dir


def roots_dir(home: str, user: str) -> str:
    return f"{home}/gcroots/{user}/{VENVS_DIR}"


def add_root(home: str, user: str, venv_dir: str, mode: int = 0o755) -> str:
    """Link ``gcroots/<user>/venvs/<name>`` to `venv_dir`'s ``bin/python`` (idempotent).

    The caller holds the gc lock shared (or has checked, as omgd does, that the link
    lands in the store): the interpreter must not go between its choice and this.
    """
    check_venv_path(venv_dir)
    from generations.roots import place_link

    directory = real_dir(home, f"gcroots/{user}/{VENVS_DIR}", mode)  # never via a symlink
    return place_link(directory, root_name(venv_dir), f"{venv_dir}/{PYTHON_LINK}")


def remove_root(home: str, user: str, venv_dir: str) -> bool:
    """Drop the venv's root; False if it had none."""
    link = f"{roots_dir(home, user)}/{root_name(check_venv_path(venv_dir))}"
    try:
        os.unlink(link)
    except FileNotFoundError:
        return False
    return True


def rooted_venvs(home: str, user: str) -> list[str]:
    """The venv directories `user` has roots for (those deleted by hand included)."""
    from generations.roots import links_in

    out = []
    suffix = "/" + PYTHON_LINK
    for entry, target in links_in(roots_dir(home, user)):
        if target.endswith(suffix) and root_name(target[:-len(suffix)]) == entry:
            out.append(target[:-len(suffix)])
    return out


def interpreter_of(store_dir: str, venv_dir: str) -> str | None:
    """The store path name `venv_dir`'s interpreter lives in, or None (gone, or not
    from this store)."""
    real = os.path.realpath(f"{venv_dir}/{PYTHON_LINK}")
    store_real = os.path.realpath(store_dir)
    if not real.startswith(store_real + "/") or not os.path.exists(real):
        return None
    return real[len(store_real) + 1:].split("/", 1)[0]
