"""Use cases of the full upgrade: `omg update` and which AUR packages are outdated.

`update`: with `system`, `pacman -Syu` first (the databases and the repository
packages together: a sync without the upgrade is a partial upgrade, which Arch does
not support, so without `system` the system databases are left alone and the AUR is
asked afresh); then the outdated AUR packages are rebuilt (those in the store into the
store, the foreign local ones also with `pacman -U`, as before), with review. Devel packages are
outdated only by their sources (omg.arch.devel, with `devel`). The result says what
was upgraded, rebuilt and left; the runtimes are listed by the caller (the Backend).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from omg.arch import aur, devel, pacman
from omg.arch.settings import ArchSettings, from_settings
from store.local import LocalStore

if TYPE_CHECKING:
    from omg.arch.install import InstallResult
    from omg.config import Settings


@dataclass
class Outdated:
    name: str
    current: str
    latest: str  # the AUR's version, or `git <commit>` for a devel package
    where: str  # "store" or "system"


@dataclass
class Left:
    """An AUR package `update` did not rebuild, and why."""

    name: str
    current: str
    where: str
    why: str


@dataclass
class Upgraded:
    name: str
    old: str | None  # None: newly installed (a new dependency)
    new: str


def _installed_aur(settings: Settings, arch: ArchSettings, store: LocalStore
                   ) -> dict[tuple[str, str], tuple[str, str]]:
    """(name, where) -> (newest version, pkgbase): store paths of AUR origin this user
    may resolve, and foreign local packages."""
    from omg.arch.alpm import Alpm, vercmp

    current: dict[tuple[str, str], tuple[str, str]] = {}
    for rec in store.records():
        origin = rec.origin or {}
        if origin.get("kind") == "aur":
            key = (rec.name, "store")
            v = str(origin.get("version", rec.version))
            if key not in current or vercmp(v, current[key][0]) > 0:
                current[key] = (v, str(origin.get("pkgbase") or rec.name))
    for pkg in Alpm(arch).foreign():
        current[(pkg.name, "system")] = (pkg.version, str(pkg.base or pkg.name))
    return current


def check(settings: Settings, arch: ArchSettings | None = None, *, devel_check: bool = False
          ) -> tuple[list[Outdated], list[Left]]:
    """Outdated AUR packages, and those left unchecked (with why)."""
    from omg.arch.alpm import vercmp

    arch = arch or from_settings(settings)
    store = LocalStore(settings.layout, limits=settings.limits)
    current = _installed_aur(settings, arch, store)
    tracked = devel.tracked(arch.home)
    moved = devel.changed(arch.home, sorted({b for _, b in current.values() if b in tracked})) \
        if devel_check else {}
    plain = sorted({n for (n, _), (_, b) in current.items() if b not in tracked})
    infos = aur.info(arch.aur_url, plain, index=store.index, ttl=0) if plain else {}
    out: list[Outdated] = []
    left: list[Left] = []
    for (name, where), (version, base) in sorted(current.items()):
        if base in tracked:
            if base in moved:
                out.append(Outdated(name, version, f"git {moved[base][0][:12]}", where))
            elif not devel_check:
                left.append(Left(name, version, where, "devel package: --devel checks "
                                 "its sources"))
            continue
        info = infos.get(name)
        if info is None:
            left.append(Left(name, version, where, "not in the AUR"))
        elif vercmp(str(info["Version"]), version) > 0:
            out.append(Outdated(name, version, str(info["Version"]), where))
    return out, left


def outdated(settings: Settings, arch: ArchSettings | None = None, *,
             devel_check: bool = False) -> list[Outdated]:
    """AUR packages (store paths of AUR origin, foreign local packages) the AUR has newer."""
    return check(settings, arch, devel_check=devel_check)[0]


@dataclass
class UpdateResult:
    synced: bool = False  # pacman -Syu ran
    repo_upgraded: list[Upgraded] = field(default_factory=list)
    outdated: list[Outdated] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)
    builds: list[InstallResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


NOT_SYNCED = ("the repository databases were not synced: that is `pacman -Syu`, with "
              "--system (a sync without the upgrade is a partial upgrade); the AUR was "
              "asked afresh")


def _local_versions(arch: ArchSettings) -> dict[str, str]:
    from omg.arch.alpm import Alpm

    return {p.name: p.version for p in Alpm(arch).localdb.pkgcache}


def system_upgrade(arch: ArchSettings, *, noconfirm: bool) -> list[Upgraded]:
    """`pacman -Syu`; what changed in the local database."""
    before = _local_versions(arch)
    pacman.run(arch, ["-Syu", *(["--noconfirm"] if noconfirm else [])], what="-Syu")
    after = _local_versions(arch)
    return [Upgraded(n, before.get(n), v) for n, v in sorted(after.items())
            if before.get(n) != v]


def update(settings: Settings, arch: ArchSettings | None = None, *, system: bool = False,
           devel_check: bool = False, noconfirm: bool = False,
           confirm: Callable[[str], bool] | None = None,
           show: Callable[[str], None] | None = None) -> UpdateResult:
    from omg.arch import install

    arch = arch or from_settings(settings)
    result = UpdateResult()
    if system:
        result.repo_upgraded = system_upgrade(arch, noconfirm=noconfirm)
        result.synced = True
    else:
        result.notes.append(NOT_SYNCED)
    result.outdated, result.left = check(settings, arch, devel_check=devel_check)
    on_system = sorted({o.name for o in result.outdated if o.where == "system"})
    store_only = sorted({o.name for o in result.outdated if o.where == "store"}
                        - set(on_system))
    # rebuild=True: these are known to be outdated, and a devel package's new commit
    # leaves its AUR version (hence the unchanged-build check) as it was.
    for names, sysinst in ((store_only, False), (on_system, True)):
        if names:
            result.builds.append(install.build_aur(
                settings, names, system=sysinst, noconfirm=noconfirm, confirm=confirm,
                show=show, arch=arch, rebuild=True))
    return result
