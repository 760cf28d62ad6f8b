"""A profile env's ``manifest.json``: its format, the tools and conflicts it lists,
and reading it back.

The env planner (`generations.env`) writes it; the hot path of `omg use`, `rollback`
and `current` only reads it (or not even that: `generations.catalogue` remembers), so
the format lives apart from the planner, which is imported only to plan a new env.
"""

from __future__ import annotations

from store.results import Result

TYPE_CHECKING = False

MANIFEST_FORMAT = 1
MANIFEST_NAME = "manifest.json"

if TYPE_CHECKING:
    from typing import NotRequired, TypedDict, TypeGuard

    class ManifestTool(TypedDict):
        tool: str
        version: str
        store_path: str
        executables: list[str]
        env: dict[str, str]
        deps: NotRequired[list[list[str]]]  # [name, version, store path]; only if any

    class ManifestConflict(TypedDict):
        path: str
        winner: str
        loser: str

    class Manifest(TypedDict, total=False):
        """``manifest.json`` of a profile env (`read` ones may lack any key: {} is none)."""

        format: int
        tools: list[ManifestTool]
        executables: dict[str, str]  # name -> tool
        conflicts: list[ManifestConflict]
        env: dict[str, str]
        launchers: dict[str, str]  # rel path -> target, for launcher scripts (not links)


class ToolInput(Result):
    """One resolved tool: its store path's name and what it exports.

    `deps`: (name, version, store path) of what the tool needs in the env beside it
    (an Arch package's runtime dependencies, each before what needs it); linked like
    the tool's own entries, under their own names, and kept by the env's references.
    """

    tool: str
    version: str
    store_path: str
    env: tuple[tuple[str, str], ...] = ()
    deps: tuple[tuple[str, str, str], ...] = ()


class Conflict(Result):
    """`path` (for executables, ``bin/NAME``) is provided by both; `winner` is used."""

    path: str
    winner: str
    loser: str


def _texts(value: object) -> bool:
    """A map of text to text (a manifest's ``env``, ``executables``, ``launchers``)."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _deps_ok(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(d, list) and len(d) == 3 and all(isinstance(x, str) for x in d)
        for d in value)


def _manifest_ok(data: dict[str, object]) -> TypeGuard[Manifest]:
    """Of the shape `EnvPlan.manifest` writes (the readers index it without checks)."""
    tools, conflicts = data.get("tools", []), data.get("conflicts", [])
    return (isinstance(tools, list) and all(
                isinstance(t, dict) and all(isinstance(t.get(k), str)
                                            for k in ("tool", "version", "store_path"))
                and _texts(t.get("env", {})) and _deps_ok(t.get("deps", [])) for t in tools)
            and isinstance(conflicts, list) and all(
                isinstance(c, dict) and all(isinstance(c.get(k), str)
                                            for k in ("path", "winner", "loser"))
                for c in conflicts)
            and _texts(data.get("executables", {})) and _texts(data.get("env", {}))
            and _texts(data.get("launchers", {})))


def parse_manifest(raw: bytes, label: str) -> Manifest:
    """A manifest read back from an env; refuses a format newer than this code."""
    from store.errors import FormatTooNew, IntegrityError
    from store.leanjson import loads

    try:
        data = loads(raw)
        fmt = data.get("format") if isinstance(data, dict) else None
    except ValueError as exc:
        raise IntegrityError(f"{label}: corrupt profile manifest: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(fmt, int):
        raise IntegrityError(f"{label}: corrupt profile manifest: no format")
    if fmt > MANIFEST_FORMAT:
        raise FormatTooNew(f"{label}: manifest format {fmt} is newer than this omg "
                           f"({MANIFEST_FORMAT})", hint="upgrade omg")
    if not _manifest_ok(data):
        raise IntegrityError(f"{label}: corrupt profile manifest")
    return data


def read_manifest(store_dir: str, env: str) -> Manifest:
    """The manifest of env store path `env` in `store_dir` ({} for none, or a path that
    is gone); IntegrityError or FormatTooNew as `parse_manifest` says."""
    if not env:
        return {}
    try:
        with open(f"{store_dir}/{env}/{MANIFEST_NAME}", "rb") as f:
            raw = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return {}
    return parse_manifest(raw, env)
