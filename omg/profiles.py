"""Profile use cases: use, rollback, generations, current, which, gc, sync.

Explicit arguments in (a `Layout`, a user name, what to do), plain result
objects (NamedTuples: cheap to define, ``_asdict()`` for ``--json``) out;
nothing prints. The typer CLI and the fast path both call
these. Module-level imports stay light (no typer, rich, httpx, no store.local):
`omg use` between installed versions must cost little more than starting
Python. Building a new env or collecting garbage imports the heavier store
modules only when it happens.

Spec resolution looks at what the store holds that this user may resolve by
name (a trusted claim, or one of their own: `store.claims`); a `Resolver` (for
example a provider's "install if missing") is asked only when that cannot
satisfy a spec, so plugging installs in is one argument.
"""

# No `from __future__ import annotations` here, on purpose: see omg/fast.py.
import os
import shlex
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from generations import profile as gp
from generations.env import (
    MANIFEST_NAME,
    Conflict,
    ToolInput,
    parse_manifest,
    plan_env,
    plan_key,
)
from generations.profile import DEFAULT_PROFILE, ProfileRef
from omg.spec import ToolSpec, parse_tool_spec, select, version_key, version_pin
from shims import project as proj
from store.errors import NotFound, UsageError
from store.layout import Layout
from store.locks import flock

TYPE_CHECKING = False
if TYPE_CHECKING:
    from generations.catalogue import Catalogue

ENV_RECORD_NAME = "profile"


class ResolvedTool(NamedTuple):
    tool: str
    version: str
    store_path: str
    env: tuple[tuple[str, str], ...] = ()


#: Called with a spec the store cannot satisfy; returns the installed tool or None.
Resolver = Callable[[ToolSpec], "ResolvedTool | None"]


class UseResult(NamedTuple):
    profile: str
    generation: int
    env: str
    tools: list[ResolvedTool]
    conflicts: list[Conflict]
    unchanged: bool
    version_files: list[str]
    warnings: list[str]


class SwitchResult(NamedTuple):
    profile: str
    previous: int | None
    generation: int
    tools: dict[str, str]


class GenerationInfo(NamedTuple):
    number: int
    time: float
    command: str
    current: bool
    env: str
    tools: dict[str, str]
    changes: list[str]
    missing: bool = False


class GenerationDiff(NamedTuple):
    a: int
    b: int
    added: dict[str, str]
    removed: dict[str, str]
    changed: dict[str, tuple[str, str]]


class DeleteResult(NamedTuple):
    profile: str
    deleted: list[int]
    kept_current: int | None


class CurrentInfo(NamedTuple):
    profile: str
    generation: int | None
    env: str
    bin: str
    tools: list[ResolvedTool]


class WhichInfo(NamedTuple):
    executable: str
    tool: str
    version: str
    store_path: str
    path: str


# Context --------------------------------------------------------------------------


class Home:
    """What every use case needs: the layout, the user, a lazily opened index.

    `mirror=False` (the fast path) skips copying generation records into the
    LMDB index, so the hot path never imports lmdb; the files are the truth and
    `rebuild_index` brings the table up to date.
    """

    def __init__(self, layout: Layout, user: str, index: Any = None, *,
                 mirror: bool = True) -> None:
        self.layout = layout
        self.user = user
        self._index = index
        self.mirror = mirror
        self._catalogue: Catalogue | None = None

    @property
    def catalogue(self) -> "Catalogue":
        if self._catalogue is None:
            from generations.catalogue import Catalogue

            self._catalogue = Catalogue(self.layout, lambda: self.index)
        return self._catalogue

    @property
    def mirror_index(self) -> Any:
        return self.index if self.mirror else None

    @property
    def index(self) -> Any:
        if self._index is None:
            from store.index import Index

            self._index = Index.for_home(self.layout.db)
        return self._index

    def close(self) -> None:
        if self._catalogue is not None:
            self._catalogue.save()
        if self._index is not None:
            self._index.close()
            self._index = None

    def ref(self, profile: str = DEFAULT_PROFILE, project: Path | None = None) -> ProfileRef:
        if project is not None:
            return proj.project_ref(self.layout, self.user, project)
        return ProfileRef.user_profile(self.layout, self.user, profile)

    @contextmanager
    def gc_guard(self) -> Iterator[None]:
        with flock(self.layout.gc_lock, shared=True, what="the garbage collector lock"):
            yield


def _home(layout: Layout | Home, user: str | None) -> Home:
    if isinstance(layout, Home):
        return layout
    if user is None:
        raise TypeError("user is required with a Layout")
    return Home(layout, user)


# Reading the store and envs ---------------------------------------------------------


def installed_tools(home: Home) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """tool -> [(version, store path name, env)] of every tool in the store."""
    return home.catalogue.packages()


def read_manifest(layout: Layout, env: str) -> dict[str, Any]:
    if not env:
        return {}
    try:
        raw = (layout.store_path(env) / MANIFEST_NAME).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return {}
    return parse_manifest(raw, env)


def _tools_of(manifest: dict[str, Any]) -> dict[str, str]:
    return {t["tool"]: t["version"] for t in manifest.get("tools", [])}


def _priority(manifest: dict[str, Any]) -> list[ToolInput]:
    """Tools of a manifest in an order that reproduces its conflict winners."""
    tools = {t["tool"]: ToolInput(t["tool"], t["version"], t["store_path"],
                                  tuple(sorted(t.get("env", {}).items())))
             for t in manifest.get("tools", [])}
    winners = [c["winner"] for c in manifest.get("conflicts", [])]
    order = sorted(tools, key=lambda name: (name in winners, winners.count(name), name))
    return [tools[name] for name in order]


def _lister(layout: Layout) -> Callable[[str, str], list[tuple[str, bool]] | None]:
    def lister(store_path: str, rel: str) -> list[tuple[str, bool]] | None:
        try:
            with os.scandir(layout.store_path(store_path) / rel) as it:
                return sorted((e.name, e.is_dir(follow_symlinks=False)) for e in it)
        except (FileNotFoundError, NotADirectoryError):
            return None

    return lister


# use --------------------------------------------------------------------------------


def resolve(home: Home, specs: Sequence[ToolSpec],
            resolver: Resolver | None = None) -> list[ResolvedTool]:
    """Each spec against the store (then `resolver`); NotFound names what is installed."""
    installed = installed_tools(home)
    out = []
    for spec in specs:
        have = _resolvable(home, installed.get(spec.tool, []))
        version = select(spec.spec, [v for v, _, _ in have])
        if version is None:
            found = resolver(spec) if resolver is not None else None
            if found is None:
                if not have:
                    known = ", ".join(sorted(t for t, rows in installed.items()
                                             if _resolvable(home, rows))) or "nothing"
                    raise NotFound(f"no tool {spec.tool!r} in the store (installed: {known})",
                                   hint=f"omg store add DIR --name {spec.tool} --version V")
                versions = ", ".join(sorted({v for v, _, _ in have}, key=version_key))
                raise NotFound(f"no version of {spec.tool} matches {spec.spec!r} "
                               f"(installed: {versions})")
            out.append(found)
            continue
        # Several store paths with one version (rebuilt content): the newest wins.
        name, env = next((n, e) for v, n, e in reversed(have) if v == version)
        if version != spec.spec:  # an exact version the hot path resolves by itself
            home.catalogue.remember_spec(spec.tool, spec.spec, [n for _, n, _ in have], name,
                                         home.user)
        pairs = tuple(sorted((str(k), str(v)) for k, v in env.items()))
        out.append(ResolvedTool(spec.tool, version, name, pairs))
    return out


def _resolvable(home: Home, rows: list[tuple[str, str, dict[str, Any]]]
                ) -> list[tuple[str, str, dict[str, Any]]]:
    """The store paths among `rows` this user may resolve by name (`store.claims`):
    one user's `omg store add node ...` is never another user's node."""
    from store.claims import resolvable

    store_dir = str(home.layout.store)
    return [row for row in rows if resolvable(store_dir, row[1], home.user)]


def env_for(home: Home, tools: Sequence[ToolInput]) -> tuple[str, list[Conflict]]:
    """The env store path for `tools` in priority order, building it if needed."""
    plan = plan_env(tools, _lister(home.layout))
    key = plan_key(plan)
    cached = home.catalogue.env(key, plan.manifest_bytes())
    if cached is not None:
        return cached, plan.conflicts
    from generations.envstore import build_env

    name = build_env(home.layout, home.index, plan)
    home.catalogue.remember_env(key, name)
    return name, plan.conflicts


def use(layout: Layout | Home, specs: Sequence[str], *, user: str | None = None,
        profile: str = DEFAULT_PROFILE, project: Path | None = None,
        resolver: Resolver | None = None, command: str = "",
        write_version_files: bool = True, now: float | None = None) -> UseResult:
    """Add a generation holding the current tools plus `specs` (later wins) and switch."""
    home = _home(layout, user)
    parsed = [parse_tool_spec(s) for s in specs]
    if not parsed:
        raise UsageError("nothing to use: give TOOL@VERSION, e.g. node@20")
    ref = home.ref(profile, project)
    try:
        return _use(home, ref, specs, parsed, project, resolver, command,
                    write_version_files, now)
    finally:
        home.catalogue.save()  # what this run learned about the store, for the next one


def _use(home: Home, ref: ProfileRef, specs: Sequence[str], parsed: list[ToolSpec],
         project: Path | None, resolver: Resolver | None, command: str,
         write_version_files: bool, now: float | None) -> UseResult:
    with ref.locked(), home.gc_guard():
        resolved = resolve(home, parsed, resolver)
        cur = gp.current_number(ref)
        cur_env = gp.env_of(ref, cur) if cur is not None else ""
        manifest = read_manifest(home.layout, cur_env)
        warnings = []
        if cur_env and not manifest:
            warnings.append(f"generation {cur} of {ref.label} points at a missing store path "
                            f"({cur_env}); its tools are not carried over (see omg doctor)")
        new_names = {t.tool for t in resolved}
        order = [t for t in _priority(manifest) if t.tool not in new_names]
        order += [ToolInput(t.tool, t.version, t.store_path, t.env) for t in resolved]
        env, conflicts = env_for(home, order)
        mine = [c for c in conflicts if c.winner in new_names]
        if not warnings:  # the answer for omg/fast.py's next `use` of these tools here
            home.catalogue.remember_use(cur_env, [tuple(t) for t in resolved], env, mine)
        files: list[str] = []
        if project is not None:
            if write_version_files:
                files = write_pins(project, parsed, resolved)
            proj.register_root(home.layout, home.user, ref)
        if env == cur_env and cur is not None:
            return UseResult(ref.label, cur, env, resolved, mine, True, files, warnings)
        n = gp.add_generation(ref, env, command=command or "omg use " + shlex.join(specs),
                              now=time.time() if now is None else now, index=home.mirror_index)
        if home.mirror:
            gp.sync_mirror(home.index, ref)  # rows the fast path left out
    return UseResult(ref.label, n, env, resolved, mine, False, files, warnings)


def write_pins(project: Path, specs: Sequence[ToolSpec], tools: Sequence[ResolvedTool]
               ) -> list[str]:
    """Pin each resolved tool in the project's version files; the files written.

    Also for a `use` omgd made: the daemon never writes into a user's project.
    """
    return [str(proj.write_version_file(project, tool.tool, version_pin(spec, tool.version)))
            for spec, tool in zip(specs, tools, strict=True)]


# uninstall --------------------------------------------------------------------------


class UninstallResult(NamedTuple):
    profile: str
    generation: int
    env: str
    removed: list[str]  # TOOL@VERSION as they were in the profile


def uninstall(layout: Layout | Home, specs: Sequence[str], *, user: str | None = None,
              profile: str = DEFAULT_PROFILE, project: Path | None = None,
              now: float | None = None) -> UninstallResult:
    """A new generation without these tools; their store paths stay until `omg gc`.

    `TOOL` or `TOOL@SPEC` (the spec must match the version in the profile, so
    `omg uninstall node@18` never removes the node 20 a user switched to since).
    """
    home = _home(layout, user)
    parsed = [parse_tool_spec(s) for s in specs]
    if not parsed:
        raise UsageError("nothing to uninstall: give TOOL or TOOL@VERSION")
    ref = home.ref(profile, project)
    with ref.locked(), home.gc_guard():
        cur = gp.current_number(ref)
        if cur is None:
            raise NotFound(f"{ref.label} has no generation yet: nothing to uninstall")
        current = _priority(read_manifest(home.layout, gp.env_of(ref, cur)))
        by_tool = {t.tool: t for t in current}
        removed = []
        for spec in parsed:
            have = by_tool.get(spec.tool)
            if have is None or select(spec.spec, [have.version]) is None:
                held = ", ".join(f"{t.tool}@{t.version}" for t in current) or "nothing"
                raise NotFound(f"{spec} is not in {ref.label} (it holds {held})")
            removed.append(f"{have.tool}@{have.version}")
        dropped = {spec.tool for spec in parsed}
        env, _ = env_for(home, [t for t in current if t.tool not in dropped])
        n = gp.add_generation(ref, env, command="omg uninstall " + shlex.join(specs),
                              now=time.time() if now is None else now, index=home.mirror_index)
        if home.mirror:
            gp.sync_mirror(home.index, ref)
    return UninstallResult(ref.label, n, env, removed)


# rollback ---------------------------------------------------------------------------


def rollback(layout: Layout | Home, *, user: str | None = None,
             profile: str = DEFAULT_PROFILE, project: Path | None = None,
             to: int | None = None) -> SwitchResult:
    """Switch to the previous generation (or `to`) without creating one."""
    home = _home(layout, user)
    ref = home.ref(profile, project)
    with ref.locked():
        gens = gp.linked_numbers(ref)  # links only: a rollback reads no record
        cur = gp.current_number(ref)
        if not gens:
            raise NotFound(f"profile {ref.label} has no generations", hint="omg use TOOL@VERSION")
        if to is None:
            older = [n for n in gens if cur is None or n < cur]
            if not older:
                raise NotFound(f"profile {ref.label} has no generation before {cur}")
            to = max(older)
        if to not in gens:
            raise NotFound(f"profile {ref.label} has no generation {to}",
                           hint=f"generations: {', '.join(map(str, sorted(gens)))}")
        env = gp.env_of(ref, to)
        if not env or not home.layout.store_path(env).is_dir():
            raise NotFound(f"generation {to} of profile {ref.label}: store path {env} is missing",
                           hint="omg doctor")
        gp.switch(ref, to)
    return SwitchResult(ref.label, cur, to, _tools_of(read_manifest(home.layout, env)))


# generations ------------------------------------------------------------------------


def _changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    out = []
    for tool in sorted(set(before) | set(after)):
        a, b = before.get(tool), after.get(tool)
        if a == b:
            continue
        if a is None:
            out.append(f"+{tool} {b}")
        elif b is None:
            out.append(f"-{tool} {a}")
        else:
            out.append(f"{tool} {a} -> {b}")
    return out


def list_generations(layout: Layout | Home, *, user: str | None = None,
                     profile: str = DEFAULT_PROFILE,
                     project: Path | None = None) -> list[GenerationInfo]:
    home = _home(layout, user)
    ref = home.ref(profile, project)
    if home.mirror:
        gp.sync_mirror(home.index, ref)
    out: list[GenerationInfo] = []
    before: dict[str, str] = {}
    for g in gp.generations(ref):
        missing = not home.layout.store_path(g.env).is_dir() if g.env else True
        tools = _tools_of(read_manifest(home.layout, g.env))
        out.append(GenerationInfo(g.number, g.time, g.command, g.current, g.env, tools,
                                  _changes(before, tools), missing))
        before = tools
    return out


def diff_generations(layout: Layout | Home, a: int, b: int, *, user: str | None = None,
                     profile: str = DEFAULT_PROFILE,
                     project: Path | None = None) -> GenerationDiff:
    home = _home(layout, user)
    ref = home.ref(profile, project)
    found = {g.number: g for g in gp.generations(ref)}
    for n in (a, b):
        if n not in found:
            raise NotFound(f"profile {ref.label} has no generation {n}")
    ta = _tools_of(read_manifest(home.layout, found[a].env))
    tb = _tools_of(read_manifest(home.layout, found[b].env))
    return GenerationDiff(
        a, b,
        added={t: v for t, v in tb.items() if t not in ta},
        removed={t: v for t, v in ta.items() if t not in tb},
        changed={t: (ta[t], tb[t]) for t in ta if t in tb and ta[t] != tb[t]},
    )


def parse_age(text: str) -> float:
    """``30d``, ``12h``, ``90m``, ``2w`` or plain seconds -> seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    num, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        value = float(num)
    except ValueError:
        raise UsageError(f"invalid age {text!r}: use e.g. 30d, 12h, 90m") from None
    if value < 0:
        raise UsageError(f"invalid age {text!r}: must not be negative")
    return value * units[unit]


def delete_generations(layout: Layout | Home, numbers: Sequence[int] = (), *,
                       user: str | None = None, profile: str = DEFAULT_PROFILE,
                       project: Path | None = None, older_than: float | None = None,
                       keep: int | None = None, now: float | None = None) -> DeleteResult:
    """Delete the given generations, those older than `older_than` seconds, or all but
    the newest `keep`. The current generation is never deleted: naming it is an error,
    and the age and count filters skip it."""
    home = _home(layout, user)
    ref = home.ref(profile, project)
    if not numbers and older_than is None and keep is None:
        raise UsageError("say which generations: numbers, --older-than AGE or --keep K")
    if keep is not None and keep < 0:
        raise UsageError("--keep must be 0 or more")
    with ref.locked():
        gens = gp.generations(ref)
        have = {g.number for g in gens}
        cur = gp.current_number(ref)
        for n in numbers:
            if n not in have:
                raise NotFound(f"profile {ref.label} has no generation {n}")
            if n == cur:
                raise UsageError(f"generation {n} is the current generation of profile "
                                 f"{ref.label}", hint="switch away first (omg rollback)")
        doomed = set(numbers)
        if older_than is not None:
            cutoff = (time.time() if now is None else now) - older_than
            doomed |= {g.number for g in gens if g.time < cutoff and g.number != cur}
        if keep is not None:
            newest = sorted(have, reverse=True)[:keep]
            doomed |= {n for n in have if n not in newest and n != cur}
        for n in sorted(doomed):
            gp.delete(ref, n, home.mirror_index)
    return DeleteResult(ref.label, sorted(doomed), cur)


# current / which ----------------------------------------------------------------------


def current(layout: Layout | Home, *, user: str | None = None,
            profile: str = DEFAULT_PROFILE, project: Path | None = None) -> CurrentInfo:
    home = _home(layout, user)
    ref = home.ref(profile, project)
    n = gp.current_number(ref)
    env = gp.env_of(ref, n) if n is not None else ""
    manifest = read_manifest(home.layout, env)
    tools = [ResolvedTool(t["tool"], t["version"], t["store_path"],
                          tuple(sorted(t.get("env", {}).items())))
             for t in manifest.get("tools", [])]
    return CurrentInfo(ref.label, n, env, str(ref.bin), tools)


def which(layout: Layout | Home, executable: str, *, user: str | None = None,
          profile: str = DEFAULT_PROFILE, project: Path | None = None) -> WhichInfo:
    home = _home(layout, user)
    if "/" in executable or not executable:
        raise UsageError(f"invalid executable name {executable!r}")
    info = current(home, profile=profile, project=project)
    if info.generation is None:
        raise NotFound(f"profile {info.profile} has no generations", hint="omg use TOOL@VERSION")
    manifest = read_manifest(home.layout, info.env)
    tool = manifest.get("executables", {}).get(executable)
    if tool is None:
        raise NotFound(f"{executable!r} is not in profile {info.profile} (generation "
                       f"{info.generation})")
    entry = next(t for t in info.tools if t.tool == tool)
    return WhichInfo(executable, tool, entry.version, entry.store_path,
                     os.path.realpath(Path(info.bin) / executable))


# gc / sync / check --------------------------------------------------------------------


def gc(layout: Layout | Home, *, dry_run: bool = False, older_than: float | None = None,
       store: Any = None, now: float | None = None) -> Any:
    """Collect garbage; returns `generations.gc.GcResult`."""
    from generations.gc import collect
    from store.local import LocalStore

    if isinstance(layout, Home):
        layout = layout.layout
    store = store if store is not None else LocalStore(layout)
    return collect(store, dry_run=dry_run, older_than=older_than,
                   now=time.time() if now is None else now)


def sync(layout: Layout | Home, project_dir: Path, *, user: str | None = None,
         resolver: Resolver | None = None) -> UseResult:
    """Build the project profile from the project's version files."""
    home = _home(layout, user)
    root, pins = proj.project_pins(project_dir)
    return use(home, pins, project=root, resolver=resolver,
               command="omg sync", write_version_files=False)


def check(layout: Layout) -> list[gp.GenerationProblem]:
    """Generations whose store paths are missing (for `omg doctor`)."""
    return gp.check(layout)


def rebuild_index(layout: Layout | Home, *, user: str | None = None) -> int:
    """Rebuild the index's generations table from profiles/ (for `omg doctor --repair`)."""
    home = _home(layout, user or "")
    return gp.rebuild_index(home.layout, home.index)
