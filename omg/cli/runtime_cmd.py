"""Runtime commands: install, list (installed or --remote), outdated.

Renders the plain results of `omg.install`; a rich progress bar on a terminal
(stderr), nothing otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any

import typer

from omg import config
from omg.cli.output import human_size, print_json

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
OfflineOpt = Annotated[bool, typer.Option(
    "--offline", help="Use only cached indexes and downloads; never touch the network.")]


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int | None], None] | None]:
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    tasks: dict[str, Any] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), transient=True) as bar:
        def update(label: str, done: int, total: int | None) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done, total=total)

        yield update


def _jsonable(obj: Any) -> Any:
    """A result dataclass for print_json (which renders Paths itself); a record as its path."""
    data = asdict(obj)
    if "record" in data:
        data["record"] = data["record"].get("path")
    return data


def register(app: typer.Typer) -> None:
    @app.command("install")
    def install_cmd(
        specs: Annotated[list[str], typer.Argument(help="TOOL@VERSION, e.g. node@20 go@1.23.")],
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

        Runtimes are downloaded, verified and ingested with no profile change;
        package names go to the Arch side (pacman -S for repo packages, makepkg
        for the AUR), as `omg pkg install` does.
        """
        from omg import install
        from omg.providers import TOOLS, canonical

        def is_runtime(spec: str) -> bool:
            return "@" in spec or canonical(spec) in TOOLS

        packages = [s for s in specs if not is_runtime(s)]
        specs = [s for s in specs if is_runtime(s)]
        if packages:
            from omg.cli.arch_cmd import install_packages_command

            install_packages_command(packages, system=system, noconfirm=noconfirm,
                                     json_out=json_out)
        if not specs:
            return
        from omg.remote_store import remote_if_shared

        settings = config.load()
        daemon = remote_if_shared(settings)
        if daemon is not None:  # the daemon downloads, verifies and ingests, from its mirrors
            from omg import remote_profiles

            results = remote_profiles.install(daemon, specs, offline=offline, refresh=refresh)
        else:
            with progress_bar() as progress:
                results = install.install(settings, specs, offline=offline, refresh=refresh,
                                          progress=progress)
        if json_out:
            print_json([_jsonable(r) for r in results])
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
        from omg import install

        settings = config.load()
        if remote:
            if tool is None:
                raise typer.BadParameter("--remote needs a TOOL")
            from omg.remote_store import remote_if_shared

            daemon = remote_if_shared(settings)
            if daemon is not None:  # what the daemon can install, from its mirror
                from omg import remote_profiles

                found = remote_profiles.list_remote(daemon, tool, offline=offline)
            else:
                found = install.list_remote(settings, tool, offline=offline)
            if json_out:
                print_json([_jsonable(r) for r in found])
                return
            lines = []
            for r in found:
                tags = [t for t in (f"lts:{r.lts}" if r.lts else "",
                                    "security" if r.security else "",
                                    "installed" if r.installed else "") if t]
                lines.append(f"{r.version:<16}{r.date:<12}{' '.join(tags)}".rstrip())
            sys.stdout.write("\n".join(lines) + ("\n" if lines else ""))
            return
        if tool is not None:
            from omg import providers

            providers.get(tool)  # NotFound for a tool omg does not know, naming those it does
        rows = install.list_installed(settings, tool)
        if json_out:
            print_json([_jsonable(r) for r in rows])
            return
        for v in rows:
            typer.echo(f"{v.tool:<8}{v.version:<16}{human_size(v.size):>10}  {v.store_path}")

    @app.command("outdated")
    def outdated_cmd(
        tools: Annotated[list[str] | None, typer.Argument(help="Only these tools.")] = None,
        offline: OfflineOpt = False,
        json_out: JsonOpt = False,
    ) -> None:
        """Installed runtimes with a newer release, and AUR packages the AUR has newer."""
        from omg import install
        from omg.remote_store import remote_if_shared

        settings = config.load()
        daemon = remote_if_shared(settings)
        if daemon is not None:  # the daemon asks its mirror about the store's runtimes
            from omg import providers, remote_profiles

            wanted = {providers.canonical(t) for t in tools or ()}
            pairs = [(v.tool, v.version) for v in install.list_installed(settings)
                     if not wanted or v.tool in wanted]
            rows = remote_profiles.outdated(daemon, pairs, offline=offline)
            packages = []  # AUR packages are not in a shared store yet
        else:
            rows = install.outdated(settings, tools=tools or (), offline=offline)
            packages = [] if tools or offline else _outdated_packages(settings)
        if json_out:
            print_json([{"kind": "runtime", **_jsonable(r)} for r in rows]
                       + [{"kind": "package", **p.__dict__} for p in packages])
            return
        for r in rows:
            typer.echo(f"{r.tool:<8}{r.installed:<14} patch: {r.latest_patch:<14} "
                       f"latest: {r.latest}")
        for p in packages:
            typer.echo(f"{p.name} {p.current} -> {p.latest} ({p.where})")


def _outdated_packages(settings: Any) -> list[Any]:
    """AUR packages with a newer version; nothing where this machine has no pacman."""
    from omg.arch import install as arch_install
    from omg.arch.settings import from_settings

    arch = from_settings(settings)
    if not arch.pacman_conf.exists():
        return []
    try:
        return arch_install.outdated(settings, arch=arch)
    except ModuleNotFoundError:  # pyalpm is an optional extra
        return []
