"""`DaemonBackend`: the use cases, carried out by omgd on the shared store.

In the shared mode this user cannot write OMG_HOME: every change is a request to
omgd (docs/protocol.md), which runs the same use case through a `LocalBackend` of
its own for the peer it knows by SO_PEERCRED, and answers with the result as plain
data (`store.results.to_plain`); here `from_plain` makes it the same result type
again, so the CLI renders both backends alike. Reads need no daemon: the store,
the profiles and the claims are world-readable, so `current`, `which`, `diff`,
`installed`, `store_records` and `store_info` read the files through a read-only
`LocalBackend`, as a local command does. Light at import, like the local backend:
`omg use` through omgd is a hot path too.
"""

from __future__ import annotations

import os

from generations.links import DEFAULT_PROFILE
from omg.backends.local import LocalBackend

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path
    from typing import TypeVar

    from generations.gc import GcResult
    from generations.roots import GcRoot
    from omg.arch.search import SearchResult
    from omg.arch.settings import ArchSettings
    from omg.audit.run import AuditReport
    from omg.cache.substitute import PullResult, Substituted
    from omg.config import Settings
    from omg.daemon.client import Client
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

    T = TypeVar("T")


class DaemonBackend:
    """Requests to omgd at `socket`; reads from the files of OMG_HOME `home`."""

    def __init__(self, socket: str, home: str, user: str,
                 settings: Settings | Callable[[], Settings]) -> None:
        self.socket = socket
        self.home_dir = os.path.abspath(home)
        self._reads = LocalBackend(home, user, settings)
        self._client: Client | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._reads.close()

    def call(self, method: str, params: Mapping[str, object] | None = None, *,
             fd: int | None = None) -> object:
        """One request on this backend's connection (opened on first use)."""
        if self._client is None:
            from omg.daemon.client import Client

            self._client = Client(self.socket)
        return self._client.call(method, params or {}, fd=fd)

    def _rebuild(self, cls: Callable[..., T], data: object) -> T:
        """`cls` from omgd's reply (`store.results.SHAPES` says how); a reply that does
        not fit is omgd's fault, said so in one line."""
        from store.results import from_plain

        try:
            return from_plain(cls, data)
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            from store.errors import DaemonUnavailable

            what = getattr(cls, "__name__", "answer")
            raise DaemonUnavailable(f"omgd sent a malformed {what}: {exc}") from exc

    def _rebuild_all(self, cls: Callable[..., T], data: object) -> list[T]:
        """A list of `cls` from omgd's reply (`_rebuild` each)."""
        if not isinstance(data, list):
            from store.errors import DaemonUnavailable

            what = getattr(cls, "__name__", "answer")
            raise DaemonUnavailable(f"omgd sent a malformed list of {what}: "
                                    f"{type(data).__name__}")
        return [self._rebuild(cls, item) for item in data]

    # Profiles -----------------------------------------------------------------------

    def use(self, specs: Sequence[str], *, profile: str = DEFAULT_PROFILE,
            project: Path | None = None, offline: bool = False, command: str = "",
            progress: DownloadProgress | None = None,
            write_version_files: bool = True) -> UseResult:
        """omgd makes the generation; a project's version files are the user's, so
        they are written here, never by the daemon."""
        from omg.profiles import UseResult, command_line, write_pins
        from omg.spec import parse_tool_spec

        params = _params(profile, project, specs=list(specs),
                         command=command or "omg use " + command_line(specs),
                         offline=offline or None)
        result: UseResult = self._rebuild(UseResult, self.call("profile.use", params))
        if project is not None and write_version_files:
            files = write_pins(project, [parse_tool_spec(s) for s in specs], result.tools)
            result = result._replace(version_files=files)
        return result

    def sync(self, project_dir: Path, *, offline: bool = False) -> UseResult:
        from omg.spec import parse_tool_spec
        from shims.project import project_pins

        root, pins = project_pins(project_dir, check=parse_tool_spec)
        return self.use(pins, project=root, offline=offline, command="omg sync",
                        write_version_files=False)

    def uninstall(self, specs: Sequence[str], *, profile: str = DEFAULT_PROFILE,
                  project: Path | None = None) -> UninstallResult:
        from omg.profiles import UninstallResult

        return self._rebuild(UninstallResult, self.call(
            "profile.uninstall", _params(profile, project, specs=list(specs))))

    def exec_env(self, specs: Sequence[str], *, pid: int, offline: bool = False,
                 progress: DownloadProgress | None = None) -> ExecEnv:
        """omgd roots the env for the process it is talking to (SO_PEERCRED): this one."""
        from omg.environment import ExecEnv

        if pid != os.getpid():
            from store.errors import UsageError

            raise UsageError(f"omgd keeps an env only for the process that asks "
                             f"({os.getpid()}), not for {pid}")
        return self._rebuild(ExecEnv, self.call(
            "profile.exec", {"specs": list(specs), "offline": offline or None}))

    def rollback(self, *, profile: str = DEFAULT_PROFILE, project: Path | None = None,
                 to: int | None = None) -> SwitchResult:
        from omg.profiles import SwitchResult

        return self._rebuild(SwitchResult, self.call("profile.rollback",
                                                     _params(profile, project, to=to)))

    def generations(self, *, profile: str = DEFAULT_PROFILE,
                    project: Path | None = None) -> list[GenerationInfo]:
        from omg.profiles import GenerationInfo

        return self._rebuild_all(GenerationInfo, self.call(
            "profile.generations", _params(profile, project)))

    def delete_generations(self, numbers: Sequence[int] = (), *,
                           profile: str = DEFAULT_PROFILE, project: Path | None = None,
                           older_than: float | None = None,
                           keep: int | None = None) -> DeleteResult:
        from omg.profiles import DeleteResult

        params = _params(profile, project, numbers=list(numbers) or None,
                         older_than=older_than, keep=keep)
        return self._rebuild(DeleteResult, self.call("profile.delete", params))

    def current(self, *, profile: str = DEFAULT_PROFILE,
                project: Path | None = None) -> CurrentInfo:
        return self._reads.current(profile=profile, project=project)

    def which(self, executable: str, *, profile: str = DEFAULT_PROFILE,
              project: Path | None = None) -> WhichInfo:
        return self._reads.which(executable, profile=profile, project=project)

    def diff(self, a: int, b: int, *, profile: str = DEFAULT_PROFILE,
             project: Path | None = None) -> GenerationDiff:
        return self._reads.diff(a, b, profile=profile, project=project)

    def gc(self, *, dry_run: bool = False, older_than: float | None = None) -> GcResult:
        from generations.gc import GcResult

        params: dict[str, object] = {"dry_run": dry_run}
        if older_than is not None:
            params["older_than"] = older_than
        return self._rebuild(GcResult, self.call("gc", params))

    # Runtimes -----------------------------------------------------------------------

    def install(self, specs: Sequence[str], *, offline: bool = False, refresh: bool = False,
                progress: DownloadProgress | None = None) -> list[InstallResult]:
        """omgd resolves, downloads and verifies from its own mirrors; we name specs."""
        from omg.install import InstallResult

        params = {"specs": list(specs), "offline": offline or None, "refresh": refresh or None}
        return self._rebuild_all(InstallResult, self.call(
            "runtime.install", {k: v for k, v in params.items() if v is not None}))

    def releases(self, tool: str, *, offline: bool = False,
                 refresh: bool = False) -> list[RemoteVersion]:
        """What the daemon's mirror offers: what `install` can fetch."""
        from omg.install import RemoteVersion

        params = {"tool": tool, "offline": offline or None, "refresh": refresh or None}
        return self._rebuild_all(RemoteVersion, self.call(
            "runtime.releases", {k: v for k, v in params.items() if v is not None}))

    def outdated(self, tools: Sequence[str] = (), *,
                 offline: bool = False) -> list[Outdated]:
        """Which of this user's runtimes the daemon's mirror has newer."""
        from omg import providers
        from omg.install import Outdated

        wanted = {providers.canonical(t) for t in tools}
        pairs = [f"{v.tool}@{v.version}" for v in self.installed()
                 if not wanted or v.tool in wanted]
        params: dict[str, object] = {"installed": pairs}
        if offline:
            params["offline"] = True
        return self._rebuild_all(Outdated, self.call("runtime.outdated", params))

    def installed(self, tool: str | None = None) -> list[InstalledVersion]:
        return self._reads.installed(tool)

    def lock(self, specs: Sequence[str], *, platforms: Sequence[str] = (),
             offline: bool = False, refresh: bool = False) -> list[LockedTool]:
        """omgd reads its cached indexes and its store; the lock file is written here."""
        from omg.lockfile import Tool

        params = {"specs": list(specs), "platforms": list(platforms) or None,
                  "offline": offline or None, "refresh": refresh or None}
        return self._rebuild_all(Tool, self.call(
            "runtime.lock", {k: v for k, v in params.items() if v is not None}))

    def audit(self, *, offline: bool = False, refresh: bool = False) -> AuditReport:
        """Read from the files; the feeds are public, fetched by this process into the
        user's own cache (the shared home's is omgd's, read-only here)."""
        from omg import locate
        from omg.audit import run

        return run.audit(self._reads, self._reads.settings, index=self._reads.index,
                         feeds_dir=locate.user_cache(), offline=offline, refresh=refresh)

    def cache_pull(self, url: str, items: Sequence[str]) -> PullResult:
        """omgd pulls, from one of its own substituters, with its own trusted keys."""
        from omg.cache.substitute import PullResult

        return self._rebuild(PullResult, self.call("cache.pull", {"url": url,
                                                                  "items": list(items)}))

    def cache_substitute(self, items: Sequence[str], *, keep: bool = False) -> Substituted:
        """omgd asks its own substituters, with its own trusted keys."""
        from omg.cache.substitute import Substituted

        params: dict[str, object] = {"items": list(items)}
        if keep:
            params["keep"] = True
        return self._rebuild(Substituted, self.call("cache.substitute", params))

    # The store ----------------------------------------------------------------------

    def store_add(self, source: Path, name: str, version: str, *,
                  references: Sequence[str] = (),
                  origin: dict[str, object] | None = None, keep: bool = False) -> AddResult:
        """The archive goes as a descriptor (omgd copies and hashes it itself); a
        directory is packed first, since the daemon takes regular files only."""
        import tempfile

        from store.ingest import AddResult, check_file_type

        params: dict[str, object] = {"name": name, "version": version,
                                     "references": [self.resolve_name(r) for r in references],
                                     "filename": source.name}
        if origin is not None:
            params["origin"] = origin
        if keep:
            params["keep"] = True
        with tempfile.TemporaryDirectory(prefix="omg-add-") as tmp:
            archive = source
            if source.is_dir():
                from pathlib import Path

                archive = _pack_directory(source, Path(tmp) / "tree.tar")
                params["filename"] = "tree.tar"
                params["strip_top"] = False
            # O_NONBLOCK: open(2) of a FIFO would wait for a writer, maybe forever;
            # it and devices are refused as the single-user mode refuses them.
            # (Reads of a regular file ignore the flag, the daemon's included.)
            fd = os.open(archive, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
            try:
                check_file_type(source, os.fstat(fd).st_mode)
                out = self.call("store.add", params, fd=fd)
            finally:
                os.close(fd)
        return self._rebuild(AddResult, out)

    def store_records(self) -> list[PathRecord]:
        return self._reads.store_records()

    def store_info(self, name: str) -> StoreInfo:
        return self._reads.store_info(name)

    def roots(self) -> list[GcRoot]:
        from generations.roots import GcRoot

        return self._rebuild_all(GcRoot, self.call("roots.list"))

    def search(self, terms: Sequence[str], *, repos_only: bool = False,
               arch: ArchSettings | None = None) -> SearchResult:
        """omgd answers from the index it keeps in memory (``search``); when it cannot
        (down, other pacman settings than these, a regex term) the search runs here,
        as `omg search`'s fast door does (`omg.arch.daemonsearch`)."""
        from omg.arch import daemonsearch
        from omg.arch.search import result_of
        from omg.arch.settings import from_settings

        arch = arch or from_settings(self._reads.settings)
        answer = daemonsearch.ask(self.socket, arch, list(terms), repos_only=repos_only,
                                  hits=True)
        if answer is None or answer["hits"] is None:
            return self._reads.search(terms, repos_only=repos_only, arch=arch)
        return result_of(answer["hits"], answer["warnings"])

    def store_verify(self, names: Sequence[str] | None = None) -> VerifyResult:
        """omgd re-hashes (it may read every path; a user may not repair any)."""
        from omg.store_cases import VerifyResult

        params = {} if names is None else {"names": [self.resolve_name(n) for n in names]}
        return self._rebuild(VerifyResult, self.call("store.verify", params))

    def resolve_name(self, text: str) -> str:
        return self._reads.resolve_name(text)

    def sbom_source(self, *, profile: str = DEFAULT_PROFILE,
                    project: Path | None = None) -> SbomSource:
        return self._reads.sbom_source(profile=profile, project=project)

    # Venvs --------------------------------------------------------------------------

    def venv_create(self, name: str | None, spec: str | None = None, *,
                    project: Path | None = None, pip: bool = True) -> VenvInfo:
        """The venv is the user's: made here, as the user; omgd links its root, after
        checking its interpreter is still in the store (this side holds no gc lock)."""
        from omg import venvs

        return venvs.create(self._reads.profiles, name, spec, project=project, pip=pip,
                            register=lambda path: self.call("venv.root", {"path": path}))

    def venv_list(self) -> list[VenvInfo]:
        return self._reads.venv_list()

    def venv_info(self, name: str | None, *, project: Path | None = None) -> VenvInfo:
        return self._reads.venv_info(name, project=project)

    def venv_remove(self, name: str | None, *, project: Path | None = None) -> VenvInfo:
        from omg import venvs

        return venvs.remove(self._reads.profiles, name, project=project,
                            unregister=lambda path: self.call("venv.unroot", {"path": path}))


def _params(profile: str, project: Path | None, **more: object) -> dict[str, object]:
    params: dict[str, object] = {"profile": profile,
                                 **{k: v for k, v in more.items() if v is not None}}
    if project is not None:  # omgd names the project profile; we write the version files
        params["project"] = str(project)
    return params


def _pack_directory(source: Path, dest: Path) -> Path:
    import tarfile

    with tarfile.open(dest, "w") as tar:
        for entry in sorted(os.listdir(source)):
            tar.add(source / entry, arcname=entry, recursive=True)
    return dest
