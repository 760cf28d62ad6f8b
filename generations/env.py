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
"""

# No `from __future__ import annotations` here, on purpose: see omg/fast.py.
import json
from collections.abc import Callable, Sequence
from typing import NamedTuple

MANIFEST_FORMAT = 1
MANIFEST_NAME = "manifest.json"
ENV_NAME = "profile"

#: Top-level directories of a tool merged into the env; anything else stays private.
FOREST_DIRS = ("bin", "sbin", "lib", "lib64", "libexec", "share", "include", "man", "etc")
EXECUTABLE_DIRS = ("bin", "sbin")
MAX_DEPTH = 6

#: (name, is_directory) pairs in `rel` of a store path, or None if `rel` does not exist.
Lister = Callable[[str, str], "list[tuple[str, bool]] | None"]


class ToolInput(NamedTuple):
    """One resolved tool: its store path's name and what it exports."""

    tool: str
    version: str
    store_path: str
    env: tuple[tuple[str, str], ...] = ()


class Conflict(NamedTuple):
    """`path` (for executables, ``bin/NAME``) is provided by both; `winner` is used."""

    path: str
    winner: str
    loser: str


class EnvPlan(NamedTuple):
    """The whole forest of one env; `plan_env` makes it, nothing changes it after."""

    tools: list[ToolInput]
    links: dict[str, str]  # rel path -> relative target
    dirs: list[str]  # directories to create, parents first
    executables: dict[str, str]  # name -> tool
    conflicts: list[Conflict]

    @property
    def references(self) -> list[str]:
        return sorted({t.store_path for t in self.tools})

    @property
    def version_label(self) -> str:
        """The version part of the env's store path name: its tools, path-safe."""
        label = "+".join(f"{t.tool}-{t.version}" for t in sorted(self.tools,
                                                                key=lambda t: t.tool))
        label = label or "empty"
        return label if len(label) <= 90 else label[:87] + "..."

    def manifest(self) -> dict[str, object]:
        by_tool: dict[str, list[str]] = {}
        for exe, tool in self.executables.items():
            by_tool.setdefault(tool, []).append(exe)
        return {
            "format": MANIFEST_FORMAT,
            "tools": [
                {"tool": t.tool, "version": t.version, "store_path": t.store_path,
                 "executables": sorted(by_tool.get(t.tool, [])), "env": dict(t.env)}
                for t in sorted(self.tools, key=lambda t: t.tool)
            ],
            "executables": dict(sorted(self.executables.items())),
            "conflicts": [{"path": c.path, "winner": c.winner, "loser": c.loser}
                          for c in self.conflicts],
        }

    def manifest_bytes(self) -> bytes:
        return (json.dumps(self.manifest(), sort_keys=True, indent=1) + "\n").encode()


def _target(rel: str, store_path: str, source_rel: str) -> str:
    depth = rel.count("/") + 1  # bin/node -> ../../ (out of bin/, out of the env)
    return "../" * depth + store_path + "/" + source_rel


def plan_env(tools: Sequence[ToolInput], lister: Lister) -> EnvPlan:
    """Plan the forest for `tools`, in priority order: on a conflict the later one wins.

    A tool named twice keeps only its last entry (its later `use`).
    """
    latest: dict[str, ToolInput] = {}
    for t in tools:
        latest.pop(t.tool, None)
        latest[t.tool] = t
    ordered = list(latest.values())
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
                for name, sub_dir in lister(prev_tool.store_path, rel) or []:
                    place(prev_tool, f"{rel}/{name}", sub_dir, depth + 1)
            for name, sub_dir in lister(tool.store_path, rel) or []:
                place(tool, f"{rel}/{name}", sub_dir, depth + 1)
            return
        if rel in merged:  # a later file replaces a merged directory: drop its children
            merged.discard(rel)
            for key in [k for k in owner if k.startswith(rel + "/")]:
                del owner[key]
            merged.difference_update({m for m in merged if m.startswith(rel + "/")})
        conflicts.append(Conflict(rel, tool.tool, prev_tool.tool))
        owner[rel] = (tool, is_dir)

    for tool in ordered:
        for top in FOREST_DIRS:
            entries = lister(tool.store_path, top)
            if entries is None:
                continue
            merged.add(top)  # top-level directories are always real, so links stay per-entry
            owner.setdefault(top, (tool, True))
            for name, is_dir in entries:
                place(tool, f"{top}/{name}", is_dir, 1)

    links: dict[str, str] = {}
    executables: dict[str, str] = {}
    for rel, (tool, _is_dir) in sorted(owner.items()):
        if rel in merged:
            continue
        links[rel] = _target(rel, tool.store_path, rel)
        top, _, rest = rel.partition("/")
        if top in EXECUTABLE_DIRS and "/" not in rest:
            executables[rest] = tool.tool
    # Only conflicts that survived (a conflict on an entry later merged away is moot).
    surviving = sorted(
        {c for c in conflicts if c.path in links and owner[c.path][0].tool == c.winner},
        key=lambda c: (c.path, c.loser))
    return EnvPlan(ordered, links, sorted(merged, key=lambda d: (d.count("/"), d)),
                   executables, surviving)


def plan_key(plan: EnvPlan) -> str:
    """A short key for the env cache; a hit is confirmed by comparing manifests."""
    import zlib

    data = plan.manifest_bytes()
    return f"{zlib.crc32(data):08x}{len(data):x}"


def parse_manifest(raw: bytes, label: str) -> dict[str, object]:
    """A manifest read back from an env; refuses a format newer than this code."""
    from store.errors import FormatTooNew, IntegrityError

    try:
        data = json.loads(raw)
        fmt = int(data["format"])
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{label}: corrupt profile manifest: {exc}") from exc
    if fmt > MANIFEST_FORMAT:
        raise FormatTooNew(f"{label}: manifest format {fmt} is newer than this omg "
                           f"({MANIFEST_FORMAT})", hint="upgrade omg")
    if not isinstance(data, dict):
        raise IntegrityError(f"{label}: corrupt profile manifest")
    return data
