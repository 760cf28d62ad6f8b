"""What commands print: results as lines of text, for the typer CLI and the hot path.

Pure functions of result objects, importing nothing heavy (the hot path of `omg use`,
`rollback`, `current` and `gc` prints through them without loading typer or rich),
so a result renders the same whichever door the command came through and whichever
backend served it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from generations.gc import GcResult
    from generations.roots import GcRoot
    from omg.profiles import CurrentInfo, SwitchResult, UninstallResult, UseResult
    from omg.venvs import VenvInfo


def _tools_text(tools: Mapping[str, str]) -> str:
    return ", ".join(f"{t} {v}" for t, v in sorted(tools.items())) or "no tools"


def use_lines(r: UseResult) -> list[str]:
    used = ", ".join(f"{t.tool} {t.version}" for t in r.tools)
    lines = [f"{r.profile}: {used} already current (generation {r.generation})" if r.unchanged
             else f"{r.profile}: generation {r.generation}: {used}"]
    lines += [f"note: {c.path} now comes from {c.winner} (was {c.loser})" for c in r.conflicts]
    return [*lines, *(f"wrote {f}" for f in r.version_files)]


def warning_lines(warnings: list[str]) -> list[str]:
    """Warnings, which every door prints on stderr (docs/errors.md): stdout carries the
    answer alone, and `--quiet` drops them (`omg.verbosity.CHATTER`)."""
    return [f"warning: {w}" for w in warnings]


def uninstall_lines(r: UninstallResult) -> list[str]:
    lines = [f"{r.profile}: generation {r.generation}: removed {', '.join(r.removed)}"
             ] if r.removed else []
    lines += [f"no longer kept: {', '.join(r.unrooted)}"] if r.unrooted else []
    return [*lines, "omg gc frees what nothing else holds (older generations keep theirs)"]


def switch_lines(r: SwitchResult) -> list[str]:
    return [f"{r.profile}: switched from generation {r.previous} to {r.generation} "
            f"({_tools_text(r.tools)})"]


def current_lines(c: CurrentInfo) -> list[str]:
    if c.generation is None:
        return [f"{c.profile}: no generations yet (omg use TOOL@VERSION)"]
    return [f"{c.profile}: generation {c.generation}",
            *(f"  {t.tool} {t.version}  {t.store_path}" for t in c.tools)]


def gc_lines(result: GcResult, store_dir: str) -> list[str]:
    """What ``omg gc`` prints for `result` (`store_dir`: where the paths were)."""
    from omg.units import human_size

    verb = "would delete" if result.dry_run else "deleted"
    lines = [f"{verb} generation {n} of {who}" for who, n in result.deleted_generations]
    lines += [f"{verb} {store_dir}/{name}" for name in result.dead]
    would = "would be " if result.dry_run else ""
    paths = "store path" if len(result.dead) == 1 else "store paths"
    lines.append(f"{len(result.dead)} {paths} {would}deleted, "
                 f"{human_size(result.freed_bytes)} {would}freed; {result.live} kept")
    if result.cache_files:
        files = "file" if result.cache_files == 1 else "files"
        lines.append(f"download cache: {result.cache_files} {files} {would}removed, "
                     f"{human_size(result.cache_bytes)} {would}freed")
    return lines


def roots_lines(roots: list[GcRoot]) -> list[str]:
    """``NAME -> STORE PATH`` (or the link's target when it holds no store path itself)."""
    return [f"{r.name} -> {r.store_path or r.target}" for r in roots]


def venv_lines(v: VenvInfo, verb: str = "") -> list[str]:
    """One venv: ``[verb ]venv NAME: PATH (python V, STORE PATH)``."""
    what = f"venv {v.name}" if v.name else f"venv of {v.project}"
    python = f"python {v.python or '?'}, {v.store_path or 'interpreter missing'}"
    return [f"{verb + ' ' if verb else ''}{what}: {v.path} ({python})"]


def venv_list_lines(venvs: list[VenvInfo]) -> list[str]:
    if not venvs:
        return ["no venvs (omg venv create NAME [python@SPEC])"]
    return [f"{v.name or '(project)':<16} {v.python or '?':<10} {v.path}" for v in venvs]
