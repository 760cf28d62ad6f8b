"""Profile commands: use, rollback, generations, current, which, gc, init, sync."""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from omg import config, profiles
from omg.cli.output import print_json
from omg.fast import format_current, format_switch, format_use
from shims import project as proj
from store.errors import UsageError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="Profile name.")]
LocalOpt = Annotated[bool, typer.Option(
    "--local", "-l", help="Act on this project's profile (the nearest version file's "
    "directory, or the current directory).")]


def _jsonable(obj: Any) -> Any:
    """A result (NamedTuples all the way down) as JSON values, via ``_asdict()``."""
    if hasattr(obj, "_asdict"):
        return {k: _jsonable(v) for k, v in obj._asdict().items()}
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def _home() -> profiles.Home:
    settings = config.load()
    return profiles.Home(settings.layout, settings.user)


def _backend() -> tuple[Any, Any, config.Settings]:
    """(use cases, what they act on, settings) for a command that changes profiles.

    In the shared mode `omg.remote_profiles` and omgd's connection (every change
    goes to the daemon), else `omg.profiles` and this user's Home: the two
    modules have the same names, arguments and results.
    """
    from omg.remote_store import remote_if_shared

    settings = config.load()
    daemon = remote_if_shared(settings)
    if daemon is not None:
        from omg import remote_profiles

        return remote_profiles, daemon, settings
    return profiles, profiles.Home(settings.layout, settings.user), settings


def _project(local: bool) -> Path | None:
    if not local:
        return None
    cwd = Path.cwd()
    return proj.find_project(cwd) or cwd


def _pinned_here() -> list[str]:
    """`omg use` with no arguments: the pins of the version files here and above."""
    from shims.versionfiles import find_versions

    found = find_versions(Path.cwd())
    if not found:
        raise UsageError("nothing to use: give TOOL@VERSION, or add a version file "
                         "(.node-version, .tool-versions, mise.toml, ...)")
    return [str(request) for request in found.values()]


def _echo(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "?"


def register(app: typer.Typer) -> None:
    @app.command("use")
    def use(
        specs: Annotated[list[str] | None, typer.Argument(
            help="TOOL@VERSION, e.g. node@20; none: what the version files here pin.")] = None,
        profile: ProfileOpt = "default",
        local: LocalOpt = False,
        offline: Annotated[bool, typer.Option(
            "--offline", help="Install missing versions from the download cache only.")] = False,
        json_out: JsonOpt = False,
    ) -> None:
        """Add a generation with these tools (later wins) and switch to it.

        Versions the store lacks are installed from their upstream (or mirror) first.
        """
        from omg import install
        from omg.cli.runtime_cmd import progress_bar

        if not specs:
            specs = _pinned_here()
        project = _project(local)
        ops, target, settings = _backend()
        if ops is not profiles:  # omgd installs what is missing, from its own mirrors
            result = ops.use(target, specs, profile=profile, project=project,
                             offline=offline, command="omg use " + shlex.join(specs))
            if project is not None:  # the user's files: written here, never by omgd
                from omg.spec import parse_tool_spec

                result = result._replace(version_files=profiles.write_pins(
                    project, [parse_tool_spec(s) for s in specs], result.tools))
        else:
            with progress_bar() as progress:
                resolver = install.make_resolver(settings, offline=offline,
                                                 progress=progress, index=target.index)
                result = profiles.use(target, specs, profile=profile, project=project,
                                      resolver=resolver)
        if json_out:
            print_json(_jsonable(result))
        else:
            _echo(format_use(result))

    @app.command("uninstall")
    def uninstall(
        specs: Annotated[list[str], typer.Argument(help="TOOL or TOOL@VERSION.")],
        profile: ProfileOpt = "default",
        local: LocalOpt = False,
        json_out: JsonOpt = False,
    ) -> None:
        """Drop tools from the profile with a new generation; `omg gc` frees them."""
        ops, target, _ = _backend()
        result = ops.uninstall(target, specs, profile=profile, project=_project(local))
        if json_out:
            print_json(_jsonable(result))
        else:
            typer.echo(f"{result.profile}: generation {result.generation}: removed "
                       f"{', '.join(result.removed)} (omg gc frees what nothing else uses)")

    @app.command("rollback")
    def rollback(
        to: Annotated[int | None, typer.Option("--to", help="Generation to switch to.")] = None,
        profile: ProfileOpt = "default",
        local: LocalOpt = False,
        json_out: JsonOpt = False,
    ) -> None:
        """Switch to the previous generation (or --to N) without creating one."""
        ops, target, _ = _backend()
        result = ops.rollback(target, profile=profile, project=_project(local), to=to)
        if json_out:
            print_json(_jsonable(result))
        else:
            _echo(format_switch(result))

    gen_app = typer.Typer(help="List, compare and delete generations.",
                          invoke_without_command=True)
    app.add_typer(gen_app, name="generations")

    def _list(profile: str, local: bool, json_out: bool) -> None:
        ops, target, _ = _backend()
        gens = ops.list_generations(target, profile=profile, project=_project(local))
        if json_out:
            print_json(_jsonable(gens))
            return
        if not gens:
            typer.echo(f"{profile}: no generations yet (omg use TOOL@VERSION)")
        for g in gens:
            mark = "*" if g.current else " "
            what = "; ".join(g.changes) or "(no change)"
            missing = "  [store path missing]" if g.missing else ""
            typer.echo(f"{mark} {g.number:>4}  {_when(g.time)}  {what}{missing}")

    @gen_app.callback()
    def generations(ctx: typer.Context, profile: ProfileOpt = "default",
                    local: LocalOpt = False, json_out: JsonOpt = False) -> None:
        """List generations: number, date, changes, and * for the current one."""
        if ctx.invoked_subcommand is None:
            _list(profile, local, json_out)

    @gen_app.command("list")
    def gen_list(profile: ProfileOpt = "default", local: LocalOpt = False,
                 json_out: JsonOpt = False) -> None:
        """List generations."""
        _list(profile, local, json_out)

    @gen_app.command("diff")
    def gen_diff(a: int, b: int, profile: ProfileOpt = "default", local: LocalOpt = False,
                 json_out: JsonOpt = False) -> None:
        """What changed from generation A to generation B."""
        d = profiles.diff_generations(_home(), a, b, profile=profile, project=_project(local))
        if json_out:
            print_json(_jsonable(d))
            return
        for t, v in sorted(d.added.items()):
            typer.echo(f"+ {t} {v}")
        for t, v in sorted(d.removed.items()):
            typer.echo(f"- {t} {v}")
        for t, (va, vb) in sorted(d.changed.items()):
            typer.echo(f"~ {t} {va} -> {vb}")
        if not (d.added or d.removed or d.changed):
            typer.echo("no difference")

    @gen_app.command("delete")
    def gen_delete(
        numbers: Annotated[list[int] | None, typer.Argument(help="Generation numbers.")] = None,
        older_than: Annotated[str | None, typer.Option(
            "--older-than", help="Delete generations older than this (30d, 12h).")] = None,
        keep: Annotated[int | None, typer.Option(
            "--keep", help="Keep only the newest K generations.")] = None,
        profile: ProfileOpt = "default", local: LocalOpt = False, json_out: JsonOpt = False,
    ) -> None:
        """Delete generations (never the current one); `omg gc` frees their store paths."""
        ops, target, _ = _backend()
        result = ops.delete_generations(
            target, numbers or [], profile=profile, project=_project(local),
            older_than=profiles.parse_age(older_than) if older_than else None, keep=keep)
        if json_out:
            print_json(_jsonable(result))
            return
        if result.deleted:
            typer.echo(f"{result.profile}: deleted generation(s) "
                       f"{', '.join(map(str, result.deleted))}")
        else:
            typer.echo(f"{result.profile}: nothing to delete")

    @app.command("current")
    def current(profile: ProfileOpt = "default", local: LocalOpt = False,
                json_out: JsonOpt = False) -> None:
        """The current generation and its tools."""
        info = profiles.current(_home(), profile=profile, project=_project(local))
        if json_out:
            print_json(_jsonable(info))
        else:
            _echo(format_current(info))

    @app.command("which")
    def which(executable: str, profile: ProfileOpt = "default", local: LocalOpt = False,
              json_out: JsonOpt = False) -> None:
        """The store path an executable of the profile resolves to."""
        info = profiles.which(_home(), executable, profile=profile, project=_project(local))
        if json_out:
            print_json(_jsonable(info))
        else:
            typer.echo(info.path)

    @app.command("gc")
    def gc(
        dry_run: Annotated[bool, typer.Option("--dry-run", "-n",
                                              help="Show what would be freed.")] = False,
        older_than: Annotated[str | None, typer.Option(
            "--older-than", help="First delete generations older than this (30d).")] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Delete store paths no root reaches; print what was freed."""
        from omg.fastgc import gc_lines

        ops, target, settings = _backend()
        result = ops.gc(target, dry_run=dry_run,
                        older_than=profiles.parse_age(older_than) if older_than else None)
        if json_out:
            print_json(_jsonable(result))
            return
        _echo(gc_lines(result, str(settings.layout.store)))

    @app.command("init")
    def init(shell: Annotated[str, typer.Argument(help="bash, zsh or fish.")],
             profile: ProfileOpt = "default") -> None:
        """Print the lines for your shell's rc file (eval them, or paste them)."""
        from shims.init import init_script

        settings = config.load()
        home = profiles.Home(settings.layout, settings.user)
        ref = home.ref(profile)
        data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        typer.echo(init_script(shell, home=settings.home, global_bin=ref.bin,
                               projects=proj.projects_dir(settings.layout, settings.user),
                               data_home=data_home), nl=False)

    @app.command("sync")
    def sync(directory: Annotated[Path | None, typer.Argument(
                 help="Project directory (default: here).")] = None,
             json_out: JsonOpt = False) -> None:
        """Build this project's profile from its version files."""
        ops, target, _ = _backend()
        result = ops.sync(target, directory or Path.cwd())
        if json_out:
            print_json(_jsonable(result))
        else:
            _echo(format_use(result))
