"""AUR dependency resolution and build order (pure: the lookups are passed in).

Repo dependencies are whatever `repo_satisfier` accepts (pyalpm's find_satisfier,
provides included); AUR ones are looked up level by level with one batched `aur_info`
call per level. The build order is a topological sort of AUR packages; a cycle or a
missing dependency is an error naming the chain from the target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from omg.arch.names import dep_name
from store.errors import NetworkError, NotFound, UsageError

if TYPE_CHECKING:
    from omg.arch.aur import AurInfo


class DependencyCycle(UsageError):
    pass


@dataclass
class Plan:
    order: list[AurInfo]  # dependencies first
    repo_deps: list[str] = field(default_factory=list)  # repo dependency strings
    aur_deps: dict[str, list[str]] = field(default_factory=dict)  # name -> AUR dep names
    runtime_deps: dict[str, list[str]] = field(default_factory=dict)  # Depends only


def _listed(info: AurInfo, key: str) -> list[str]:
    """One list of an AUR info answer (``Depends``...); NetworkError if it is not one."""
    found = info.get(key) or []
    if not isinstance(found, list):
        raise NetworkError(f"AUR answer for {info['Name']}: {key} is not a list")
    return [str(d) for d in found]


def _deps(info: AurInfo) -> list[str]:
    return [d for key in ("Depends", "MakeDepends", "CheckDepends") for d in _listed(info, key)]


def resolve(targets: list[str], *, repo_satisfier: Callable[[str], bool],
            aur_info: Callable[[list[str]], dict[str, AurInfo]]) -> Plan:
    infos: dict[str, AurInfo] = {}
    parent: dict[str, str | None] = {t: None for t in targets}
    repo_deps: list[str] = []
    graph: dict[str, list[str]] = {}

    def chain(name: str) -> str:
        out = [name]
        seen = {name}
        cur = parent.get(name)
        while cur is not None and cur not in seen:
            out.append(cur)
            seen.add(cur)
            cur = parent.get(cur)
        return " <- ".join(out)

    level = list(dict.fromkeys(targets))
    while level:
        got = aur_info(level)
        nxt: list[str] = []
        for name in level:
            info = got.get(name)
            if info is None:
                if parent.get(name) is None:
                    raise NotFound(f"package {name!r} not found in the AUR")
                raise NotFound(f"missing dependency {name} (required by "
                               f"{chain(parent[name] or '')})")
            infos[name] = info
            graph[name] = []
            for dep in _deps(info):
                dname = dep_name(dep)
                if dname in infos or dname in level or dname in nxt:
                    graph[name].append(dname)
                    continue
                if repo_satisfier(dep):
                    repo_deps.append(dep)
                    continue
                graph[name].append(dname)
                parent.setdefault(dname, name)
                nxt.append(dname)
        level = list(dict.fromkeys(n for n in nxt if n not in infos))

    order: list[str] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cyc = [*path[path.index(node):], node]
            raise DependencyCycle(f"dependency cycle: {' -> '.join(cyc)}")
        state[node] = 1
        for dep in graph.get(node, []):
            visit(dep, [*path, node])
        state[node] = 2
        order.append(node)

    for t in dict.fromkeys(targets):
        visit(t, [])
    runtime = {n: [d for d in graph[n]
                   if d in {dep_name(x) for x in _listed(infos[n], "Depends")}]
               for n in order}
    return Plan([infos[n] for n in order], list(dict.fromkeys(repo_deps)),
                {n: list(dict.fromkeys(graph[n])) for n in order}, runtime)
