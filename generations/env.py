"""Profile envs, planned: which links a profile env holds and its manifest.

A profile env is a store path: a symlink forest (``bin/``, ``lib/``, ``share/``,
...) whose links are *relative* (``bin/node -> ../../<hash>-node-20.10.0/bin/node``)
so the kernel resolves them inside the store wherever OMG_HOME lives, plus a
``manifest.json``. Planning here is pure: the caller passes a `Lister` that says
what a tool's store path holds, so tests need no files. Everything in the plan
is sorted and carries no time, so the same tools (and the same winners of
conflicting executables) always give the same bytes, hence the same env path.

Merging follows Nix's buildEnv: an entry only one tool provides is linked as a
whole (``lib/node_modules`` is one link), two directories with the same name
are merged one level deeper, and for anything else the later tool wins.

A tool also exports what its own ``bin/`` lacks (`Export`, from its provider:
Bun's ``/bun`` as ``bin/bun`` and ``bin/bunx``, ``python`` beside ``python3``).
An export that is a *launcher* is a small ``/bin/sh`` script instead of a link:
CPython finds its prefix by resolving the path it was started by *textually*
(``<profile>/bin/../../<hash>-python`` while the profile directory is itself a
symlink, so that path does not exist and it falls back to a compiled-in prefix,
or silently to another Python's). A relative link cannot be right both through
the profile and inside the store, and an absolute one would tie the env's bytes
to where the store lives; the launcher resolves its own directory physically
(``cd -P``) and execs the interpreter by its store path, so the program sees
exactly what it sees when started from the store. Its text is relative too.

An Arch package's store path keeps the package's own layout (``usr/bin``,
``usr/share/man``, ...): the plan maps its ``usr/`` onto the env's top
level (``bin/foo -> ../../<hash>-foo-1.0-1/usr/bin/foo``), so PATH, MANPATH and the
completion directories find it as they find a runtime's. A package's runtime
dependencies (`ToolInput.deps`, the store path's references) come into the env
with it, just before it (it wins a conflict with them), as buildEnv does for
propagated inputs: a program that runs its dependency's binary finds it on PATH.

Environment variables (JAVA_HOME, writable install prefixes) come with each
tool as recorded at install, with placeholders instead of paths (`STORE_PATH`,
`PREFIX`). The plan turns a tool's own store path into the *profile's* stable
path to it, ``<profile>/tools/<tool>`` (a link in the env), so an exported
JAVA_HOME follows later switches of that profile instead of pinning the java
of the day the shell started. The env then carries ``env.sh`` and ``env.fish``
for the shell integration to source (no process at shell start); values stay
placeholders there too (`PROFILE`, `PREFIX`), so one env serves every profile
and user that holds the same tools, wherever OMG_HOME lives.
"""

from __future__ import annotations

from generations.manifest import MANIFEST_FORMAT, Conflict, ToolInput
from store.results import Result

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from generations.manifest import Manifest, ManifestTool

ENV_NAME = "profile"

#: In a tool's recorded env values: that tool's own store path.
STORE_PATH = "@store_path@"
#: In a profile env's values: the directory the env was reached through (the profile).
PROFILE = "@profile@"
#: The user's writable prefix for global installs; only the shell integration knows it.
PREFIX = "@prefix@"
#: Links ``tools/<tool> -> <its store path>``, for values that name a tool's home.
HOMES_DIR = "tools"
ENV_SH = "env.sh"
ENV_FISH = "env.fish"
#: Shell variables the init lines set before sourcing an env file (see shims/init.py).
SHELL_VARS = {PROFILE: "__omg_env", PREFIX: "__omg_prefix"}
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")

#: Top-level directories of a tool merged into the env; anything else stays private.
FOREST_DIRS = ("bin", "sbin", "lib", "lib64", "libexec", "share", "include", "man", "etc")
EXECUTABLE_DIRS = ("bin", "sbin")
MAX_DEPTH = 6
#: Where the forest of a store path laid out as a root file system starts (`forest_root`).
PACKAGE_ROOT = "usr"

if TYPE_CHECKING:
    #: (name, is_directory) pairs in `rel` of a store path, or None if it does not exist.
    Lister = Callable[[str, str], list[tuple[str, bool]] | None]


class Export(Result):
    """``bin/<name>`` of a tool beyond its own bin/ entries, or one to start by store path.

    `target` is a path inside the tool's store path; a `launcher` is written as a
    script that execs `target` by its physical store path instead of a symlink.
    """

    name: str
    target: str
    launcher: bool = False


class EnvPlan(Result):
    """The whole forest of one env; `plan_env` makes it, nothing changes it after."""

    tools: list[ToolInput]
    links: dict[str, str]  # rel path -> relative target
    dirs: list[str]  # directories to create, parents first
    executables: dict[str, str]  # name -> tool
    conflicts: list[Conflict]
    env: dict[str, str] = {}  # variable -> value with PROFILE / PREFIX placeholders  # noqa: RUF012
    homes: dict[str, str] = {}  # tool -> relative target of tools/<tool>  # noqa: RUF012
    launchers: dict[str, str] = {}  # rel path -> relative target it execs  # noqa: RUF012

    @property
    def references(self) -> list[str]:
        return sorted({t.store_path for t in self.tools}
                      | {d[2] for t in self.tools for d in t.deps})

    @property
    def version_label(self) -> str:
        """The version part of the env's store path name: its tools, path-safe."""
        label = "+".join(f"{t.tool}-{t.version}" for t in sorted(self.tools,
                                                                key=lambda t: t.tool))
        label = label or "empty"
        return label if len(label) <= 90 else label[:87] + "..."

    def manifest(self) -> Manifest:
        by_tool: dict[str, list[str]] = {}
        for exe, tool in self.executables.items():
            by_tool.setdefault(tool, []).append(exe)
        data: Manifest = {
            "format": MANIFEST_FORMAT,
            "tools": [_manifest_tool(t, by_tool)
                      for t in sorted(self.tools, key=lambda t: t.tool)],
            "executables": dict(sorted(self.executables.items())),
            "conflicts": [{"path": c.path, "winner": c.winner, "loser": c.loser}
                          for c in self.conflicts],
        }
        # Only when set: envs without variables keep the bytes (hence the paths) they had.
        if self.env:
            data["env"] = dict(sorted(self.env.items()))
        if self.launchers:
            data["launchers"] = dict(sorted(self.launchers.items()))
        return data

    def manifest_bytes(self) -> bytes:
        import json

        return (json.dumps(self.manifest(), sort_keys=True, indent=1) + "\n").encode()


def _manifest_tool(t: ToolInput, by_tool: dict[str, list[str]]) -> ManifestTool:
    entry: ManifestTool = {"tool": t.tool, "version": t.version, "store_path": t.store_path,
                           "executables": sorted(by_tool.get(t.tool, [])), "env": dict(t.env)}
    if t.deps:  # only when set: envs without them keep their bytes (hence their paths)
        entry["deps"] = [list(d) for d in t.deps]
    return entry


def forest_root(store_path: str, lister: Lister) -> str:
    """Where a store path's forest starts: ``usr/`` for one laid out as a root file
    system (an Arch package: ``usr/`` and perhaps ``etc/``, ``opt/``, but no ``bin/``,
    ``lib/`` or ``share/`` directory of its own at its top), else its top."""
    top = dict(lister(store_path, "") or ())
    if not top.get(PACKAGE_ROOT) or any(top.get(d) for d in FOREST_DIRS if d != "etc"):
        return ""
    return PACKAGE_ROOT + "/"


def _with_deps(ordered: Sequence[ToolInput]) -> list[ToolInput]:
    """`ordered` with each tool's deps as entries just before it; a store path
    already in the list (a tool itself, or another tool's dep) is not added twice."""
    seen = {t.store_path for t in ordered}
    out: list[ToolInput] = []
    for t in ordered:
        for name, version, path in t.deps:
            if path not in seen:
                seen.add(path)
                out.append(ToolInput(name, version, path))
        out.append(t)
    return out


def _target(rel: str, store_path: str, source_rel: str) -> str:
    depth = rel.count("/") + 1  # bin/node -> ../../ (out of bin/, out of the env)
    return "../" * depth + store_path + "/" + source_rel


def plan_env(tools: Sequence[ToolInput], lister: Lister,
             exports: Callable[[ToolInput], Sequence[Export]] | None = None) -> EnvPlan:
    """Plan the forest for `tools`, in priority order: on a conflict the later one wins.

    A tool named twice keeps only its last entry (its later `use`). `exports`
    says what each tool adds to ``bin/`` (see `Export`); an export competes for
    its name like any entry of that tool.
    """
    latest: dict[str, ToolInput] = {}
    for t in tools:
        latest.pop(t.tool, None)
        latest[t.tool] = t
    ordered = list(latest.values())
    entries = _with_deps(ordered)
    roots = {t.store_path: forest_root(t.store_path, lister) for t in entries}
    conflicts: list[Conflict] = []
    # node: rel path -> (tool, is_dir) for what currently owns it.
    owner: dict[str, tuple[ToolInput, bool]] = {}
    merged: set[str] = set()  # directories that are real directories in the env

    def place(tool: ToolInput, rel: str, is_dir: bool, depth: int) -> None:
        prev = owner.get(rel)
        if prev is None:
            owner[rel] = (tool, is_dir)
            return
        prev_tool, prev_dir = prev
        if is_dir and prev_dir and depth < MAX_DEPTH:
            if rel not in merged:
                merged.add(rel)
                for name, sub_dir in lister(prev_tool.store_path,
                                            roots[prev_tool.store_path] + rel) or []:
                    place(prev_tool, f"{rel}/{name}", sub_dir, depth + 1)
            for name, sub_dir in lister(tool.store_path, roots[tool.store_path] + rel) or []:
                place(tool, f"{rel}/{name}", sub_dir, depth + 1)
            return
        if rel in merged:  # a later file replaces a merged directory: drop its children
            merged.discard(rel)
            for key in [k for k in owner if k.startswith(rel + "/")]:
                del owner[key]
            merged.difference_update({m for m in merged if m.startswith(rel + "/")})
        conflicts.append(Conflict(rel, tool.tool, prev_tool.tool))
        owner[rel] = (tool, is_dir)

    # (tool, rel) -> its export there: what the link (or launcher) of rel points at.
    special: dict[tuple[str, str], Export] = {}
    for tool in entries:
        for top in FOREST_DIRS:
            listed = lister(tool.store_path, roots[tool.store_path] + top)
            if listed is None:
                continue
            merged.add(top)  # top-level directories are always real, so links stay per-entry
            owner.setdefault(top, (tool, True))
            for name, is_dir in listed:
                place(tool, f"{top}/{name}", is_dir, 1)
        for export in exports(tool) if exports is not None else ():
            rel = f"bin/{export.name}"
            merged.add("bin")
            owner.setdefault("bin", (tool, True))
            special[(tool.tool, rel)] = export
            if owner.get(rel, (None,))[0] is not tool:
                place(tool, rel, False, 1)

    links: dict[str, str] = {}
    launchers: dict[str, str] = {}
    executables: dict[str, str] = {}
    for rel, (tool, _is_dir) in sorted(owner.items()):
        if rel in merged:
            continue
        found = special.get((tool.tool, rel))
        target = _target(rel, tool.store_path,
                         found.target if found else roots[tool.store_path] + rel)
        if found is not None and found.launcher:
            launchers[rel] = target
        else:
            links[rel] = target
        top, _, rest = rel.partition("/")
        if top in EXECUTABLE_DIRS and "/" not in rest:
            executables[rest] = tool.tool
    # Only conflicts that survived (a conflict on an entry later merged away is moot).
    surviving = sorted(
        {c for c in conflicts if (c.path in links or c.path in launchers)
         and owner[c.path][0].tool == c.winner},
        key=lambda c: (c.path, c.loser))
    env, homes = plan_variables(ordered)
    return EnvPlan(ordered, links, sorted(merged, key=lambda d: (d.count("/"), d)),
                   executables, surviving, env, homes, launchers)


def launcher_script(target: str) -> bytes:
    """The ``/bin/sh`` launcher that execs `target` (relative to the launcher's own
    directory) by its physical path: ``cd -P`` resolves the profile's symlinked
    directory, so the program starts from its store path (see `Export`)."""
    import shlex

    directory, _, name = target.rpartition("/")
    return ("#!/bin/sh\n"
            "# Written by omg: starts this program by its store path, where it finds its "
            "own files.\n"
            'd=${0%/*}; [ "$d" = "$0" ] && d=.\n'
            f'd=$(cd -P -- "$d"/{shlex.quote(directory)} && pwd -P) || exit 127\n'
            f'exec "$d"/{shlex.quote(name)} "$@"\n').encode()


def plan_variables(tools: Sequence[ToolInput]) -> tuple[dict[str, str], dict[str, str]]:
    """(variable -> value, tool -> home link target) for `tools`; a later tool wins a name.

    Refuses names and values a shell file could not carry safely: a record is
    input like any other (invariant 5).
    """
    from store.errors import UnsafeInput

    env: dict[str, str] = {}
    homes: dict[str, str] = {}
    for t in tools:
        for name, value in t.env:
            if not (name and name[0] in _NAME_START and set(name) <= _NAME_CHARS):
                raise UnsafeInput(f"{t.tool} {t.version}: bad environment variable name {name!r}")
            if "\0" in value or "\n" in value or PROFILE in value:
                raise UnsafeInput(f"{t.tool} {t.version}: bad value for {name}: {value!r}")
            if STORE_PATH in value:
                if "/" in t.tool or t.tool in ("", ".", ".."):
                    raise UnsafeInput(f"bad tool name {t.tool!r}")
                homes[t.tool] = "../../" + t.store_path
                value = value.replace(STORE_PATH, f"{PROFILE}/{HOMES_DIR}/{t.tool}")
            env[name] = value
    return env, homes


def _shell_words(value: str, var: Callable[[str], str], escape: Callable[[str], str]) -> str:
    """`value` as the inside of a double-quoted shell word, placeholders as variables."""
    import re

    out = []
    for part in re.split("(" + "|".join(map(re.escape, SHELL_VARS)) + ")", value):
        out.append(var(SHELL_VARS[part]) if part in SHELL_VARS else escape(part))
    return "".join(out)


def env_scripts(env: Mapping[str, str]) -> dict[str, bytes]:
    """The files of an env's variables: ``env.sh`` (bash, zsh) and ``env.fish``.

    Each also appends the names whose values point into a profile to
    ``__omg_vars``, so the shell can unset them when it leaves a project profile.
    """
    if not env:
        return {}
    import re

    head = ("# Written by omg: this profile's environment. Sourced by the `omg init` lines,\n"
            "# which set __omg_env (the profile's directory) and __omg_prefix first.\n")
    sh, fish = [head], [head]
    for name, value in sorted(env.items()):
        sh_value = _shell_words(value, lambda v: "${" + v + "}",
                                lambda t: re.sub(r'([\\"$`])', r"\\\1", t))
        # fish has no ${name} inside quotes: close the quote, quote the variable, reopen.
        fish_value = _shell_words(value, lambda v: '""$' + v + '""',
                                  lambda t: re.sub(r'([\\"$])', r"\\\1", t))
        sh.append(f'export {name}="{sh_value}"\n')
        fish.append(f'set -gx {name} "{fish_value}"\n')
        if PROFILE in value:
            sh.append(f'__omg_vars="${{__omg_vars:+$__omg_vars }}{name}"\n')
            fish.append(f"set -ga __omg_vars {name}\n")
    return {ENV_SH: "".join(sh).encode(), ENV_FISH: "".join(fish).encode()}


def plan_key(plan: EnvPlan) -> str:
    """A short key for the env cache; a hit is confirmed by comparing manifests."""
    import zlib

    data = plan.manifest_bytes()
    return f"{zlib.crc32(data):08x}{len(data):x}"
