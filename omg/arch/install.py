"""Use cases: install (repo via pacman -S, AUR built into the store), remove, outdated.

`install_packages(settings, names, system=..., noconfirm=...)` is the entry point the
`omg install aur/NAME` command delegates to. AUR flow: resolve (repo deps through
pyalpm satisfiers, AUR deps through batched info, topological order), download the
snapshots, show each for review (diff against the last reviewed version), ask,
build each with makepkg as the build user, ingest every package into the store with
its AUR dependencies' store paths as references, and with --system `pacman -U` them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from omg.arch import aur, build, pacman, review
from omg.arch.names import check_name, split_target, store_version
from omg.arch.resolve import resolve
from omg.arch.settings import ArchSettings, from_settings
from store.claims import BUILT, Claim
from store.errors import Interrupted, UsageError
from store.local import LocalStore

if TYPE_CHECKING:
    from omg.arch.alpm import Alpm
    from omg.arch.aur import AurInfo
    from omg.config import Settings


@dataclass
class Built:
    name: str
    version: str
    store_path: str
    package_file: str
    reused: bool = False


@dataclass
class InstallResult:
    built: list[Built] = field(default_factory=list)
    repo_installed: list[str] = field(default_factory=list)
    system_installed: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    repo_deps: list[str] = field(default_factory=list)


def _pkgfile_name_version(path: Path) -> tuple[str, str]:
    stem = path.name.split(".pkg.tar")[0]
    parts = stem.rsplit("-", 3)
    if len(parts) != 4:
        raise UsageError(f"unexpected package file name {path.name}")
    return parts[0], f"{parts[1]}-{parts[2]}"


def _store(settings: Settings) -> LocalStore:
    return LocalStore(settings.layout, limits=settings.limits)


def install_packages(settings: Settings, names: list[str], *, system: bool = False,
                     noconfirm: bool = False, confirm: Callable[[str], bool] | None = None,
                     show: Callable[[str], None] | None = None,
                     arch: ArchSettings | None = None) -> InstallResult:
    """`aur/NAME` -> built from the AUR; `repo/NAME` or a plain repo name -> pacman -S;
    a plain name no repo has -> the AUR."""
    arch = arch or from_settings(settings)
    from omg.arch.alpm import Alpm

    alpm = Alpm(arch)
    repo_names, aur_names = [], []
    for target in names:
        repo, name = split_target(target)
        if repo == "aur":
            aur_names.append(name)
        elif repo is not None or alpm.find_repo(name) is not None:
            repo_names.append(target)
        else:
            aur_names.append(name)
    result = InstallResult()
    if repo_names:
        pacman.run(arch, ["-S", *(["--noconfirm"] if noconfirm else []), *repo_names],
                   what="-S")
        result.repo_installed = repo_names
    if aur_names:
        aur_result = build_aur(settings, aur_names, system=system, noconfirm=noconfirm,
                               confirm=confirm, show=show, arch=arch, alpm=alpm)
        result.built, result.system_installed = aur_result.built, aur_result.system_installed
        result.order, result.repo_deps = aur_result.order, aur_result.repo_deps
    return result


def build_aur(settings: Settings, names: list[str], *, system: bool = False,
              noconfirm: bool = False, confirm: Callable[[str], bool] | None = None,
              show: Callable[[str], None] | None = None, arch: ArchSettings | None = None,
              alpm: Alpm | None = None, rebuild_deps: bool = False) -> InstallResult:
    arch = arch or from_settings(settings)
    for n in names:
        check_name(n)
    if alpm is None:
        from omg.arch.alpm import Alpm

        alpm = Alpm(arch)
    checker = alpm
    store = _store(settings)
    index = store.index
    plan = resolve(names, repo_satisfier=lambda d: checker.satisfier(d) is not None,
                   aur_info=lambda ns: aur.info(arch.aur_url, ns, index=index,
                                                ttl=arch.aur_ttl))
    result = InstallResult(order=[str(i["Name"]) for i in plan.order], repo_deps=plan.repo_deps)
    built: dict[str, str] = {}  # pkgname -> store path
    targets = set(names)
    todo: list[AurInfo] = []
    for info in plan.order:
        name, version = str(info["Name"]), str(info["Version"])
        # Only this user's own builds (or trusted ones) are reused: another user's
        # package of the same name is not a dependency this user reviewed.
        have = store.resolvable(name, store_version(version), user=settings.user)
        if name not in targets and have and not rebuild_deps:
            built[name] = have[0].path
            result.built.append(Built(name, version, have[0].path, "", reused=True))
        else:
            todo.append(info)
    bases = list(dict.fromkeys(str(i.get("PackageBase") or i["Name"]) for i in todo))
    with build.build_area(arch, "omg") as work:
        sources: dict[str, Path] = {}
        for base in bases:
            check_name(base)
            (work / ".dl").mkdir(exist_ok=True)
            tarball = aur.download_snapshot(arch.aur_url, base, work / ".dl")
            sources[base] = build.extract_snapshot(tarball, work, base)
        if not noconfirm:
            for base in bases:
                if show is not None:
                    show(review.review_text(arch.home, base, sources[base]))
            question = f"Build {', '.join(bases)} as {arch.build_user}?"
            if confirm is None or not confirm(question):
                raise Interrupted("build declined: nothing was built")
            for base in bases:
                review.mark_reviewed(arch.home, base, sources[base])
        files: list[Path] = []
        for base in bases:
            for pkg in build.makepkg(arch, sources[base], base):
                pname, pver = _pkgfile_name_version(pkg)
                refs = sorted({built[d] for d in plan.runtime_deps.get(pname, [])
                               if d in built})
                added = store.add(pkg, pname, store_version(pver), references=refs,
                                  origin={"kind": "aur", "pkgbase": base, "pkgname": pname,
                                          "version": pver, "aur": arch.aur_url},
                                  claim=Claim(BUILT, settings.user,
                                              {"pkgbase": base, "aur": arch.aur_url}))
                built[pname] = added.record.path
                result.built.append(Built(pname, pver, added.record.path, pkg.name))
                files.append(pkg)
        if system and files:
            pacman.run(arch, ["-U", "--noconfirm", *[str(f) for f in files]], what="-U")
            result.system_installed = [f.name for f in files]
    return result


def remove_packages(settings: Settings, names: list[str], *, noconfirm: bool = False,
                    arch: ArchSettings | None = None) -> None:
    arch = arch or from_settings(settings)
    for n in names:
        check_name(n)
    pacman.run(arch, ["-R", *(["--noconfirm"] if noconfirm else []), *names], what="-R")


@dataclass
class Outdated:
    name: str
    current: str
    latest: str
    where: str  # "store" or "system"


def outdated(settings: Settings, arch: ArchSettings | None = None) -> list[Outdated]:
    """AUR packages (store paths of AUR origin, foreign local packages) the AUR has newer."""
    arch = arch or from_settings(settings)
    from omg.arch.alpm import Alpm, vercmp

    alpm = Alpm(arch)
    current: dict[tuple[str, str], str] = {}
    store = _store(settings)
    for rec in store.records():
        origin = rec.origin or {}
        if origin.get("kind") == "aur":
            key = (rec.name, "store")
            v = str(origin.get("version", rec.version))
            if key not in current or vercmp(v, current[key]) > 0:
                current[key] = v
    for pkg in alpm.foreign():
        current[(pkg.name, "system")] = pkg.version
    if not current:
        return []
    infos = aur.info(arch.aur_url, sorted({n for n, _ in current}), index=store.index, ttl=0)
    out = []
    for (name, where), version in sorted(current.items()):
        info = infos.get(name)
        if info is not None and vercmp(str(info["Version"]), version) > 0:
            out.append(Outdated(name, version, str(info["Version"]), where))
    return out
