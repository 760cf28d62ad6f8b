"""Profile commands: use, uninstall, rollback, generations, current, which, gc, init, sync.

Each command asks the backend (`omg.cli.output.backend`: this user's store, or omgd
in the shared mode) and renders its result: text through `omg.text`, which the
lean door of the hot commands (omg/fast.py) prints through too, or ``--json``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from omg import config, profiles, text
from omg.cli import json_out as J
from omg.cli.output import backend, print_result, print_warnings
from shims import project as proj
from store.errors import UsageError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="Profile name.")]
LocalOpt = Annotated[bool, typer.Option(
    "--local", "-l", help="Act on this project's profile (the nearest version file's "
    "directory, or the current directory).")]


def _project(local: bool) -> Path | None:
    if not local:
        return None
    cwd = Path.cwd()
    return proj.find_project(cwd) or cwd


def _pinned_here() -> list[str]:
    """`omg use` with no arguments: the pins of the version files here and above."""
    from omg.spec import parse_tool_spec
    from shims.versionfiles import find_versions

    found = find_versions(Path.cwd())
    if not found:
        raise UsageError("nothing to use: give TOOL@VERSION, or add a version file "
                         "(.node-version, .tool-versions, mise.toml, package.json, ...)")
    return proj.pin_strings(found.values(), parse_tool_spec)


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "?"


def register(app: typer.Typer) -> None:
    @app.command("use")
    def use(
        specs: Annotated[list[str] | None, typer.Argument(
            help="TOOL@VERSION, e.g. node@20, aur/NAME, @GROUP; none: what the version "
            "files here pin.")] = None,
        profile: ProfileOpt = "default",
        local: LocalOpt = False,
        offline: Annotated[bool, typer.Option(
            "--offline", help="Install missing versions from the download cache only.")] = False,
        json_out: JsonOpt = False,
    ) -> None:
        """Add a generation with these tools (later wins) and switch to it.

        Versions the store lacks are installed from their upstream (or mirror) first.
        """
        from omg.cli.runtime_cmd import progress_bar
        from omg.groups import expand_configured

        named = bool(specs)  # only a tool named here is written to a version file
        specs = expand_configured(specs) if specs else _pinned_here()
        with backend() as b, progress_bar() as progress:
            result = b.use(specs, profile=profile, project=_project(local), offline=offline,
                           progress=progress, write_version_files=named)
            paths = J.Paths(b.home_dir)
        if local:  # after the version files are written: the hook sees no change
            proj.write_stamp(proj.data_home(), proj.find_project(Path.cwd()) or Path.cwd())
        print_result(result, json_out, text.use_lines, lambda r: J.use(paths, r))
        print_warnings(result.warnings)

    @app.command("uninstall")
    def uninstall(
        specs: Annotated[list[str], typer.Argument(
            help="TOOL or TOOL@VERSION, aur/NAME, @GROUP.")],
        profile: ProfileOpt = "default",
        local: LocalOpt = False,
        json_out: JsonOpt = False,
    ) -> None:
        """Stop keeping installed versions and drop the tools from the profile (a new
        generation); `omg gc` then frees what nothing else holds."""
        from omg.groups import expand_configured

        with backend() as b:
            result = b.uninstall(expand_configured(specs), profile=profile,
                                 project=_project(local))
            paths = J.Paths(b.home_dir)
        print_result(result, json_out, text.uninstall_lines, lambda r: J.uninstall(paths, r))

    @app.command("rollback")
    def rollback(
        to: Annotated[int | None, typer.Option("--to", help="Generation to switch to.")] = None,
        profile: ProfileOpt = "default",
        local: LocalOpt = False,
        json_out: JsonOpt = False,
    ) -> None:
        """Switch to the previous generation (or --to N) without creating one."""
        with backend() as b:
            result = b.rollback(profile=profile, project=_project(local), to=to)
        print_result(result, json_out, text.switch_lines, J.switch)

    gen_app = typer.Typer(help="List, compare and delete generations.",
                          invoke_without_command=True)
    app.add_typer(gen_app, name="generations")

    def _list(profile: str, local: bool, json_out: bool) -> None:
        with backend() as b:
            gens = b.generations(profile=profile, project=_project(local))
            paths = J.Paths(b.home_dir)
        print_result(gens, json_out, lambda gs: [
            f"{'*' if g.current else ' '} {g.number:>4}  {_when(g.time)}  "
            f"{'; '.join(g.changes) or '(no change)'}"
            f"{'  [store path missing]' if g.missing else ''}" for g in gs]
            or [f"{profile}: no generations yet (omg use TOOL@VERSION)"],
            lambda gs: J.generations(paths, gs))

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
        with backend() as be:
            d = be.diff(a, b, profile=profile, project=_project(local))
        print_result(d, json_out, lambda d: [
            *(f"+ {t} {v}" for t, v in sorted(d.added.items())),
            *(f"- {t} {v}" for t, v in sorted(d.removed.items())),
            *(f"~ {t} {va} -> {vb}" for t, (va, vb) in sorted(d.changed.items()))]
            or ["no difference"], J.diff)

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
        with backend() as b:
            result = b.delete_generations(
                numbers or [], profile=profile, project=_project(local),
                older_than=profiles.parse_age(older_than) if older_than else None, keep=keep)
        print_result(result, json_out, lambda r: [
            f"{r.profile}: deleted generation(s) {', '.join(map(str, r.deleted))}"
            if r.deleted else f"{r.profile}: nothing to delete"], J.deleted)

    @app.command("current")
    def current(profile: ProfileOpt = "default", local: LocalOpt = False,
                json_out: JsonOpt = False) -> None:
        """The current generation and its tools."""
        with backend() as b:
            info = b.current(profile=profile, project=_project(local))
            paths = J.Paths(b.home_dir)
        print_result(info, json_out, text.current_lines, lambda c: J.current(paths, c))

    @app.command("which")
    def which(executable: str, profile: ProfileOpt = "default", local: LocalOpt = False,
              json_out: JsonOpt = False) -> None:
        """The store path an executable of the profile resolves to."""
        with backend() as b:
            info = b.which(executable, profile=profile, project=_project(local))
            paths = J.Paths(b.home_dir)
        print_result(info, json_out, lambda i: [i.path], lambda w: J.which(paths, w))

    @app.command("gc")
    def gc(
        dry_run: Annotated[bool, typer.Option("--dry-run", "-n",
                                              help="Show what would be freed.")] = False,
        older_than: Annotated[str | None, typer.Option(
            "--older-than", help="First delete generations older than this (30d).")] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Delete store paths no root reaches; print what was freed."""
        with backend() as b:
            result = b.gc(dry_run=dry_run,
                          older_than=profiles.parse_age(older_than) if older_than else None)
            paths = J.Paths(b.home_dir)
        print_result(result, json_out, lambda r: text.gc_lines(r, paths.store_dir),
                     lambda r: J.gc(paths, r))

    @app.command("init")
    def init(shell: Annotated[str, typer.Argument(help="bash, zsh or fish.")],
             profile: ProfileOpt = "default",
             static: Annotated[bool, typer.Option(
                 "--static", help="Recommended: print one rc line that sources a file omg "
                 "keeps current (a new shell then runs no process).")] = False,
             not_found: Annotated[bool, typer.Option(
                 "--not-found", help="Also hint `omg use TOOL@VERSION` when a tool's "
                 "command is missing (chained to the shell's handler).")] = False) -> None:
        """Print the lines for your shell's rc file.

        Recommended: put the line `omg init SHELL --static` prints in your rc file
        (e.g. `omg init bash --static >> ~/.bashrc`). It sources a file omg rewrites
        when its lines change, so a new shell starts without running omg. Without
        --static, the lines themselves: `eval "$(omg init bash)"` runs omg at every
        shell start.
        """
        import sys

        from shims import init as shell_init
        from shims.completion import completion_script

        settings = config.load()
        home = profiles.Home(settings.layout, settings.user)
        ref = home.ref(profile)
        data_home = proj.data_home()
        lines = shell_init.init_script(
            shell, home=settings.home, global_bin=Path(ref.bin),
            projects=proj.projects_dir(settings.layout, settings.user),
            data_home=data_home, not_found=not_found) + completion_script(shell)
        if not static:
            typer.echo(lines, nl=False)
            return
        path = shell_init.static_file(data_home, shell)
        args = ["init", shell, "--static", *(["--profile", profile] if profile != "default"
                                            else []), *(["--not-found"] if not_found else [])]
        shell_init.write_static(path, shell_init.static_script(
            shell, lines, path, [sys.executable, "-m", "omg", *args],
            {"OMG_HOME": str(settings.home), "XDG_DATA_HOME": str(data_home)}))
        typer.echo(shell_init.static_line(shell, path), nl=False)

    @app.command("sync")
    def sync(directory: Annotated[Path | None, typer.Argument(
                 help="Project directory (default: here).")] = None,
             offline: Annotated[bool, typer.Option(
                 "--offline", help="Install missing versions from the download cache "
                 "only.")] = False,
             if_installed: Annotated[bool, typer.Option(
                 "--if-installed", help="Switch only if every pinned version is installed; "
                 "else print the command that installs them (the shell hook's check).")
             ] = False,
             frozen: Annotated[bool, typer.Option(
                 "--frozen", help="Exactly what omg.lock pins; fail, changing nothing, "
                 "when there is no lock or it does not satisfy the version files.")
             ] = False,
             json_out: JsonOpt = False) -> None:
        """Build this project's profile from its version files, installing what is missing."""
        sync_project(directory or Path.cwd(), offline=offline, json_out=json_out,
                     if_installed=if_installed, frozen=frozen)


def sync_project(directory: Path, *, offline: bool = False, json_out: bool = False,
                 if_installed: bool = False, frozen: bool = False,
                 locked: bool = False) -> None:
    """`omg sync` and `omg install` without arguments: the project profile of the
    version files at or above `directory`; then the stamp the shell hook compares
    the version files with (shims/project.py). `frozen`: exactly the project's lock,
    which must fit the version files; `locked` (`omg install`): the lock when there
    is one (omg/lock_cases.py)."""
    from omg.spec import parse_tool_spec

    root, pins = proj.project_pins(directory, check=parse_tool_spec)
    if if_installed:
        _sync_if_installed(root, pins)
        return
    from omg import lock_cases
    from omg.cli.runtime_cmd import progress_bar

    found = lock_cases.lock_here(root) if locked and not frozen else None
    with backend() as b, progress_bar() as progress:
        if frozen:
            result = lock_cases.sync_frozen(b, root, offline=offline, progress=progress)
        elif found is not None:
            result = lock_cases.install_lock(b, root, found[1], offline=offline,
                                             progress=progress)
        else:
            result = b.use(pins, project=root, offline=offline, progress=progress,
                           command="omg sync", write_version_files=False)
        paths = J.Paths(b.home_dir)
    proj.write_stamp(proj.data_home(), root)
    print_result(result, json_out, text.use_lines, lambda r: J.use(paths, r))
    print_warnings(result.warnings)


def _sync_if_installed(root: Path, pins: list[str]) -> None:
    """The hook's check after a version file changed: switch (one line on stderr) when
    the store has every pinned version, else one line naming the command that installs
    them, exit status 3; silent when the profile already matches."""
    from omg.lockfile import FILENAME as LOCK_FILE
    from omg.spec import parse_tool_spec, select

    with backend() as b:
        have: dict[str, list[str]] = {}  # tool -> installed versions (one request each)

        def installed(tool: str) -> list[str]:
            if tool not in have:
                have[tool] = [v.version for v in b.installed(tool)]
            return have[tool]

        missing = []
        for pin in pins:
            spec = parse_tool_spec(pin)
            if select(spec.spec, installed(spec.tool), spec.tool) is None:
                missing.append(pin)
        locked = _locked_versions(root)
        unlocked = [f"{t}@{v}" for t, v in locked.items() if v not in installed(t)]
        if missing or unlocked:
            proj.write_stamp(proj.data_home(), root, [*missing, *unlocked])
            if missing:
                typer.echo(f"omg: {root} wants {' '.join(missing)} (not installed); "
                           "run: omg install", err=True)
            if unlocked:
                typer.echo(f"omg: {root}: {LOCK_FILE} wants {' '.join(unlocked)} (not "
                           "installed); run: omg install", err=True)
            raise typer.Exit(3)
        result = b.sync(root, offline=True)
    # What the version files gave where the lock says otherwise: `omg install` fixes it.
    differ = [f"{t.tool}@{locked[t.tool]}" for t in result.tools
              if locked.get(t.tool, t.version) != t.version]
    proj.write_stamp(proj.data_home(), root, differ)
    if not result.unchanged:
        used = ", ".join(f"{t.tool} {t.version}" for t in result.tools)
        typer.echo(f"omg: {root}: now {used} (its version files changed)", err=True)
    if differ:
        typer.echo(f"omg: {root}: {LOCK_FILE} wants {' '.join(differ)}; run: omg install",
                   err=True)


def _locked_versions(root: Path) -> dict[str, str]:
    """The project lock's exact version of each tool (by the name omg gives the
    tool), or nothing without a lock: drift from it shows in the prompt too."""
    from omg import lock_cases
    from omg.spec import parse_tool_spec

    path = lock_cases.lock_path(root)
    if not path.is_file():
        return {}
    return {parse_tool_spec(t.tool).tool: t.version
            for t in lock_cases.read_lock(path).tools}
