"""Use cases: install (repo via pacman -S, AUR built into the store), remove, outdated.

`install_packages(settings, names, system=..., noconfirm=...)` is the entry point the
`omg install aur/NAME` command delegates to. AUR flow (docs/arch.md, "Building from
the AUR"): resolve (repo deps through pyalpm satisfiers, AUR deps through batched info,
then by provides; topological order); refuse what cannot work before any download
(repo deps not installed without --system, conflicts, an omgd that will not keep the
build); reuse this user's unchanged builds; download the snapshots, show each for
review (diff against the last reviewed version), ask; build each pkgbase with makepkg,
its AUR dependencies taken from the store (omg.arch.depenv); ingest every package
through the Backend (omgd in the shared mode) with its runtime AUR dependencies' store
paths as references, the targets kept as install roots; with --system `pacman -U` the
targets and their AUR dependencies (as dependencies).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from omg.arch import aur, build, devel, pacman, pgp, review
from omg.arch.names import check_name, dep_name, split_target, store_version
from omg.arch.resolve import Plan, listed, resolve
from omg.arch.settings import ArchSettings, from_settings
from store.errors import IntegrityError, NotFound, UsageError

if TYPE_CHECKING:
    from omg.arch.alpm import Alpm
    from omg.arch.aur import AurInfo
    from omg.arch.lint import Finding
    from omg.backend import Backend
    from omg.config import Settings
    from store.index import Index
    from store.record import PathRecord


@dataclass
class Built:
    name: str
    version: str
    store_path: str
    package_file: str
    reused: bool = False
    #: The binary cache it was substituted from (built by nobody here), or "".
    substituted: str = ""


@dataclass
class InstallResult:
    built: list[Built] = field(default_factory=list)
    repo_installed: list[str] = field(default_factory=list)
    system_installed: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    repo_deps: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # the static check's, reviewed


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
              alpm: Alpm | None = None, rebuild_deps: bool = False, rebuild: bool = False,
              backend: Backend | None = None) -> InstallResult:
    """Resolve, check the system side, download, review, build and ingest (the module
    docstring). `rebuild`: build the targets even when unchanged; `rebuild_deps`: the
    AUR dependencies too. Everything that can refuse does so before any download."""
    arch = arch or from_settings(settings)
    for n in names:
        check_name(n)
    from omg.audit.policy import check_aur, policy_of

    check_aur(policy_of(settings.raw), names)  # [policy] aur = "deny": before any download
    if alpm is None:
        from omg.arch.alpm import Alpm

        alpm = Alpm(arch)
    checker = alpm
    own_backend = backend is None
    if backend is None:
        from omg.backends import for_settings

        backend = for_settings(settings)
    cache = _cache_index(backend)
    try:
        plan = resolve(names, repo_satisfier=lambda d: checker.satisfier(d) is not None,
                       aur_info=lambda ns: aur.info(arch.aur_url, ns, index=cache,
                                                    ttl=arch.aur_ttl),
                       aur_provides=lambda n: provides(arch.aur_url, n),
                       vercmp=checker.vercmp)
        if show is not None and plan.notes:
            show("\n".join(f":: {note}" for note in plan.notes))
        _may_keep(backend)  # before pacman changes anything for a build omgd would refuse
        _system_side(arch, checker, plan, system=system, noconfirm=noconfirm)
        # A dependency the user installed explicitly before stays explicit (as yay).
        explicit = {str(i["Name"]) for i in plan.order
                    if (p := checker.localdb.get_pkg(str(i["Name"]))) is not None
                    and p.reason == 0}
        return _build_plan(settings, arch, backend, checker, plan, set(names), explicit,
                           system=system,
                           noconfirm=noconfirm, confirm=confirm, show=show,
                           rebuild=rebuild, rebuild_deps=rebuild_deps)
    finally:
        if own_backend:
            backend.close()


def _may_keep(backend: Backend) -> None:
    """In the shared mode, ask omgd before anything is downloaded whether it will keep
    what is built for this user (a down daemon, or a uid without a user name, whose
    additions have no install root, fail here rather than after the build)."""
    call = getattr(backend, "call", None)  # only the daemon backend has requests
    if call is None:
        return
    me = call("whoami")
    user = me.get("user") if isinstance(me, dict) else None
    if not isinstance(user, str) or not user or user.isdigit():
        from store.errors import PermissionDenied

        raise PermissionDenied(f"omgd knows no user name for uid {os.getuid()}: it keeps "
                               "no builds for it, so nothing was downloaded or built",
                               hint="build as a user with a login name")


def _cache_index(backend: Backend) -> Index | None:
    """The index the AUR answers are cached in: the one this process has open already
    (LMDB allows one per process), the daemon backend's reader's in the shared mode."""
    from omg.backends.local import LocalBackend

    local = backend if isinstance(backend, LocalBackend) else getattr(backend, "_reads", None)
    return local.index if isinstance(local, LocalBackend) else None


def _search(base: str, term: str, by: str) -> list[AurInfo]:
    """aurweb's ``search/<term>?by=<field>`` (uncached: only when a lookup missed)."""
    from urllib.parse import quote

    data = aur._get_json(f"{base}/rpc/v5/search/{quote(term, safe='')}", (("by", by),))
    return aur._results(data)


def provides(base: str, name: str) -> list[str]:
    """The AUR names whose provides match `name`."""
    return [str(r["Name"]) for r in _search(base, name, "provides")]


def pkgbase_of(arch: ArchSettings, name: str) -> str:
    """The pkgbase whose snapshot holds `name`: a pkgname's PackageBase, or `name`
    itself when it is a pkgbase none of whose packages is named so (a split
    package: `omg aur get` by pkgbase), found by a search on names."""
    check_name(name)
    got = aur.info(arch.aur_url, [name])
    if name in got:
        return str(got[name].get("PackageBase") or name)
    if any(r.get("PackageBase") == name for r in _search(arch.aur_url, name, "name")):
        return name
    raise NotFound(f"package {name!r} not found in the AUR")


def _system_side(arch: ArchSettings, alpm: Alpm, plan: Plan, *, system: bool,
                 noconfirm: bool) -> None:
    """Repository dependencies not installed: installed as dependencies with --system,
    else named in one error (makepkg runs with --nodeps: it would not notice);
    with --system, a conflict with an installed package is an error too."""
    missing = [d for d in plan.repo_deps if alpm.installed(d) is None]
    if missing and not system:
        raise NotFound(f"repository dependencies not installed: {', '.join(missing)}",
                       hint="rerun with --system to install them as dependencies, or "
                            "install them: pacman -S --asdeps PACKAGE...")
    if system:
        targets = {str(i["Name"]) for i in plan.order}
        for info in plan.order:
            for dep in listed(info, "Conflicts"):
                have = alpm.installed(dep)
                if have is not None and have.name not in targets:
                    raise UsageError(f"{info['Name']} conflicts with the installed "
                                     f"package {have.name}",
                                     hint=f"remove it first: omg remove {have.name}")
    if missing:
        names = list(dict.fromkeys(p.name for d in missing
                                   if (p := alpm.satisfier(d)) is not None))
        pacman.run(arch, ["-S", "--asdeps", "--needed", *(["--noconfirm"] if noconfirm else []),
                          *names], what="-S --asdeps")


def _reusable(settings: Settings, backend: Backend) -> dict[tuple[str, str], list[PathRecord]]:
    """(name, version) -> this user's AUR builds (another user's package of the same
    name is not a dependency this user reviewed)."""
    from store.claims import resolvable

    store_dir = str(settings.layout.store)
    out: dict[tuple[str, str], list[PathRecord]] = {}
    for rec in backend.store_records():
        if (rec.origin or {}).get("kind") == "aur" and \
                resolvable(store_dir, rec.path, settings.user):
            out.setdefault((rec.name, rec.version), []).append(rec)
    return out


def _unchanged(records: list[PathRecord], base: str, deps: list[str]) -> PathRecord | None:
    """A build of the same pkgbase against the same dependency store paths, newest first."""
    for rec in sorted(records, key=lambda r: r.created, reverse=True):
        origin = rec.origin or {}
        recorded = origin.get("deps")
        if origin.get("pkgbase") == base and isinstance(recorded, list) \
                and sorted(map(str, recorded)) == sorted(deps):
            return rec
    return None


def package_file(store_path: str) -> Path | None:
    """The package file of an AUR build, kept for `--system` in this user's cache
    (``aur-packages/<store path>/<package file>``): a reused dependency is installed
    from it, and built again when it is gone."""
    found = sorted(_kept_dir(store_path).glob("*.pkg.tar.*"))
    return found[0] if found else None


def _kept_dir(store_path: str) -> Path:
    from omg.locate import user_cache

    return Path(user_cache()) / "aur-packages" / store_path


def _build_plan(settings: Settings, arch: ArchSettings, backend: Backend, alpm: Alpm,
                plan: Plan, targets: set[str], explicit: set[str], *, system: bool,
                noconfirm: bool,
                confirm: Callable[[str], bool] | None, show: Callable[[str], None] | None,
                rebuild: bool, rebuild_deps: bool) -> InstallResult:
    result = InstallResult(order=[str(i["Name"]) for i in plan.order], repo_deps=plan.repo_deps)
    built: dict[str, str] = {}  # pkgname -> store path
    have = _reusable(settings, backend)
    todo: list[AurInfo] = []
    for info in plan.order:
        name, version = str(info["Name"]), str(info["Version"])
        base = str(info.get("PackageBase") or name)
        deps = [built.get(d, "?") for d in plan.aur_deps.get(name, [])]
        force = rebuild if name in targets else rebuild_deps
        rec = None if force else _unchanged(have.get((name, store_version(version)), []),
                                            base, deps)
        if rec is not None and system and package_file(rec.path) is None:
            rec = None  # --system installs it from its package file: build it again
        if rec is not None:
            built[name] = rec.path
            result.built.append(Built(name, version, rec.path, "", reused=True))
        elif not (force or system) and (hit := _substitute(
                backend, name, version, show,
                keep=name in targets or base in targets)):
            built[name] = hit[0]
            result.built.append(Built(name, version, hit[0], "", reused=True,
                                      substituted=hit[1]))
        else:
            todo.append(info)
    bases = list(dict.fromkeys(str(i.get("PackageBase") or i["Name"]) for i in todo))
    if not bases:
        _install_system(arch, plan, targets, explicit, built, result, system)
        return result
    with build.build_area(arch, "omg") as work:
        sources, commits = _fetch(arch, bases, work)
        tree = review.dependency_tree(
            plan, sorted(targets), reused={b.name for b in result.built if b.reused},
            installed=lambda d: getattr(alpm.installed(d), "version", None))
        home = _own_home(arch)
        result.findings = review.approve(arch, sources, tree, home=home, noconfirm=noconfirm,
                                         confirm=confirm, show=show)
        pgp.ensure_keys(arch, sources, noconfirm=noconfirm, confirm=confirm)
        for base in bases:
            members = [str(i["Name"]) for i in todo
                       if str(i.get("PackageBase") or i["Name"]) == base]
            deps = list(dict.fromkeys(built[d] for n in members
                                      for d in plan.aur_deps.get(n, []) if d in built))
            pkgs = build.makepkg(arch, sources[base], base, store_dir=settings.layout.store,
                                 deps=deps)
            for pkg, meta in _siblings_first(pkgs):
                pname, pver = str(meta["pkgname"]), str(meta["pkgver"])
                refs = sorted({built[n] for n in _dep_names(meta, plan) if n in built})
                added = backend.store_add(
                    pkg, pname, store_version(pver), references=refs,
                    origin={"kind": "aur", "pkgbase": base, "pkgname": pname, "version": pver,
                            "aur": arch.aur_url, "deps": deps, "commit": commits[base]},
                    keep=pname in targets or base in targets)
                built[pname] = added.record.path
                _keep_file(pkg, added.record.path)
                result.built.append(Built(pname, pver, added.record.path, pkg.name))
            devel.remember(home, base, sources[base])
        _install_system(arch, plan, targets, explicit, built, result, system)
    return result


def _substitute(backend: Backend, name: str, version: str,
                show: Callable[[str], None] | None, *, keep: bool) -> tuple[str, str] | None:
    """(store path, cache URL) of `name` `version` from a binary cache (omgd's own
    substituters in the shared mode), so it is not built here; None: build it.

    Not with --system: pacman -U needs the package file, which a cache does not hold.
    """
    got = backend.cache_substitute([f"aur/{name}@{version}"], keep=keep)
    if show is not None:
        for w in got.warnings:
            show(f"warning: {w}")
    item = f"aur/{name}@{version}"
    return (got.found[item], got.caches[item]) if item in got.found else None


def _fetch(arch: ArchSettings, bases: list[str], work: Path
           ) -> tuple[dict[str, Path], dict[str, str]]:
    """Each pkgbase's snapshot, downloaded and unpacked (untrusted: the store's checks),
    and the AUR commit it was made from (recorded, so `omg lock` can pin it)."""
    sources: dict[str, Path] = {}
    commits: dict[str, str] = {}
    (work / ".dl").mkdir(exist_ok=True)
    for base in bases:
        check_name(base)
        tarball = aur.download_snapshot(arch.aur_url, base, work / ".dl")
        commits[base] = aur.snapshot_commit(tarball)
        sources[base] = build.extract_snapshot(tarball, work, base)
    return sources, commits


def _own_home(arch: ArchSettings) -> Path:
    """Where this user's last reviewed versions and devel records are kept: OMG_HOME,
    or in the shared mode (OMG_HOME is omgd's) this user's data directory."""
    from omg.locate import user_data

    return arch.home if os.access(arch.home, os.W_OK) else Path(user_data())


def _pkginfo(pkg: Path) -> dict[str, str | list[str]]:
    from store.archive import open_members
    from store.pkginfo import parse_pkginfo

    with open_members(pkg) as members:
        for member in members:
            if member.name.removeprefix("./") == ".PKGINFO" and member.stream is not None:
                return parse_pkginfo(member.stream.read())
    raise IntegrityError(f"{pkg.name}: an Arch package without .PKGINFO")


def _siblings_first(pkgs: list[Path]) -> list[tuple[Path, dict[str, str | list[str]]]]:
    """The packages of one pkgbase, each after the siblings it depends on, so its
    references name them (a -cli depending on its -doc)."""
    infos = {str(i["pkgname"]): (p, i) for p in pkgs for i in [_pkginfo(p)]}
    order: list[str] = []

    def visit(name: str, seen: frozenset[str]) -> None:
        if name in order or name in seen:
            return
        for dep in infos[name][1].get("depend") or []:
            if dep_name(str(dep)) in infos:
                visit(dep_name(str(dep)), seen | {name})
        order.append(name)

    for name in sorted(infos):
        visit(name, frozenset())
    return [infos[n] for n in order]


def _dep_names(info: dict[str, str | list[str]], plan: Plan) -> list[str]:
    """The package's runtime dependencies as AUR names (a provided name -> its provider)."""
    names = [dep_name(str(d)) for d in info.get("depend") or []]
    return [plan.providers.get(n, n) for n in names]


def _keep_file(pkg: Path, store_path: str) -> None:
    import shutil

    dest = _kept_dir(store_path)
    dest.mkdir(parents=True, exist_ok=True)
    tmp = dest / f".{pkg.name}.tmp"  # renamed into place whole: never half a package
    shutil.copyfile(pkg, tmp)
    tmp.rename(dest / pkg.name)


def _install_system(arch: ArchSettings, plan: Plan, targets: set[str], explicit: set[str],
                    built: dict[str, str], result: InstallResult, system: bool) -> None:
    """`pacman -U` the targets (explicit) and their AUR runtime dependencies, built or
    reused (as dependencies): one transaction for both, then `-D --asdeps` of the
    dependencies that were not installed explicitly before (those stay so)."""
    if not system:
        return
    deps: list[str] = []
    stack = [t for t in targets if t in built]
    while stack:
        for dep in plan.runtime_deps.get(stack.pop(), []):
            if dep in built and dep not in deps and dep not in targets:
                deps.append(dep)
                stack.append(dep)
    names = [n for n in built if n in targets or n in deps]
    files = [str(f) for n in names if (f := package_file(built[n])) is not None]
    if not files:
        return
    pacman.run(arch, ["-U", "--noconfirm", *files], what="-U")
    if asdeps := [d for d in deps if d not in explicit]:
        pacman.run(arch, ["-D", "--asdeps", *asdeps], what="-D --asdeps")
    result.system_installed = [Path(f).name for f in files]

