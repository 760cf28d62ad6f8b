"""Use cases: `omg remove` (pacman's own list first, then -R or -Rs) and the package cache.

The list is pacman's (`-R --print`), so what is shown is exactly what -R removes,
dependencies included with --recursive (-Rs: those no other package needs and that
were installed as dependencies). The cache is cleaned with pacman -Sc semantics: the
files of packages not installed, and unused sync databases; pacman asks itself.
"""

from __future__ import annotations

from omg.arch import pacman
from omg.arch.names import check_name
from omg.arch.settings import ArchSettings
from store.errors import NotFound


def _flags(recursive: bool) -> str:
    return "-Rs" if recursive else "-R"


def plan(arch: ArchSettings, names: list[str], *, recursive: bool = False
         ) -> list[tuple[str, str]]:
    """(name, version) of every package the removal takes, as pacman computes it."""
    for n in names:
        check_name(n)
    out = pacman.output(arch, [_flags(recursive), "--print", "--print-format", "%n %v",
                               *names], what=_flags(recursive))
    rows = [tuple(line.split(" ", 1)) for line in out.splitlines() if " " in line]
    if not rows:
        raise NotFound(f"nothing to remove for {' '.join(names)}")
    return [(r[0], r[1]) for r in rows]


def remove(arch: ArchSettings, names: list[str], *, recursive: bool = False) -> None:
    """Remove (asked already: after `plan` was shown)."""
    for n in names:
        check_name(n)
    pacman.run(arch, [_flags(recursive), "--noconfirm", *names], what=_flags(recursive))


def clean_cache(arch: ArchSettings, *, noconfirm: bool = False) -> None:
    pacman.run(arch, ["-Sc", *(["--noconfirm"] if noconfirm else [])], what="-Sc")
