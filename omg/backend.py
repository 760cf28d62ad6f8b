"""`Backend`: the operations the CLI needs, whoever carries them out.

Two implementations, picked once per command by `omg.backends.open_backend`:
`omg.backends.local.LocalBackend` runs the use cases on this user's store, and
`omg.backends.daemon.DaemonBackend` asks omgd, which runs the very same use cases
(through a `LocalBackend` of its own, for the peer it knows by SO_PEERCRED) on the
shared store. So every use case is written once, the CLI renders one set of result
types, and a test suite runs unchanged against both (tests/contract/). This module
only declares the interface (standard library only); callers import it for type
checking alone.

Reads that need no daemon (`current`, `which`, `diff`, `installed`, `store_records`,
`store_info`) are part of the interface too: the daemon backend answers them from
the world-readable files, as the local one does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from generations.gc import GcResult
    from generations.roots import GcRoot
    from omg.arch.search import SearchResult
    from omg.arch.settings import ArchSettings
    from omg.audit.run import AuditReport
    from omg.cache.substitute import PullResult, Substituted
    from omg.environment import ExecEnv
    from omg.install import InstalledVersion, InstallResult, Outdated, RemoteVersion
    from omg.lockfile import Tool as LockedTool
    from omg.net import DownloadProgress
    from omg.profiles import (
        CurrentInfo,
        DeleteResult,
        GenerationDiff,
        GenerationInfo,
        SwitchResult,
        UninstallResult,
        UseResult,
        WhichInfo,
    )
    from omg.sbom import SbomSource
    from omg.store_cases import StoreInfo, VerifyResult
    from omg.venvs import VenvInfo
    from store.ingest import AddResult
    from store.record import PathRecord


class Backend(Protocol):
    """What a command asks of the store, through whichever implementation serves it."""

    #: The OMG_HOME whose store this backend serves (absolute).
    home_dir: str

    # Profiles -----------------------------------------------------------------------

    def use(self, specs: Sequence[str], *, profile: str = ..., project: Path | None = None,
            offline: bool = False, command: str = "",
            progress: DownloadProgress | None = None,
            write_version_files: bool = True) -> UseResult:
        """A new generation with the current tools plus `specs` (installing what the
        store lacks), switched to; with a project, the tools named are pinned in its
        version files unless `write_version_files` is False (specs read from them)."""

    def sync(self, project_dir: Path, *, offline: bool = False) -> UseResult:
        """The project profile of the version files at or above `project_dir`."""

    def uninstall(self, specs: Sequence[str], *, profile: str = ...,
                  project: Path | None = None) -> UninstallResult: ...

    def exec_env(self, specs: Sequence[str], *, pid: int, offline: bool = False,
                 progress: DownloadProgress | None = None) -> ExecEnv:
        """The env of `specs` alone (installing what the store lacks), no generation
        made, kept from gc while process `pid` lives (`omg exec`)."""

    def rollback(self, *, profile: str = ..., project: Path | None = None,
                 to: int | None = None) -> SwitchResult: ...

    def generations(self, *, profile: str = ...,
                    project: Path | None = None) -> list[GenerationInfo]: ...

    def delete_generations(self, numbers: Sequence[int] = (), *, profile: str = ...,
                           project: Path | None = None, older_than: float | None = None,
                           keep: int | None = None) -> DeleteResult: ...

    def current(self, *, profile: str = ..., project: Path | None = None) -> CurrentInfo: ...

    def which(self, executable: str, *, profile: str = ...,
              project: Path | None = None) -> WhichInfo: ...

    def diff(self, a: int, b: int, *, profile: str = ...,
             project: Path | None = None) -> GenerationDiff: ...

    def gc(self, *, dry_run: bool = False, older_than: float | None = None) -> GcResult: ...

    # Runtimes -----------------------------------------------------------------------

    def install(self, specs: Sequence[str], *, offline: bool = False, refresh: bool = False,
                progress: DownloadProgress | None = None) -> list[InstallResult]: ...

    def releases(self, tool: str, *, offline: bool = False,
                 refresh: bool = False) -> list[RemoteVersion]: ...

    def outdated(self, tools: Sequence[str] = (), *,
                 offline: bool = False) -> list[Outdated]: ...

    def installed(self, tool: str | None = None) -> list[InstalledVersion]: ...

    def lock(self, specs: Sequence[str], *, platforms: Sequence[str] = (),
             offline: bool = False, refresh: bool = False) -> list[LockedTool]:
        """Each TOOL@SPEC's exact version and its artifacts on each platform upstream's
        index offers it for (`omg.lock_cases.resolve`); installs nothing."""

    def audit(self, *, offline: bool = False, refresh: bool = False) -> AuditReport:
        """What is installed against the vulnerability feeds, end of life and the
        signatures recorded at install (`omg.audit.run`)."""

    def cache_pull(self, url: str, items: Sequence[str]) -> PullResult:
        """`omg cache pull`: store path names or TOOL@VERSION from the binary cache at
        `url`, accepted only if signed by a trusted key (omgd's own, through omgd, which
        pulls only from its own substituters)."""

    def cache_substitute(self, items: Sequence[str], *, keep: bool = False) -> Substituted:
        """Ask the configured substituters (omgd's own, through omgd) for
        ``aur/NAME@VERSION`` or ``TOOL@VERSION`` items (`omg.cache.substitute`); `keep`:
        root each one found as installed, as `store_add(keep=True)` does for a build."""

    # The store ----------------------------------------------------------------------

    def store_add(self, source: Path, name: str, version: str, *,
                  references: Sequence[str] = (),
                  origin: dict[str, object] | None = None, keep: bool = False) -> AddResult:
        """`origin`: a note kept in the record (it grants nothing: claims do). `keep`:
        root it as installed (``gcroots/<user>/installs/<name>@<version>``, as
        `omg install` does) until `omg uninstall` (`omg import`)."""

    def store_records(self) -> list[PathRecord]: ...

    def store_info(self, name: str) -> StoreInfo: ...

    def store_verify(self, names: Sequence[str] | None = None) -> VerifyResult: ...

    def resolve_name(self, text: str) -> str:
        """A store path name from a name, a full path or a unique hash prefix."""

    def roots(self) -> list[GcRoot]:
        """This user's gc roots (``gcroots/<user>/``: named, install, project and venv
        roots) and the store path each holds directly (`omg store roots`)."""

    # Arch packages ------------------------------------------------------------------

    def search(self, terms: Sequence[str], *, repos_only: bool = False,
               arch: ArchSettings | None = None) -> SearchResult:
        """Repo and AUR packages matching every term, ranked (`omg.arch.search`).
        `arch`: pacman settings other than the config's (``--config``, ``--root``)."""

    def sbom_source(self, *, profile: str = ...,
                    project: Path | None = None) -> SbomSource:
        """What `omg sbom` describes: the current generation and its env's closure (a
        read, from the world-readable files)."""

    # Venvs (omg/venvs.py) -------------------------------------------------------------

    def venv_create(self, name: str | None, spec: str | None = None, *,
                    project: Path | None = None, pip: bool = True) -> VenvInfo:
        """The venv `name` (or `project`'s ``.venv``) from an installed python, made a
        gc root of that interpreter."""

    def venv_list(self) -> list[VenvInfo]: ...

    def venv_info(self, name: str | None, *, project: Path | None = None) -> VenvInfo: ...

    def venv_remove(self, name: str | None, *, project: Path | None = None) -> VenvInfo:
        """Delete the venv and its root."""

    def close(self) -> None: ...
