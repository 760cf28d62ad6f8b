"""Use cases through omgd, with `omg.profiles`' and `omg.install`'s names and result types.

In the shared mode a user cannot write ``profiles/<user>/`` (it belongs to
the daemon, invariant 7), so `use`, `rollback`, generation deletion and roots
are requests to omgd; the daemon decides whose profile it is from
SO_PEERCRED. Each function returns the same NamedTuple as its `omg.profiles`
counterpart, so the CLI renders both the same way. `conn` is anything with
``call(method, params)``: a `RemoteStore` (one connection per thread) or a
`omg.daemon.client.Client`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from generations.links import DEFAULT_PROFILE
from omg.profiles import (
    DeleteResult,
    GenerationInfo,
    ResolvedTool,
    SwitchResult,
    UninstallResult,
    UseResult,
)


class Caller(Protocol):
    def call(self, method: str, params: dict[str, Any] | None = None) -> Any: ...


def _params(profile: str, user: str | None, project: Path | None = None,
            **more: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"profile": profile,
                              **{k: v for k, v in more.items() if v is not None}}
    if user is not None:  # only root may name another user; the daemon checks
        params["user"] = user
    if project is not None:  # the daemon names the project profile; we write version files
        params["project"] = str(project)
    return params


def _tool(data: dict[str, Any]) -> ResolvedTool:
    env = tuple((str(k), str(v)) for k, v in data.get("env", ()))
    return ResolvedTool(**{**data, "env": env})


def use_result(data: dict[str, Any]) -> UseResult:
    from generations.env import Conflict

    return UseResult(**{**data, "tools": [_tool(t) for t in data["tools"]],
                        "conflicts": [Conflict(**c) for c in data["conflicts"]]})


def use(conn: Caller, specs: Sequence[str], *, profile: str = DEFAULT_PROFILE,
        project: Path | None = None, command: str = "", offline: bool = False,
        user: str | None = None) -> UseResult:
    """`omg.profiles.use` by omgd: a new generation in this user's profile, switched to.

    The daemon installs missing versions from its own mirrors. It never writes
    a project's version files (they are the user's): the caller does.
    """
    params = _params(profile, user, project, specs=list(specs), command=command or None,
                     offline=offline or None)
    return use_result(conn.call("profile.use", params))


def sync(conn: Caller, project_dir: Path) -> UseResult:
    """`omg.profiles.sync` by omgd: the project profile from the project's version files."""
    from shims.project import project_pins

    root, pins = project_pins(project_dir)
    return use(conn, pins, project=root, command="omg sync")


def uninstall(conn: Caller, specs: Sequence[str], *, profile: str = DEFAULT_PROFILE,
              project: Path | None = None, user: str | None = None) -> UninstallResult:
    return UninstallResult(**conn.call("profile.uninstall",
                                       _params(profile, user, project, specs=list(specs))))


def rollback(conn: Caller, *, profile: str = DEFAULT_PROFILE, project: Path | None = None,
             to: int | None = None, user: str | None = None) -> SwitchResult:
    return SwitchResult(**conn.call("profile.rollback", _params(profile, user, project, to=to)))


def list_generations(conn: Caller, *, profile: str = DEFAULT_PROFILE,
                     project: Path | None = None, user: str | None = None
                     ) -> list[GenerationInfo]:
    return [GenerationInfo(**g) for g in conn.call("profile.generations",
                                                   _params(profile, user, project))]


def delete_generations(conn: Caller, numbers: Sequence[int], *,
                       profile: str = DEFAULT_PROFILE, project: Path | None = None,
                       older_than: float | None = None, keep: int | None = None,
                       user: str | None = None) -> DeleteResult:
    params = _params(profile, user, project, numbers=list(numbers) or None,
                     older_than=older_than, keep=keep)
    return DeleteResult(**conn.call("profile.delete", params))


def gc(conn: Caller, *, dry_run: bool = False, older_than: float | None = None) -> Any:
    """`omg.profiles.gc` by omgd (root or the gc group only): a `GcResult`."""
    from generations.gc import GcResult

    params: dict[str, Any] = {"dry_run": dry_run}
    if older_than is not None:
        params["older_than"] = older_than
    out = conn.call("gc", params)
    return GcResult(**{**out, "dead": list(out["dead"]),
                       "deleted_generations": [(str(who), int(n))
                                               for who, n in out["deleted_generations"]]})


def add_root(conn: Caller, name: str, store_path: str, *,
             user: str | None = None) -> dict[str, Any]:
    """``gcroots/<user>/<name>`` -> the store path, so gc keeps its closure."""
    params: dict[str, Any] = {"name": name, "store_path": store_path}
    if user is not None:
        params["user"] = user
    return dict(conn.call("roots.add", params))


def remove_root(conn: Caller, name: str, *, user: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name}
    if user is not None:
        params["user"] = user
    return dict(conn.call("roots.remove", params))


def list_roots(conn: Caller, *, user: str | None = None) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.call("roots.list", {} if user is None else {"user": user})]


def install(conn: Caller, specs: Sequence[str], *, offline: bool = False,
            refresh: bool = False) -> list[Any]:
    """`omg.install.install` by omgd, from the daemon's mirrors: `InstallResult`s."""
    from omg.install import InstallResult
    from store.record import PathRecord

    params: dict[str, Any] = {"specs": list(specs)}
    if offline:
        params["offline"] = True
    if refresh:
        params["refresh"] = True
    out = []
    for r in conn.call("runtime.install", params):
        record = PathRecord.from_index(r["record"])
        layout = getattr(conn, "layout", None)
        path = layout.store_path(record.path) if layout is not None else Path(record.path)
        out.append(InstallResult(r["tool"], r["version"], path, record, bool(r["created"]),
                                 tuple(r["urls"]), tuple(r["warnings"])))
    return out


def list_remote(conn: Caller, tool: str, *, offline: bool = False) -> list[Any]:
    """`omg.install.list_remote` by omgd: what its mirror offers (`RemoteVersion`s)."""
    from omg.install import RemoteVersion

    params: dict[str, Any] = {"tool": tool}
    if offline:
        params["offline"] = True
    return [RemoteVersion(**r) for r in conn.call("runtime.releases", params)]


def outdated(conn: Caller, installed: Sequence[tuple[str, str]], *,
             offline: bool = False) -> list[Any]:
    """`omg.install.outdated` by omgd for these (tool, version) pairs (`Outdated`s)."""
    from omg.install import Outdated

    params: dict[str, Any] = {"installed": [f"{t}@{v}" for t, v in installed]}
    if offline:
        params["offline"] = True
    return [Outdated(**r) for r in conn.call("runtime.outdated", params)]
