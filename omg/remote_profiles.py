"""Profile use cases through omgd, with `omg.profiles`' names and result types.

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
from typing import Any, Protocol

from omg.profiles import (
    DeleteResult,
    GenerationInfo,
    ResolvedTool,
    SwitchResult,
    UseResult,
)

DEFAULT_PROFILE = "default"


class Caller(Protocol):
    def call(self, method: str, params: dict[str, Any] | None = None) -> Any: ...


def _params(profile: str, user: str | None, **more: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"profile": profile, **more}
    if user is not None:  # only root may name another user; the daemon checks
        params["user"] = user
    return params


def _tool(data: dict[str, Any]) -> ResolvedTool:
    env = tuple((str(k), str(v)) for k, v in data.get("env", ()))
    return ResolvedTool(**{**data, "env": env})


def use_result(data: dict[str, Any]) -> UseResult:
    from generations.env import Conflict

    return UseResult(**{**data, "tools": [_tool(t) for t in data["tools"]],
                        "conflicts": [Conflict(**c) for c in data["conflicts"]]})


def use(conn: Caller, specs: Sequence[str], *, profile: str = DEFAULT_PROFILE,
        command: str = "", user: str | None = None) -> UseResult:
    """`omg.profiles.use` by omgd: a new generation in this user's profile, switched to."""
    params = _params(profile, user, specs=list(specs))
    if command:
        params["command"] = command
    return use_result(conn.call("profile.use", params))


def rollback(conn: Caller, *, profile: str = DEFAULT_PROFILE, to: int | None = None,
             user: str | None = None) -> SwitchResult:
    params = _params(profile, user)
    if to is not None:
        params["to"] = to
    return SwitchResult(**conn.call("profile.rollback", params))


def list_generations(conn: Caller, *, profile: str = DEFAULT_PROFILE,
                     user: str | None = None) -> list[GenerationInfo]:
    return [GenerationInfo(**g) for g in conn.call("profile.generations",
                                                   _params(profile, user))]


def delete_generations(conn: Caller, numbers: Sequence[int], *,
                       profile: str = DEFAULT_PROFILE, user: str | None = None
                       ) -> DeleteResult:
    return DeleteResult(**conn.call("profile.delete",
                                    _params(profile, user, numbers=list(numbers))))


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
