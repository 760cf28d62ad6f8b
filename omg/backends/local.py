"""`LocalBackend`: the use cases, run on a store this process may write.

It is the single-user backend, root's backend in a shared home, and omgd's engine:
the daemon builds one per request, for the peer SO_PEERCRED names (`user`), on its
own store and index, so a request through omgd runs exactly what a local command
runs. Settings (mirrors, limits) are loaded only when a use case needs them: the
hot path of `omg use` between installed versions never parses a config file.

Imports are lazy throughout, for the same reason: `omg use` through this backend is
timed against ``python -c pass``.
"""

from __future__ import annotations

import os

from generations.links import DEFAULT_PROFILE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path
    from typing import Any

    from generations.gc import GcResult
    from generations.roots import GcRoot
    from omg.arch.search import SearchResult
    from omg.arch.settings import ArchSettings
    from omg.audit.run import AuditReport
    from omg.cache.substitute import PullResult, Substituted
    from omg.config import Settings
    from omg.environment import ExecEnv
    from omg.install import InstalledVersion, InstallResult, Outdated, RemoteVersion
    from omg.lockfile import Tool as LockedTool
    from omg.net import DownloadProgress
    from omg.profiles import (
        CurrentInfo,
        DeleteResult,
        GenerationDiff,
        GenerationInfo,
        Home,
        ResolvedTool,
        Resolver,
        SwitchResult,
        UninstallResult,
        UseResult,
        WhichInfo,
    )
    from omg.sbom import SbomSource
    from omg.spec import ToolSpec
    from omg.store_cases import StoreInfo, VerifyResult
    from omg.venvs import VenvInfo
    from store.index import Index
    from store.ingest import AddResult
    from store.local import LocalStore
    from store.record import PathRecord


class LocalBackend:
    """The use cases on the store of OMG_HOME `home`, acting for `user`.

    `settings` is the loaded `Settings`, or a function loading them on first use.
    `store` (omgd's) shares one open index across requests; `mirror=False` keeps
    generation records out of the index on the hot path (see `omg.profiles.Home`).
    """

    def __init__(self, home: str, user: str, settings: Settings | Callable[[], Settings],
                 *, store: LocalStore | None = None, mirror: bool = True) -> None:
        self.home_dir = os.path.abspath(home)
        self.user = user
        self._settings = settings
        self._store = store
        self._owns_store = store is None
        self._mirror = mirror
        self._home: Home | None = None
        self._index_own: Index | None = None

    @property
    def settings(self) -> Settings:
        if callable(self._settings):
            self._settings = self._settings()
        return self._settings

    @property
    def profiles(self) -> Home:
        if self._home is None:
            from omg.profiles import Home

            # One index per process (LMDB): this backend's, opened when first needed.
            self._home = Home(self.home_dir, self.user, mirror=self._mirror,
                              opener=lambda: self.index)
        return self._home

    @property
    def store(self) -> LocalStore:
        """The store (omgd's, or one of this backend's), whose index is the one this
        process has open: LMDB allows one per environment and process."""
        if self._store is None:
            from store.local import LocalStore

            self._store = LocalStore(self.settings.layout, limits=self.settings.limits,
                                     user=self.user, index=self._index_own)
            self._index_own = None  # the store's now: it closes it
        return self._store

    @property
    def index(self) -> Index:
        """The index this process has open (LMDB allows one per environment): the
        store's, or one opened alone for what needs no store (a cached listing)."""
        if self._store is not None:
            return self._store.index
        if self._index_own is None:
            from store.index import Index

            self._index_own = Index.for_home(self.home_dir + "/db")
        return self._index_own

    def _index(self) -> Index:
        return self.index

    def _store_changed(self) -> None:
        """The catalogue lists the store once per `Home` (a command's view): after this
        backend added or removed store paths, the next use case lists it again, as each
        request to omgd does."""
        if self._home is not None:
            self._home.close()  # saves what the catalogue learned; the index stays open
            self._home = None

    def close(self) -> None:
        """Save what the catalogue learned; close the index unless it is omgd's."""
        if self._home is not None:
            self._home.close()
            self._home = None
        if self._store is not None and self._owns_store:
            self._store.close()
            self._store = None
        if self._index_own is not None:
            self._index_own.close()
            self._index_own = None

    # Profiles -----------------------------------------------------------------------

    def _resolver(self, offline: bool, progress: DownloadProgress | None,
                  warnings: list[str], made: set[str]) -> Resolver:
        from omg import install

        resolver: Resolver = install.make_resolver(
            self.settings, offline=offline, progress=progress, index=self._index(),
            for_user=self.user, warnings=warnings, made=made)
        return resolver

    def _wiring(self, offline: bool, progress: DownloadProgress | None
                ) -> tuple[list[str], _Lazy, Callable[[Sequence[ResolvedTool]], list[str]]]:
        """What a use, sync or exec passes down: the installs' warnings (filled as they
        happen), the lazy resolver, and the policy check, which leaves `[policy]
        unsigned` out for a store path this very command installed with a signature
        warning (`deny` refused it before the download: one line, not two)."""
        installs: list[str] = []
        made: set[str] = set()
        resolver = _Lazy(lambda: self._resolver(offline, progress, installs, made))
        return installs, resolver, lambda tools: self._check(tools, made)

    def use(self, specs: Sequence[str], *, profile: str = DEFAULT_PROFILE,
            project: Path | None = None, offline: bool = False, command: str = "",
            progress: DownloadProgress | None = None,
            write_version_files: bool = True) -> UseResult:
        from omg import profiles

        # The resolver is built only if the store cannot answer (it loads settings).
        installs, resolver, check = self._wiring(offline, progress)
        result = profiles.use(
            self.profiles, specs, profile=profile, project=project, resolver=resolver,
            command=command, write_version_files=write_version_files, check=check)
        return self._warned(result, installs)

    def sync(self, project_dir: Path, *, offline: bool = False) -> UseResult:
        from omg import profiles

        installs, resolver, check = self._wiring(offline, None)
        result = profiles.sync(self.profiles, project_dir, resolver=resolver, check=check)
        return self._warned(result, installs)

    def _warned(self, result: UseResult, installs: list[str]) -> UseResult:
        """`result` with what its installs said (the policy's warnings for a tool it
        installed are said once)."""
        for w in installs:
            if w not in result.warnings:
                result.warnings.append(w)
        return result

    def _check(self, tools: Sequence[ResolvedTool], made: set[str]) -> list[str]:
        """`[policy]` on the tools a use, sync or exec asks for, from cached data only
        (`omg.audit.checks`: no network); `PolicyDenied` before anything is written.

        This backend's settings decide: omgd's, for the requests omgd serves. The
        engine and the config are loaded only when there is a finding to judge.
        """
        from omg.audit import checks

        found = checks.cached(self.home_dir + "/cache", self.home_dir + "/store",
                              [(t.tool, t.version, "" if t.store_path in made
                                else t.store_path) for t in tools])
        if not found:
            return []
        from omg.audit.policy import enforce, policy_of

        return enforce(policy_of(self._raw_config()), found,
                       [(t.tool, t.version) for t in tools])

    def _raw_config(self) -> Mapping[str, object]:
        """The config's tables; without a config file (or a parsed variable) there is
        nothing to load: every default applies."""
        if callable(self._settings):
            from omg.locate import needs_config

            if not needs_config(os.environ):
                return {}
        return self.settings.raw

    def exec_env(self, specs: Sequence[str], *, pid: int, offline: bool = False,
                 progress: DownloadProgress | None = None) -> ExecEnv:
        from omg.environment import exec_env

        installs, resolver, check = self._wiring(offline, progress)
        result = exec_env(self.profiles, specs, pid=pid, resolver=resolver, check=check)
        result.warnings.extend(w for w in installs if w not in result.warnings)
        return result

    def uninstall(self, specs: Sequence[str], *, profile: str = DEFAULT_PROFILE,
                  project: Path | None = None) -> UninstallResult:
        from omg import profiles

        return profiles.uninstall(self.profiles, specs, profile=profile, project=project)

    def rollback(self, *, profile: str = DEFAULT_PROFILE, project: Path | None = None,
                 to: int | None = None) -> SwitchResult:
        from omg import profiles

        return profiles.rollback(self.profiles, profile=profile, project=project, to=to)

    def generations(self, *, profile: str = DEFAULT_PROFILE,
                    project: Path | None = None) -> list[GenerationInfo]:
        from omg import profiles

        return profiles.list_generations(self.profiles, profile=profile, project=project)

    def delete_generations(self, numbers: Sequence[int] = (), *,
                           profile: str = DEFAULT_PROFILE, project: Path | None = None,
                           older_than: float | None = None,
                           keep: int | None = None) -> DeleteResult:
        from omg import profiles

        return profiles.delete_generations(self.profiles, numbers, profile=profile,
                                           project=project, older_than=older_than,
                                           keep=keep)

    def current(self, *, profile: str = DEFAULT_PROFILE,
                project: Path | None = None) -> CurrentInfo:
        from omg import profiles

        return profiles.current(self.profiles, profile=profile, project=project)

    def which(self, executable: str, *, profile: str = DEFAULT_PROFILE,
              project: Path | None = None) -> WhichInfo:
        from omg import profiles

        return profiles.which(self.profiles, executable, profile=profile, project=project)

    def diff(self, a: int, b: int, *, profile: str = DEFAULT_PROFILE,
             project: Path | None = None) -> GenerationDiff:
        from omg import profiles

        return profiles.diff_generations(self.profiles, a, b, profile=profile,
                                         project=project)

    def gc(self, *, dry_run: bool = False, older_than: float | None = None) -> GcResult:
        from generations.keep import KeepPolicy
        from omg import profiles
        from omg.cache_prune import DEFAULT_MAX_AGE_DAYS, DEFAULT_MAX_BYTES, CachePolicy

        cfg = self.settings.raw.get("gc", {})
        result = profiles.gc(
            self.settings.layout, dry_run=dry_run, older_than=older_than, store=self.store,
            policy=KeepPolicy(cfg.get("keep_generations", 0), cfg.get("keep_days", 0.0)),
            cache=CachePolicy(cfg.get("cache_max_age_days", DEFAULT_MAX_AGE_DAYS),
                              cfg.get("cache_max_bytes", DEFAULT_MAX_BYTES)))
        self._store_changed()
        return result

    # Runtimes -----------------------------------------------------------------------

    def install(self, specs: Sequence[str], *, offline: bool = False, refresh: bool = False,
                progress: DownloadProgress | None = None) -> list[InstallResult]:
        from omg import install

        results = install.install(self.settings, specs, offline=offline, refresh=refresh,
                                  progress=progress, index=self._index(), for_user=self.user,
                                  keep=True)
        self._store_changed()
        return results

    def releases(self, tool: str, *, offline: bool = False,
                 refresh: bool = False) -> list[RemoteVersion]:
        from omg import install

        return install.list_remote(self.settings, tool, offline=offline, refresh=refresh,
                                   index=self._index())

    def outdated(self, tools: Sequence[str] = (), *,
                 offline: bool = False) -> list[Outdated]:
        from omg import install

        return install.outdated(
            self.settings, tools=tools, offline=offline, index=self._index(),
            installed=lambda: [(v.tool, v.version) for v in self.installed()])

    def installed(self, tool: str | None = None) -> list[InstalledVersion]:
        from omg import install

        return install.list_installed(self.settings, tool, store=self.store, user=self.user)

    def lock(self, specs: Sequence[str], *, platforms: Sequence[str] = (),
             offline: bool = False, refresh: bool = False) -> list[LockedTool]:
        from omg import lock_cases

        return lock_cases.resolve(self.settings, specs, platforms=platforms, offline=offline,
                                  refresh=refresh, index=self._index(), for_user=self.user)

    def audit(self, *, offline: bool = False, refresh: bool = False) -> AuditReport:
        from omg.audit import run

        return run.audit(self, self.settings, index=self._index(), offline=offline,
                         refresh=refresh)

    def cache_pull(self, url: str, items: Sequence[str]) -> PullResult:
        from omg.cache import substitute
        from omg.providers.base import Platform

        with self.store.gc_guard():  # nothing collects a pulled reference before its user
            result = substitute.pull_items(self.settings, self.store, url, items,
                                           user=self.user, platform=Platform.detect().key)
        self._store_changed()
        return result

    def cache_substitute(self, items: Sequence[str], *, keep: bool = False) -> Substituted:
        from omg.cache import substitute

        with self.store.gc_guard():
            result = substitute.substitute_items(self.settings, self.store, items,
                                                 user=self.user)
            if keep:  # rooted before the guard goes, as add_kept does
                from generations import installroots

                for path in result.found.values():
                    record = self.store.get(path)
                    installroots.add(self.home_dir, self.user, record.name, record.version,
                                     path)
        self._store_changed()
        return result

    # The store ----------------------------------------------------------------------

    def store_add(self, source: Path, name: str, version: str, *,
                  references: Sequence[str] = (),
                  origin: dict[str, object] | None = None, keep: bool = False) -> AddResult:
        from store.claims import ADDED, Claim, process_user

        # Root's additions resolve by name for every user, as through omgd (`is_trusted`):
        # the store, told which user it acts for, would make them root's alone.
        root = os.geteuid() == 0 and self.user == process_user()
        result = add_kept(self.store, self.home_dir, self.user, keep, source, name, version,
                          origin=origin, references=[self.resolve_name(r) for r in references],
                          claim=Claim(ADDED, self.user, trusted=root))
        self._store_changed()
        return result

    def store_records(self) -> list[PathRecord]:
        return self.store.records()

    def store_info(self, name: str) -> StoreInfo:
        from omg import store_cases

        return store_cases.info(self.store, self.settings.layout, name)

    def store_verify(self, names: Sequence[str] | None = None) -> VerifyResult:
        from omg import store_cases

        return store_cases.verify(self.store, names)

    def roots(self) -> list[GcRoot]:
        from generations.roots import user_roots

        return user_roots(self.home_dir, self.user)

    def search(self, terms: Sequence[str], *, repos_only: bool = False,
               arch: ArchSettings | None = None) -> SearchResult:
        """The search `omg search`'s fast door runs too (`omg.arch.fastsearch`, with
        the AUR from its cache only), here on this backend's index."""
        from omg.arch import search
        from omg.arch.settings import from_settings

        return search.search(arch or from_settings(self.settings), self._index(),
                             self.home_dir + "/store", list(terms), repos_only=repos_only)

    def resolve_name(self, text: str) -> str:
        return self.store.resolve_name(text)

    def sbom_source(self, *, profile: str = DEFAULT_PROFILE,
                    project: Path | None = None) -> SbomSource:
        from omg import sbom

        return sbom.source(self.store, self.current(profile=profile, project=project))

    # Venvs --------------------------------------------------------------------------

    def venv_create(self, name: str | None, spec: str | None = None, *,
                    project: Path | None = None, pip: bool = True) -> VenvInfo:
        from generations.venvroots import add_root
        from omg import venvs

        home = self.profiles
        # The gc lock, shared from choosing the interpreter until the venv's root holds it.
        return venvs.create(home, name, spec, project=project, pip=pip, guard=home.gc_guard,
                            register=lambda path: add_root(self.home_dir, self.user, path))

    def venv_list(self) -> list[VenvInfo]:
        from omg import venvs

        return venvs.list_venvs(self.profiles)

    def venv_info(self, name: str | None, *, project: Path | None = None) -> VenvInfo:
        from omg import venvs

        return venvs.info(self.profiles, name, project=project)

    def venv_remove(self, name: str | None, *, project: Path | None = None) -> VenvInfo:
        from generations.venvroots import remove_root
        from omg import venvs

        return venvs.remove(self.profiles, name, project=project,
                            unregister=lambda path: remove_root(self.home_dir, self.user,
                                                                path))

    def venv_root(self, path: str, *, add: bool = True) -> str:
        """omgd's ``venv.root``/``venv.unroot`` for its peer: the root link alone, after
        checking it lands in the store (the peer made the venv, and holds no gc lock)."""
        from generations.venvroots import add_root, check_venv_path, interpreter_of, remove_root

        check_venv_path(path)
        if not add:
            remove_root(self.home_dir, self.user, path)
            return ""
        with self.profiles.gc_guard():
            name = interpreter_of(self.home_dir + "/store", path)
            if name is None:
                from store.errors import NotFound

                raise NotFound(f"the venv at {path} has no interpreter in the store "
                               "(it was collected, or the venv was not made by omg)",
                               hint="omg venv remove, then omg venv create")
            add_root(self.home_dir, self.user, path)
        return name


class _Lazy:
    """A resolver built on its first call: most `use`s never need one."""

    def __init__(self, make: Callable[[], Resolver]) -> None:
        self._make = make
        self._made: Resolver | None = None

    def __call__(self, spec: ToolSpec) -> ResolvedTool | None:
        if self._made is None:
            self._made = self._make()
        return self._made(spec)


def add_kept(store: LocalStore, home: str, user: str, keep: bool, source: Path, name: str,
             version: str, **add: Any) -> AddResult:
    """`store.add`, and with `keep` the user's install root for it, the gc lock held
    shared from before the add until the root exists (invariant 3)."""
    if not keep:
        return store.add(source, name, version, **add)
    from generations import installroots

    with store.gc_guard():
        result = store.add(source, name, version, **add)
        installroots.add(home, user, name, version, result.record.path)
    return result
