"""Profile use cases: use, uninstall, rollback, generations, current, which, gc, sync.

Explicit arguments in (a `Home`: which OMG_HOME, which user; then what to do),
plain results out (`store.results.Result`: NamedTuples to the type checker,
``_asdict()`` for ``--json`` and the daemon's wire); nothing prints. Every caller
runs these same functions: the typer CLI, omgd (for the peer it serves) and the
hot path of `omg use`, `rollback` and `current` (omg/fast.py parses those
arguments by hand and calls in).

What keeps that hot path cheap lives inside the use cases, not in a second copy of
them. The catalogue (generations/catalogue.py) holds answers an earlier `use`
computed (spec -> store path, (current env, tools) -> env), so a `use` between
installed versions resolves and plans nothing; and this module imports at the top
only what that path needs, on path strings: os, the generation writer
(`generations.links` through `generations.profile`), the spec parser and results.
pathlib, LMDB, the store's ingest and the env planner are imported on a miss,
where they are needed anyway.

Spec resolution looks at what the store holds that this user may resolve by
name (a trusted claim, or one of their own: `store.claims`); a `Resolver` (a
provider's "install if missing") is asked only when that cannot satisfy a spec,
so plugging installs in is one argument.
"""

from __future__ import annotations

import os
import time

from generations import profile as gp
from generations.manifest import MANIFEST_NAME, Conflict, ToolInput, read_manifest
from generations.profile import DEFAULT_PROFILE, ProfileRef
from omg.spec import AUR, ToolSpec, parse_tool_spec, version_pin
from store.errors import NotFound, UsageError
from store.locks import FileLock, gc_lock
from store.results import SHAPES, Result, many, pairs, shaped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from generations.catalogue import Catalogue, Installed
    from generations.gc import GcResult
    from generations.keep import KeepPolicy
    from generations.manifest import Manifest
    from omg.cache_prune import CachePolicy
    from store.index import Index
    from store.layout import Layout
    from store.local import LocalStore
    from store.record import PathRecord


#: The code, beside this file, whose answers the catalogue keeps for `use` (spec
#: resolution, this planner, the exports table), on top of generations' env planner:
#: an edit of one starts its answers afresh (`generations.catalogue.code_stamp`).
CATALOGUE_SOURCES = ("spec.py", "profiles.py", "exports.py")


def catalogue_sources() -> list[str]:
    """`CATALOGUE_SOURCES` as absolute paths (stat-ed by the catalogue, not imported)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return [here + "/" + name for name in CATALOGUE_SOURCES]


class ResolvedTool(Result):
    tool: str
    version: str
    store_path: str
    env: tuple[tuple[str, str], ...] = ()


if TYPE_CHECKING:
    #: Called with a spec the store cannot satisfy; returns the installed tool or None.
    Resolver = Callable[[ToolSpec], ResolvedTool | None]
    #: Called with the tools a command asks for, before anything is written: the
    #: warnings to add, or `PolicyDenied` (`[policy]`, omg/audit/policy.py).
    Check = Callable[[Sequence[ResolvedTool]], list[str]]


class UseResult(Result):
    profile: str
    generation: int
    env: str
    tools: list[ResolvedTool]
    conflicts: list[Conflict]
    unchanged: bool
    version_files: list[str]
    warnings: list[str]


class SwitchResult(Result):
    profile: str
    previous: int | None
    generation: int
    tools: dict[str, str]


class GenerationInfo(Result):
    number: int
    time: float
    command: str
    current: bool
    env: str
    tools: dict[str, str]
    changes: list[str]
    missing: bool = False


class GenerationDiff(Result):
    a: int
    b: int
    added: dict[str, str]
    removed: dict[str, str]
    changed: dict[str, tuple[str, str]]


class DeleteResult(Result):
    profile: str
    deleted: list[int]
    kept_current: int | None


class CurrentInfo(Result):
    profile: str
    generation: int | None
    env: str
    bin: str
    tools: list[ResolvedTool]


class WhichInfo(Result):
    executable: str
    tool: str
    version: str
    store_path: str
    path: str


class UninstallResult(Result):
    profile: str
    generation: int | None  # the new one; None when the profile did not change
    env: str
    removed: list[str]  # TOOL@VERSION as they were in the profile
    #: TOOL@VERSION whose install roots were removed (generations/installroots.py).
    unrooted: list[str] = []  # noqa: RUF012 (a NamedTuple's default, never mutated)


#: How omgd's replies become these results again (`store.results.from_plain`).
SHAPES.update({
    ResolvedTool: {"env": pairs},
    UseResult: {"tools": many(shaped(ResolvedTool)), "conflicts": many(shaped(Conflict))},
})


# Context --------------------------------------------------------------------------


class Home:
    """What every use case needs: which OMG_HOME (a path string), which user, and the
    index and catalogue, opened on first use.

    `mirror=False` (the hot path) skips copying generation records into the LMDB
    index, so `use` and `rollback` never import lmdb; the files are the truth, and
    the next command that has the index open brings its rows up to date
    (`generations.profile.sync_mirror`).
    """

    def __init__(self, home: str | os.PathLike[str] | Layout, user: str,
                 index: Index | None = None, *, mirror: bool = True,
                 opener: Callable[[], Index] | None = None) -> None:
        """`index`: one already open (omgd's); `opener`: how to open it on first use
        (a backend shares its store's); neither: this Home opens and closes its own."""
        root = home if isinstance(home, str | os.PathLike) else home.home  # a Layout
        self.dir = os.path.abspath(os.fspath(root))
        self.store = self.dir + "/store"
        self.user = user
        self._index = index
        self._opener = opener
        self._owns_index = index is None and opener is None
        self.mirror = mirror
        self._catalogue: Catalogue | None = None
        self._layout: Layout | None = None

    @property
    def layout(self) -> Layout:
        if self._layout is None:
            from pathlib import Path

            from store.layout import Layout

            self._layout = Layout(Path(self.dir))
        return self._layout

    @property
    def catalogue(self) -> Catalogue:
        if self._catalogue is None:
            from generations.catalogue import Catalogue

            self._catalogue = Catalogue(self.dir, self.user, lambda: self.index,
                                        catalogue_sources())
        return self._catalogue

    @property
    def mirror_index(self) -> Index | None:
        return self.index if self.mirror else None

    @property
    def index(self) -> Index:
        if self._index is None:
            if self._opener is not None:
                self._index = self._opener()
            else:
                from store.index import Index

                self._index = Index.for_home(self.dir + "/db")
        return self._index

    def close(self) -> None:
        if self._catalogue is not None:
            self._catalogue.save()
        if self._index is not None and self._owns_index:
            self._index.close()
            self._index = None

    def ref(self, profile: str = DEFAULT_PROFILE, project: Path | None = None) -> ProfileRef:
        if project is not None:
            from shims.project import project_ref

            return project_ref(self.layout, self.user, project)
        return ProfileRef.user_profile(self.dir, self.user, profile)

    def existing(self, profile: str = DEFAULT_PROFILE,
                 project: Path | None = None) -> ProfileRef:
        """`ref`, for commands that read or switch a profile: a named profile that
        does not exist (a typo) is NotFound, not an empty profile. The default
        profile and project profiles read as empty until their first `use`."""
        ref = self.ref(profile, project)
        if project is None and profile != DEFAULT_PROFILE and not os.path.lexists(ref.link):
            from generations.links import profiles_in

            names = sorted({n for u, _, n in profiles_in(str(self.layout.profiles))
                            if u == self.user and "/" not in n})
            raise NotFound(f"no profile {profile!r} (profiles: "
                           f"{', '.join(names) or 'none yet'})",
                           hint=f"omg use TOOL@VERSION --profile {profile} makes it")
        return ref

    def gc_guard(self) -> FileLock:
        """The gc lock, shared: held from choosing store paths until a root holds them."""
        return gc_lock(self.dir)


def _home(layout: Layout | Home, user: str | None) -> Home:
    if isinstance(layout, Home):
        return layout
    if user is None:
        raise TypeError("user is required with a Layout")
    return Home(layout, user)


_SHELL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                        "_@%+=:,./-")


def command_line(words: Sequence[str]) -> str:
    """`shlex.join` (which imports `re`, milliseconds on the hot path): the command a
    generation records."""
    quoted = []
    for word in words:
        if word and set(word) <= _SHELL_SAFE:
            quoted.append(word)
        else:
            quoted.append("'" + word.replace("'", "'\"'\"'") + "'")
    return " ".join(quoted)


# Reading the store and envs ---------------------------------------------------------


def installed_tools(home: Home) -> dict[str, list[Installed]]:
    """tool -> [(version, store path name, env)] of every tool in the store, oldest first."""
    return home.catalogue.packages()


def _tools_of(manifest: Manifest) -> dict[str, str]:
    return {t["tool"]: t["version"] for t in manifest.get("tools", [])}


def _resolved_of(manifest: Manifest) -> list[ResolvedTool]:
    return [ResolvedTool(t["tool"], t["version"], t["store_path"],
                         tuple(sorted(t.get("env", {}).items())))
            for t in manifest.get("tools", [])]


def _priority(manifest: Manifest) -> list[ToolInput]:
    """Tools of a manifest in an order that reproduces its conflict winners."""
    tools = {t["tool"]: ToolInput(t["tool"], t["version"], t["store_path"],
                                  tuple(sorted(t.get("env", {}).items())),
                                  tuple((d[0], d[1], d[2]) for d in t.get("deps", [])))
             for t in manifest.get("tools", [])}
    winners = [c["winner"] for c in manifest.get("conflicts", [])]
    order = sorted(tools, key=lambda name: (name in winners, winners.count(name), name))
    return [tools[name] for name in order]


def _lister(store_dir: str) -> Callable[[str, str], list[tuple[str, bool]] | None]:
    def lister(store_path: str, rel: str) -> list[tuple[str, bool]] | None:
        try:
            with os.scandir(f"{store_dir}/{store_path}/{rel}") as it:
                return sorted((e.name, e.is_dir(follow_symlinks=False)) for e in it)
        except (FileNotFoundError, NotADirectoryError):
            return None

    return lister


# use --------------------------------------------------------------------------------


def resolve(home: Home, specs: Sequence[ToolSpec],
            resolver: Resolver | None = None) -> list[ResolvedTool]:
    """Each spec against the store (then `resolver`); NotFound names what is installed.

    The catalogue answers first (an exact version, or what the same spec chose
    among the same store paths before); the store is read only when it cannot.
    """
    installed: dict[str, list[Installed]] | None = None
    out = []
    for spec in specs:
        # `aur/foo`: the catalogue knows names, not origins; the records say.
        known = None if spec.repo else home.catalogue.resolved(spec.tool, spec.spec)
        if known is not None:
            out.append(ResolvedTool(*known))
            continue
        if installed is None:
            installed = installed_tools(home)
        out.append(_resolve_in_store(home, spec, installed, resolver))
    return out


def _resolve_in_store(home: Home, spec: ToolSpec,
                      installed: dict[str, list[Installed]],
                      resolver: Resolver | None) -> ResolvedTool:
    from omg.spec import select, version_key

    have = _resolvable(home, installed.get(spec.tool, []))
    if spec.repo:
        have = [row for row in have if _origin_matches(home, row[1], spec.repo)]
    version = select(spec.spec, [v for v, _, _ in have], spec.tool)
    if version is None:
        found = resolver(spec) if resolver is not None and not spec.repo else None
        if found is not None:
            return found
        if spec.repo:
            have_text = f" (have: {', '.join(v for v, _, _ in have)})" if have else ""
            raise NotFound(f"no package {spec.tool} from {spec.repo} in the store matches "
                           f"{spec.spec!r}{have_text}",
                           hint=f"omg install aur/{spec.tool}" if spec.repo == AUR
                           else "omg store ls lists what the store holds")
        if not have:
            from omg.providers import TOOLS, did_you_mean

            mine = sorted(t for t, rows in installed.items() if _resolvable(home, rows))
            if spec.tool not in TOOLS:  # not one omg installs: a typo, or a tool of one's own
                raise NotFound(f"unknown tool {spec.tool!r}"
                               f"{did_you_mean(spec.tool, [*TOOLS, *mine])}",
                               hint=f"omg knows {', '.join(TOOLS)}; a tool of your own: "
                                    f"omg store add DIR --name {spec.tool} --version V")
            raise NotFound(f"no tool {spec.tool!r} in the store (installed: "
                           f"{', '.join(mine) or 'nothing'})",
                           hint=f"omg install {spec.tool}@VERSION")
        versions = ", ".join(sorted({v for v, _, _ in have}, key=version_key))
        raise NotFound(f"no version of {spec.tool} matches {spec.spec!r} "
                       f"(installed: {versions})")
    # Several store paths with one version (a rebuild, another source's bytes): the one
    # added last wins (`installed_tools` lists them oldest first), as the catalogue's
    # answer for an exact version does (generations/catalogue.py).
    name, env = next((n, e) for v, n, e in reversed(have) if v == version)
    if version != spec.spec and not spec.repo:  # the catalogue resolves exact versions
        home.catalogue.remember_spec(spec.tool, spec.spec, [n for _, n, _ in have], name)
    pairs = tuple(sorted((str(k), str(v)) for k, v in env.items()))
    return ResolvedTool(spec.tool, version, name, pairs)


def _record(home: Home, name: str) -> PathRecord:
    from store.ingest import existing_record

    return existing_record(home.layout, home.index, name)


def _origin_matches(home: Home, name: str, repo: str) -> bool:
    """Did store path `name` come from `repo`: ``aur`` for an AUR build, any other name
    for an ingested repository package (the origin names its repository when known)."""
    origin = _record(home, name).origin or {}
    kind = origin.get("kind")
    if repo == AUR:
        return kind == AUR
    return (kind not in (None, AUR) and origin.get("repo", repo) == repo
            and _is_package(home, name))


def _is_package(home: Home, name: str) -> bool:
    """Laid out as an Arch package (`generations.env.forest_root`)."""
    from generations.env import forest_root

    return forest_root(name, _lister(home.store)) != ""


def package_deps(home: Home, store_path: str) -> tuple[tuple[str, str, str], ...]:
    """(name, version, store path) of what an Arch package's store path references,
    all the way down, dependencies before what needs them; () for anything else
    (a runtime's references are its own business, not the profile's)."""
    if not _is_package(home, store_path):
        return ()
    out: dict[str, tuple[str, str, str]] = {}
    seen = {store_path}

    def visit(name: str) -> None:
        for ref in _record(home, name).references:
            if ref not in seen:
                seen.add(ref)
                visit(ref)
                rec = _record(home, ref)
                out[ref] = (rec.name, rec.version, ref)

    visit(store_path)
    return tuple(out.values())


def tool_input(home: Home, tool: ResolvedTool) -> ToolInput:
    """What the env planner needs of a resolved tool: a package's dependencies too."""
    return ToolInput(tool.tool, tool.version, tool.store_path, tool.env,
                     package_deps(home, tool.store_path))


def _resolvable(home: Home, rows: list[Installed]) -> list[Installed]:
    """The store paths among `rows` this user may resolve by name (`store.claims`):
    one user's `omg store add node ...` is never another user's node."""
    from store.claims import resolvable

    return [row for row in rows if resolvable(home.store, row[1], home.user)]


def env_for(home: Home, tools: Sequence[ToolInput]) -> tuple[str, list[Conflict]]:
    """The env store path for `tools` in priority order, building it if needed."""
    from generations.env import plan_env, plan_key
    from omg.exports import env_exports

    lister = _lister(home.store)
    plan = plan_env(tools, lister, env_exports(lister))
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
        write_version_files: bool = True, now: float | None = None,
        check: Check | None = None) -> UseResult:
    """Add a generation holding the current tools plus `specs` (later wins) and switch.

    `check` judges the resolved tools before anything is written (`[policy]`)."""
    home = _home(layout, user)
    parsed = [parse_tool_spec(s) for s in specs]
    if not parsed:
        raise UsageError("nothing to use: give TOOL@VERSION, e.g. node@20")
    ref = home.ref(profile, project)
    try:
        return _use(home, ref, specs, parsed, project, resolver, command,
                    write_version_files, now, check)
    finally:
        home.catalogue.save()  # what this run learned about the store, for the next one


def _use(home: Home, ref: ProfileRef, specs: Sequence[str], parsed: list[ToolSpec],
         project: Path | None, resolver: Resolver | None, command: str,
         write_version_files: bool, now: float | None, check: Check | None) -> UseResult:
    with ref.locked(), home.gc_guard():
        resolved = resolve(home, parsed, resolver)
        judged = check(resolved) if check is not None else []  # before any env or link
        cur = gp.current_number(ref)
        cur_env = gp.env_of(ref, cur) if cur is not None else ""
        env, mine, warnings = _new_env(home, ref, cur, cur_env, resolved)
        warnings = [*judged, *warnings]
        files: list[str] = []
        if project is not None:
            from shims.project import register_root

            if write_version_files:
                files = write_pins(project, parsed, resolved)
            register_root(home.layout, home.user, ref)
        if env == cur_env and cur is not None:
            return UseResult(ref.label, cur, env, resolved, mine, True, files, warnings)
        n = gp.add_generation(ref, env, command=command or "omg use " + command_line(specs),
                              now=time.time() if now is None else now, index=home.mirror_index)
        if home.mirror:
            gp.sync_mirror(home.index, ref)  # rows a `use` without the index left out
    return UseResult(ref.label, n, env, resolved, mine, False, files, warnings)


def _new_env(home: Home, ref: ProfileRef, cur: int | None, cur_env: str,
             resolved: list[ResolvedTool]) -> tuple[str, list[Conflict], list[str]]:
    """(env, conflicts the new tools caused, warnings) for `resolved` on top of `cur_env`.

    The env is a pure function of the current env and the resolved tools (store
    paths never change), so the catalogue's answer for that pair is the answer;
    only without one is the current manifest read and a new env planned.
    """
    key = [tuple(t) for t in resolved]
    intact = not cur_env or os.path.isfile(f"{home.store}/{cur_env}/{MANIFEST_NAME}")
    known = home.catalogue.used(cur_env, key) if intact else None
    if known is not None:
        env, triples = known
        return env, [Conflict(*c) for c in triples], []
    manifest = read_manifest(home.store, cur_env)
    warnings = []
    if cur_env and not manifest:
        warnings.append(f"generation {cur} of {ref.label} points at a missing store path "
                        f"({cur_env}); its tools are not carried over (see omg doctor)")
    new_names = {t.tool for t in resolved}
    order = [t for t in _priority(manifest) if t.tool not in new_names]
    order += [tool_input(home, t) for t in resolved]
    env, conflicts = env_for(home, order)
    mine = [c for c in conflicts if c.winner in new_names]
    if not warnings:  # the answer for the next `use` of these tools on this env
        home.catalogue.remember_use(cur_env, key, env, mine)
    return env, mine, warnings


def write_pins(project: Path, specs: Sequence[ToolSpec], tools: Sequence[ResolvedTool]
               ) -> list[str]:
    """Pin each resolved tool in the project's version files; the files written.

    Also for a `use` omgd made: the daemon never writes into a user's project.
    Only for tools the user named (`omg use --local` without arguments and `omg sync`
    write nothing); a pin the project already holds is not rewritten.
    """
    from omg.spec import is_range, one_word
    from shims.project import write_version_file

    written = []
    for spec, tool in zip(specs, tools, strict=True):
        if spec.repo:  # a package (`aur/foo`): no version file of any tool names those
            continue
        pin = version_pin(spec, tool.version)
        path = write_version_file(project, tool.tool, one_word(pin), is_range=is_range(pin))
        if path is not None:
            written.append(str(path))
    return written


# uninstall --------------------------------------------------------------------------




def uninstall(layout: Layout | Home, specs: Sequence[str], *, user: str | None = None,
              profile: str = DEFAULT_PROFILE, project: Path | None = None,
              now: float | None = None) -> UninstallResult:
    """Drop the user's install roots of these tools and a new generation without them;
    their store paths stay until `omg gc` (and while older generations hold them).

    `TOOL` removes every installed version and the tool from the profile; `TOOL@SPEC`
    only the versions it matches (so `omg uninstall node@18` never removes the node 20
    a user switched to since). A spec neither installed nor in the profile is NotFound.
    """
    from generations import installroots

    home = _home(layout, user)
    parsed = [(parse_tool_spec(s), "@" not in s) for s in specs]
    if not parsed:
        raise UsageError("nothing to uninstall: give TOOL or TOOL@VERSION")
    ref = home.ref(profile, project)
    roots = installroots.rooted(home.dir, home.user)
    with ref.locked(), home.gc_guard():
        cur = gp.current_number(ref)
        current = [] if cur is None else _priority(
            read_manifest(home.store, gp.env_of(ref, cur)))
        removed = [t for t in current if any(_uninstalls(spec, every, t.tool, t.version)
                                             for spec, every in parsed)]
        have = [(t.tool, t.version) for t in current] + [(r.name, r.version) for r in roots]
        for spec, every in parsed:
            if not any(_uninstalls(spec, every, tool, version) for tool, version in have):
                held = ", ".join(f"{t.tool}@{t.version}" for t in current) or "nothing"
                raise NotFound(f"{spec if not every else spec.tool} is neither installed nor "
                               f"in {ref.label} (it holds {held})", hint="omg list")
        n, env = None, ""
        if removed:
            env, _ = env_for(home, [t for t in current if t not in removed])
            n = gp.add_generation(ref, env, command="omg uninstall " + command_line(specs),
                                  now=time.time() if now is None else now,
                                  index=home.mirror_index)
            if home.mirror:
                gp.sync_mirror(home.index, ref)
    # After the generation: a failure above leaves the roots as they were.
    gone = installroots.remove(home.dir, home.user, lambda r: any(
        _uninstalls(spec, every, r.name, r.version) for spec, every in parsed))
    return UninstallResult(ref.label, n, env, [f"{t.tool}@{t.version}" for t in removed],
                           [f"{r.name}@{r.version}" for r in gone])


def _uninstalls(spec: ToolSpec, every: bool, tool: str, version: str) -> bool:
    """Does `omg uninstall SPEC` reach `tool` `version` (every version, for a bare TOOL)?"""
    from omg.spec import matches

    return spec.tool == tool and (every or matches(spec.spec, version, tool))


# rollback ---------------------------------------------------------------------------


def rollback(layout: Layout | Home, *, user: str | None = None,
             profile: str = DEFAULT_PROFILE, project: Path | None = None,
             to: int | None = None) -> SwitchResult:
    """Switch to the previous generation (or `to`) without creating one."""
    home = _home(layout, user)
    ref = home.existing(profile, project)
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
        if not env or not os.path.isdir(f"{home.store}/{env}"):
            raise NotFound(f"generation {to} of profile {ref.label}: store path {env} is missing",
                           hint="omg doctor")
        gp.switch(ref, to)
    return SwitchResult(ref.label, cur, to, _tools_of(read_manifest(home.store, env)))


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
    ref = home.existing(profile, project)
    if home.mirror:
        gp.sync_mirror(home.index, ref)
    out: list[GenerationInfo] = []
    before: dict[str, str] = {}
    for g in gp.generations(ref):
        missing = not os.path.isdir(f"{home.store}/{g.env}") if g.env else True
        tools = _tools_of(read_manifest(home.store, g.env))
        out.append(GenerationInfo(g.number, g.time, g.command, g.current, g.env, tools,
                                  _changes(before, tools), missing))
        before = tools
    return out


def diff_generations(layout: Layout | Home, a: int, b: int, *, user: str | None = None,
                     profile: str = DEFAULT_PROFILE,
                     project: Path | None = None) -> GenerationDiff:
    home = _home(layout, user)
    ref = home.existing(profile, project)
    found = {g.number: g for g in gp.generations(ref)}
    for n in (a, b):
        if n not in found:
            raise NotFound(f"profile {ref.label} has no generation {n}")
    ta = _tools_of(read_manifest(home.store, found[a].env))
    tb = _tools_of(read_manifest(home.store, found[b].env))
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
    ref = home.existing(profile, project)
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
    ref = home.existing(profile, project)
    n = gp.current_number(ref)
    env = gp.env_of(ref, n) if n is not None else ""
    tools = _resolved_of(read_manifest(home.store, env))
    return CurrentInfo(ref.label, n, env, ref.bin, tools)


def which(layout: Layout | Home, executable: str, *, user: str | None = None,
          profile: str = DEFAULT_PROFILE, project: Path | None = None) -> WhichInfo:
    home = _home(layout, user)
    if "/" in executable or not executable:
        raise UsageError(f"invalid executable name {executable!r}")
    info = current(home, profile=profile, project=project)
    if info.generation is None:
        raise NotFound(f"profile {info.profile} has no generations", hint="omg use TOOL@VERSION")
    manifest = read_manifest(home.store, info.env)
    tool = manifest.get("executables", {}).get(executable)
    if tool is None:
        raise NotFound(f"{executable!r} is not in profile {info.profile} (generation "
                       f"{info.generation})")
    # A package's dependency (generations/env.py `ToolInput.deps`) owns its programs.
    version, store_path = (
        [(t.version, t.store_path) for t in info.tools if t.tool == tool]
        + [(d[1], d[2]) for t in manifest.get("tools", []) for d in t.get("deps", [])
           if d[0] == tool])[0]
    # A launcher (generations/env.py) is a script in the env: name what it starts.
    target = manifest.get("launchers", {}).get(f"bin/{executable}", executable)
    return WhichInfo(executable, tool, version, store_path,
                     os.path.realpath(f"{info.bin}/{target}"))


# gc / sync / check --------------------------------------------------------------------


def gc(layout: Layout | Home, *, dry_run: bool = False, older_than: float | None = None,
       store: LocalStore | None = None, now: float | None = None,
       policy: KeepPolicy | None = None, cache: CachePolicy | None = None) -> GcResult:
    """Collect garbage (`generations.gc.collect`: generations `older_than` or not kept
    by `policy` first), then prune the download cache by `cache` (`omg.cache_prune`)."""
    from generations.gc import collect
    from store.local import LocalStore

    if isinstance(layout, Home):
        layout = layout.layout
    store = store if store is not None else LocalStore(layout)
    now = time.time() if now is None else now
    result = collect(store, dry_run=dry_run, older_than=older_than, policy=policy, now=now)
    if cache is None:
        return result
    from omg.cache_prune import prune

    files, size = prune(str(layout.cache), now, cache, dry_run=dry_run)
    return result._replace(cache_files=files, cache_bytes=size)


def sync(layout: Layout | Home, project_dir: Path, *, user: str | None = None,
         resolver: Resolver | None = None, check: Check | None = None) -> UseResult:
    """Build the project profile from the project's version files."""
    from shims.project import project_pins

    home = _home(layout, user)
    root, pins = project_pins(project_dir, check=parse_tool_spec)
    return use(home, pins, project=root, resolver=resolver,
               command="omg sync", write_version_files=False, check=check)


def check(layout: Layout) -> list[gp.GenerationProblem]:
    """Generations whose store paths are missing (for `omg doctor`)."""
    return gp.check(layout)


def rebuild_index(layout: Layout | Home, *, user: str | None = None) -> int:
    """Rebuild the index's generations table from profiles/ (for `omg doctor --repair`)."""
    home = _home(layout, user or "")
    return gp.rebuild_index(home.layout, home.index)
