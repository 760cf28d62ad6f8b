"""AUR dependency resolution and build order (pure: the lookups are passed in).

Repo dependencies are whatever `repo_satisfier` accepts (pyalpm's find_satisfier,
provides included); AUR ones are looked up level by level with one batched `aur_info`
call per level. A dependency no repo satisfies and no AUR package is named by is
looked up by provides, as yay does (`aur_provides`, then one info call for the
candidates): a candidate whose name or provides satisfy the dependency (version
constraints checked with `vercmp`), the exact name first, then the most votes, then
the name; the choice is said in the plan's notes. The build order is a topological
sort of AUR packages; a cycle or a missing dependency is an error naming the chain
from the target.
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
    providers: dict[str, str] = field(default_factory=dict)  # dependency name -> AUR name
    notes: list[str] = field(default_factory=list)  # choices, conflicts, replaces


Vercmp = Callable[[str, str], int]
_OPS: dict[str, Callable[[int], bool]] = {
    ">=": lambda c: c >= 0, "<=": lambda c: c <= 0, "=": lambda c: c == 0,
    ">": lambda c: c > 0, "<": lambda c: c < 0}


def _split_dep(dep: str) -> tuple[str, str, str]:
    """`foo>=1.2` -> ("foo", ">=", "1.2"); `foo` -> ("foo", "", "")."""
    name = dep_name(dep)
    rest = dep.split(": ", 1)[0].strip()[len(name):]
    for op in (">=", "<=", "=", ">", "<"):
        if rest.startswith(op):
            return name, op, rest[len(op):].strip()
    return name, "", ""


def satisfies(info: AurInfo, dep: str, vercmp: Vercmp) -> bool:
    """As pacman: the name with the package's version, or a provides entry (an
    unversioned provide satisfies only an unversioned dependency); a dependency
    without a pkgrel ignores the candidate's."""
    name, op, want = _split_dep(dep)
    offers = [(str(info["Name"]), str(info.get("Version") or ""))]
    for entry in listed(info, "Provides"):
        pname, _, pver = entry.partition("=")
        offers.append((pname.strip(), pver.strip()))
    for oname, over in offers:
        if oname != name:
            continue
        if not op:
            return True
        if not over:
            continue
        if "-" not in want:
            over = over.rsplit("-", 1)[0] if "-" in over else over
        if _OPS[op](vercmp(over, want)):
            return True
    return False


def choose_provider(dep: str, candidates: list[AurInfo], vercmp: Vercmp
                    ) -> AurInfo | None:
    """The exact name first, then the most votes, then the name (deterministic)."""
    name = dep_name(dep)
    fit = [c for c in candidates if satisfies(c, dep, vercmp)]
    fit.sort(key=lambda c: (str(c["Name"]) != name, -_votes(c), str(c["Name"])))
    return fit[0] if fit else None


def _votes(info: AurInfo) -> float:
    try:
        return float(info.get("NumVotes") or 0)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def listed(info: AurInfo, key: str) -> list[str]:
    """One list of an AUR info answer (``Depends``...); NetworkError if it is not one."""
    found = info.get(key) or []
    if not isinstance(found, list):
        raise NetworkError(f"AUR answer for {info['Name']}: {key} is not a list")
    return [str(d) for d in found]


def _deps(info: AurInfo) -> list[str]:
    return [d for key in ("Depends", "MakeDepends", "CheckDepends") for d in listed(info, key)]


def resolve(targets: list[str], *, repo_satisfier: Callable[[str], bool],
            aur_info: Callable[[list[str]], dict[str, AurInfo]],
            aur_provides: Callable[[str], list[str]] | None = None,
            vercmp: Vercmp | None = None) -> Plan:
    """`aur_provides(name)`: the AUR names whose provides match (aurweb's
    ``search/<name>?by=provides``); None: no lookup by provides."""
    infos: dict[str, AurInfo] = {}
    parent: dict[str, str | None] = {t: None for t in targets}
    repo_deps: list[str] = []
    graph: dict[str, list[str]] = {}
    wanted: dict[str, str] = {}  # dependency name -> the first dependency string naming it
    providers: dict[str, str] = {}
    notes: list[str] = []

    def by_provides(name: str) -> AurInfo | None:
        if aur_provides is None or vercmp is None:
            return None
        names = [n for n in aur_provides(name) if n != name]
        found = aur_info(names) if names else {}
        got = choose_provider(wanted.get(name, name), list(found.values()), vercmp)
        if got is not None:
            others = sorted(set(found) - {str(got["Name"])})
            why = f" (chosen over {', '.join(others)}: most votes)" if others else ""
            notes.append(f"{wanted.get(name, name)} is provided by {got['Name']}{why}")
        return got

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
            if info is None and parent.get(name) is not None:
                info = by_provides(name)
            if info is None:
                if parent.get(name) is None:
                    raise NotFound(f"package {name!r} not found in the AUR")
                raise NotFound(f"missing dependency {wanted.get(name, name)} (required by "
                               f"{chain(parent[name] or '')})")
            real = str(info["Name"])
            if real != name:  # a provider: it stands for `name` from now on
                providers[name] = real
                parent.setdefault(real, parent.get(name))
                if real in infos or real in graph:
                    continue
                name = real
            infos[name] = info
            graph[name] = []
            for dep in _deps(info):
                dname = dep_name(dep)
                dname = providers.get(dname, dname)
                wanted.setdefault(dname, dep)
                if dname in infos or dname in level or dname in nxt:
                    graph[name].append(dname)
                    continue
                if repo_satisfier(dep):
                    repo_deps.append(dep)
                    continue
                graph[name].append(dname)
                parent.setdefault(dname, name)
                nxt.append(dname)
        level = list(dict.fromkeys(n for n in nxt if n not in infos and n not in providers))
    for deps in graph.values():  # edges named before their provider was known
        deps[:] = [providers.get(d, d) for d in deps]

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
                   if d in {providers.get(dep_name(x), dep_name(x))
                            for x in listed(infos[n], "Depends")}]
               for n in order}
    for n in order:
        for key, verb in (("Conflicts", "conflicts with"), ("Replaces", "replaces")):
            if listed(infos[n], key):
                notes.append(f"{n} {verb} {', '.join(listed(infos[n], key))}")
    return Plan([infos[n] for n in order], list(dict.fromkeys(repo_deps)),
                {n: list(dict.fromkeys(graph[n])) for n in order}, runtime, providers, notes)
