"""Runtime commands: install, list (installed or --remote), outdated.

Renders the plain results of `omg.install`; a rich progress bar on a terminal
(stderr), nothing otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from omg import config
from omg.cli import json_out as J
from omg.cli.output import backend, human_size, print_json

if TYPE_CHECKING:
    from omg.arch.upgrade import Outdated as PackageOutdated
    from omg.config import Settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
OfflineOpt = Annotated[bool, typer.Option(
    "--offline", help="Use only cached indexes and downloads; never touch the network.")]


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int | None], None] | None]:
    if not sys.stderr.isatty():  # also when quiet (omg/verbosity.py)
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TaskID,
        TextColumn,
        TransferSpeedColumn,
    )

    tasks: dict[str, TaskID] = {}
    # Started on the first update: a command with nothing to download or unpack (a
    # `use` or `sync` of installed versions) prints no cursor codes and line clears.
    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                   TransferSpeedColumn(), transient=True)

    def update(label: str, done: int, total: int | None) -> None:
        if not tasks:
            bar.start()
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=total)
        bar.update(tasks[label], completed=done, total=total)

    try:
        yield update
    finally:
        if tasks:
            bar.stop()


def register(app: typer.Typer) -> None:
    @app.command("install")
    def install_cmd(
        specs: Annotated[list[str] | None, typer.Argument(
            help="TOOL@VERSION, e.g. node@20 go@1.23, aur/NAME, @GROUP; none: what the "
            "version files here pin, then the project profile (as omg sync).")] = None,
        offline: OfflineOpt = False,
        refresh: Annotated[bool, typer.Option(
            "--refresh", help="Re-read upstream indexes even if cached.")] = False,
        json_out: JsonOpt = False,
        system: Annotated[bool, typer.Option(
            "--system", help="Packages: also install with pacman -U.")] = False,
        noconfirm: Annotated[bool, typer.Option(
            "--noconfirm", help="Packages: do not ask; skip review.")] = False,
    ) -> None:
        """Add runtimes (TOOL@VERSION) or Arch packages (NAME, aur/NAME) to the store.

        Without arguments: exactly what omg.lock pins when the project has one, else
        every tool the version files here name; and this project's profile (as
        `omg sync`). Runtimes named are downloaded, verified and ingested
        with no profile change;
        package names go to the Arch side (pacman -S for repo packages, makepkg
        for the AUR), as `omg pkg install` does.
        """
        if not specs:
            from omg.cli.profile_cmd import sync_project

            sync_project(Path.cwd(), offline=offline, json_out=json_out, locked=True)
            return
        from omg.groups import expand_configured
        from omg.providers import TOOLS, canonical

        specs = expand_configured(specs)  # `@dev`: its runtimes and packages

        def is_runtime(spec: str) -> bool:  # `aur/foo@1.0-1` a package, `node@lts/iron` not
            return "/" not in spec.partition("@")[0] and ("@" in spec or canonical(spec) in TOOLS)

        packages = [s for s in specs if not is_runtime(s)]
        specs = [s for s in specs if is_runtime(s)]
        if json_out and packages and specs:  # two documents of two shapes: no contract
            from store.errors import UsageError

            raise UsageError("--json: install runtimes and packages in two commands",
                             hint=f"omg install {' '.join(specs)} --json; "
                                  f"omg pkg install {' '.join(packages)} --json")
        if packages:
            from omg.cli.arch_cmd import install_packages_command

            install_packages_command(packages, system=system, noconfirm=noconfirm,
                                     json_out=json_out)
        if not specs:
            return
        # In the shared mode omgd downloads, verifies and ingests, from its own mirrors.
        with backend() as b, progress_bar() as progress:
            results = b.install(specs, offline=offline, refresh=refresh, progress=progress)
            paths = J.Paths(b.home_dir)
        if json_out:
            print_json(J.runtime_installs(paths, results))
            return
        for r in results:
            for w in r.warnings:
                typer.echo(f"warning: {w}", err=True)
            state = "installed" if r.created else "already installed"
            typer.echo(f"{r.tool}@{r.version} {state}: {r.store_path}")

    @app.command("list")
    def list_cmd(
        tool: Annotated[str | None, typer.Argument(help="Only this tool.")] = None,
        remote: Annotated[bool, typer.Option(
            "--remote", "-r", help="Versions upstream offers, newest first.")] = False,
        offline: OfflineOpt = False,
        json_out: JsonOpt = False,
    ) -> None:
        """List installed runtimes, or with --remote what a tool's upstream offers."""
        from omg.versioncache import remember_versions

        if remote:
            if tool is None:
                raise typer.BadParameter("--remote needs a TOOL")
            with backend() as b:  # in the shared mode: what omgd's mirror offers
                found = b.releases(tool, offline=offline)
            remember_versions(tool, [(r.version, r.lts) for r in found])
            if any(r.stale for r in found):
                typer.echo(f"warning: {tool}: upstream is unreachable; this is the cached "
                           "index, past its expiry (`stale` in --json)", err=True)
            if json_out:
                print_json(J.rows(found))
                return
            lines = []
            for r in found:
                tags = [t for t in (f"lts:{r.lts}" if r.lts else "",
                                    "security" if r.security else "",
                                    f"eol:{r.eol_from or 'yes'}" if r.eol else "",
                                    "installed" if r.installed else "") if t]
                lines.append(f"{r.version:<16}{r.date:<12}{' '.join(tags)}".rstrip())
            sys.stdout.write("\n".join(lines) + ("\n" if lines else ""))
            return
        if tool is not None:
            from omg import providers

            providers.get(tool)  # NotFound for a tool omg does not know, naming those it does
        with backend() as b:
            rows = b.installed(tool)
            paths = J.Paths(b.home_dir)
        if json_out:
            print_json(J.installed(paths, rows))
            return
        for v in rows:
            typer.echo(f"{v.tool:<8}{v.version:<16}{human_size(v.size):>10}  {v.store_path}"
                       + ("  kept" if v.kept else ""))

    @app.command("outdated")
    def outdated_cmd(
        tools: Annotated[list[str] | None, typer.Argument(help="Only these tools.")] = None,
        offline: OfflineOpt = False,
        json_out: JsonOpt = False,
    ) -> None:
        """Installed runtimes with a newer release, and AUR packages the AUR has newer."""
        from omg.backends.daemon import DaemonBackend

        settings = config.load()
        with backend() as b:  # in the shared mode: the daemon asks its mirror
            rows = b.outdated(tools or (), offline=offline)
            shared = isinstance(b, DaemonBackend)
        # AUR packages are not in a shared store yet.
        packages = [] if tools or offline or shared else _outdated_packages(settings)
        if json_out:
            print_json([{"kind": "runtime", **r} for r in J.rows(rows)]
                       + [{"kind": "package", **p} for p in J.rows(packages)])
            return
        for r in rows:
            ended = f"  (end-of-life{' since ' + r.eol_from if r.eol_from else ''})" \
                if r.eol else ""
            typer.echo(f"{r.tool:<8}{r.installed:<14} patch: {r.latest_patch:<14} "
                       f"latest: {r.latest}{ended}")
        for p in packages:
            typer.echo(f"{p.name} {p.current} -> {p.latest} ({p.where})")


def _outdated_packages(settings: Settings) -> list[PackageOutdated]:
    """AUR packages with a newer version; nothing where this machine has no pacman."""
    from omg.arch import upgrade as arch_upgrade
    from omg.arch.settings import from_settings

    arch = from_settings(settings)
    if not arch.pacman_conf.exists():
        return []
    try:
        return arch_upgrade.outdated(settings, arch=arch)
    except ModuleNotFoundError:  # pyalpm is an optional extra
        return []
