"""`omg search`, `omg info`, `omg aur get|build|install`, `omg pkg install`, `omg remove`,
`omg outdated`, `omg update`: Arch repositories (libalpm) and the AUR.

Renders the use cases of omg.arch; `search` usually never gets here (omg.arch.fastsearch
answers it from the index); it comes here when the AUR cache is cold or expired.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from omg import config
from omg.cli import json_out as J
from omg.cli.output import print_json, stdout_to_stderr

if TYPE_CHECKING:
    from omg.arch.install import InstallResult
    from omg.arch.settings import ArchSettings
    from omg.arch.upgrade import UpdateResult
    from omg.install import Outdated as RuntimeOutdated

T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ConfigOpt = Annotated[str | None, typer.Option("--config", help="pacman.conf to use.")]
RootOpt = Annotated[str | None, typer.Option("--root", help="Installation root.")]
DbpathOpt = Annotated[str | None, typer.Option("--dbpath", help="pacman database path.")]
NoconfirmOpt = Annotated[bool, typer.Option("--noconfirm", help="Do not ask; skip review.")]
SystemOpt = Annotated[bool, typer.Option("--system", help="Also install with pacman -U.")]
PgpKeyOpt = Annotated[list[Path] | None, typer.Option(
    "--pgp-key", help="Import validpgpkeys the build user lacks from this key file.")]
RebuildOpt = Annotated[bool, typer.Option("--rebuild",
                                          help="Build the targets even when unchanged.")]


def _arch(cfg: str | None = None, root: str | None = None, dbpath: str | None = None
          ) -> tuple[config.Settings, ArchSettings]:
    from omg.arch.settings import from_settings

    settings = config.load()
    return settings, from_settings(settings).with_overrides(config=cfg, root=root,
                                                            dbpath=dbpath)


def _show(text: str) -> None:
    """A review: on a terminal coloured and through $PAGER (default `less -R`, which
    returns at once when the text fits the screen), plain otherwise."""
    if not sys.stdout.isatty():
        typer.echo(text)
        return
    import os
    import shlex
    import shutil
    import subprocess

    from omg.arch.review import colour

    text = colour(text)
    pager = shlex.split(os.environ.get("PAGER") or "less -R")
    if not pager or shutil.which(pager[0]) is None:
        typer.echo(text)
        return
    env = {**os.environ, "LESS": os.environ.get("LESS", "FRX")}
    try:
        subprocess.run(pager, input=text.encode(), env=env, check=False)
    except OSError:
        typer.echo(text)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        answer = sys.stdin.readline().strip().lower()
        typer.echo(f"{question} [y/N] {answer}", err=True)
        return answer in ("y", "yes")
    return bool(typer.confirm(question, default=False))


def _build_errors(fn: Callable[[], T]) -> T:
    from omg.arch.build import MakepkgFailed

    try:
        return fn()
    except MakepkgFailed as exc:
        typer.echo("==> makepkg log (last lines):", err=True)
        for line in exc.log_tail:
            typer.echo(f"    {line}", err=True)
        raise


def _refuse_shared(settings: config.Settings) -> None:
    """AUR builds write the store and the index directly: not yet through omgd."""
    import os

    from omg import locate

    if locate.shared_socket(str(settings.home), settings.raw, os.environ) is not None:
        from store.errors import PermissionDenied

        raise PermissionDenied("building AUR packages into the shared store is not served "
                               "by omgd yet", hint="root can run it: sudo omg install aur/NAME")


def _render_install(result: InstallResult, json_out: bool) -> None:
    if json_out:
        print_json(J.package_install(J.Paths(str(config.load().home)), result))
        return
    for b in result.built:
        note = f" (from {b.substituted})" if b.substituted else \
            " (already in the store)" if b.reused else ""
        typer.echo(f"{b.name} {b.version} -> {b.store_path}{note}")
    for f in result.system_installed:
        typer.echo(f"installed on the system: {f}")


def _outdated_runtimes() -> list[RuntimeOutdated]:
    """The runtimes' `outdated`, through the Backend (omgd in the shared mode); a
    network failure there is a note, not a failed update."""
    from omg.cli.output import backend
    from store.errors import NetworkError

    try:
        with backend() as b:
            return b.outdated()
    except NetworkError as exc:
        typer.echo(f"warning: outdated runtimes not listed: {exc}", err=True)
        return []


def _render_update(result: UpdateResult, runtimes: list[RuntimeOutdated]) -> None:
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    for u in result.repo_upgraded:
        typer.echo(f"upgraded: {u.name} {u.old or '(new)'} -> {u.new}")
    for b in result.builds:
        _render_install(b, False)
    for left in result.left:
        typer.echo(f"left: {left.name} {left.current} ({left.where}): {left.why}")
    for r in runtimes:
        typer.echo(f"runtime: {r.tool} {r.installed} -> {r.latest} "
                   f"(omg install {r.tool}@{r.latest})")
    rebuilt = sum(not b.reused for x in result.builds for b in x.built)
    typer.echo(f"summary: {len(result.repo_upgraded)} repository package(s) upgraded"
               f"{'' if result.synced else ' (not synced: --system)'}, {rebuilt} AUR "
               f"package(s) rebuilt, {len(result.left)} left, {len(runtimes)} runtime(s) "
               f"outdated")


def install_packages_command(names: list[str], *, system: bool, noconfirm: bool,
                             json_out: bool) -> None:
    """`omg pkg install` and the package half of `omg install`, rendered."""
    from omg.arch import install_packages

    settings, arch = _arch()
    with stdout_to_stderr(json_out):
        result = _build_errors(lambda: install_packages(
            settings, names, system=system, noconfirm=noconfirm, confirm=_confirm,
            show=_show, arch=arch))
    _render_install(result, json_out)


def register(app: typer.Typer) -> None:
    @app.command("search")
    def search_cmd(
        terms: Annotated[list[str], typer.Argument(help="Search terms (all must match).")],
        json_out: JsonOpt = False,
        repo: Annotated[bool, typer.Option("--repo", help="Repositories only.")] = False,
        cfg: ConfigOpt = None, root: RootOpt = None, dbpath: DbpathOpt = None,
    ) -> None:
        """Search the sync databases and the AUR."""
        from omg.arch import search
        from omg.arch.fastsearch import needs_terms
        from omg.cli.output import backend

        terms = needs_terms(terms)
        _settings, arch = _arch(cfg, root, dbpath)
        with backend() as b:
            result = b.search(terms, repos_only=repo, arch=arch)
        for w in result.warnings:
            typer.echo(f"warning: {w}", err=True)
        if json_out:
            print_json([h.to_json() for h in result.hits])
        else:
            sys.stdout.write(search.render(result))
        if not result.hits:
            raise SystemExit(1)  # like pacman -Ss: nothing found

    @app.command("info")
    def info_cmd(name: str, json_out: JsonOpt = False, cfg: ConfigOpt = None,
                 root: RootOpt = None, dbpath: DbpathOpt = None,
                 files: Annotated[bool, typer.Option(
                     "--files", help="List its files (as pacman -Ql / -Fl).")] = False,
                 ) -> None:
        """Show a repo or AUR package as pacman -Si does (the AUR's votes, dates too)."""
        from omg.arch import info

        settings, arch = _arch(cfg, root, dbpath)
        data = info.info(settings, name, arch=arch, files=files)
        if json_out:
            print_json(J.package_info(data))
            return
        sys.stdout.write(info.render_files(data) if files else info.render(data))

    aur_app = typer.Typer(help="Fetch, review and build AUR packages.", no_args_is_help=True)
    app.add_typer(aur_app, name="aur")

    @aur_app.command("get")
    def aur_get(name: str, dest: Annotated[Path, typer.Option("--dest")] = Path(".")) -> None:
        """Download and unpack an AUR package's snapshot (PKGBUILD and files)."""
        import tempfile

        from omg.arch import aur, build
        from omg.arch.install import pkgbase_of
        from store.errors import UsageError

        _settings, arch = _arch()
        base = pkgbase_of(arch, name)
        if (dest / base).exists():
            raise UsageError(f"{dest / base} already exists")
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest) as tmp:
            src = build.extract_snapshot(aur.download_snapshot(arch.aur_url, base, Path(tmp)),
                                         Path(tmp), base)
            src.rename(dest / base)
        typer.echo(dest / base)

    def _aur_install(names: list[str], system: bool, noconfirm: bool, json_out: bool,
                     pgp_keys: list[Path] | None = None, rebuild: bool = False) -> None:
        from omg.arch import install

        settings, arch = _arch()
        arch = arch.with_pgp_keys(pgp_keys or [])
        with stdout_to_stderr(json_out):
            result = _build_errors(lambda: install.build_aur(
                settings, [n.removeprefix("aur/") for n in names], system=system,
                noconfirm=noconfirm, confirm=_confirm, show=_show, arch=arch,
                rebuild=rebuild))
        _render_install(result, json_out)

    @aur_app.command("build")
    def aur_build(names: list[str], system: SystemOpt = False, noconfirm: NoconfirmOpt = False,
                  json_out: JsonOpt = False, pgp_key: PgpKeyOpt = None,
                  rebuild: RebuildOpt = False) -> None:
        """Resolve, review, build with makepkg and ingest into the store."""
        _aur_install(names, system, noconfirm, json_out, pgp_key, rebuild)

    @aur_app.command("install")
    def aur_install(names: list[str], system: SystemOpt = False,
                    noconfirm: NoconfirmOpt = False, json_out: JsonOpt = False,
                    pgp_key: PgpKeyOpt = None, rebuild: RebuildOpt = False) -> None:
        """Same as `aur build` (then `omg use aur/PKG`, or --system for pacman -U)."""
        _aur_install(names, system, noconfirm, json_out, pgp_key, rebuild)

    pkg_app = typer.Typer(help="Repository and AUR packages.", no_args_is_help=True)
    app.add_typer(pkg_app, name="pkg")

    @pkg_app.command("install")
    def pkg_install(names: list[str], system: SystemOpt = False,
                    noconfirm: NoconfirmOpt = False, json_out: JsonOpt = False) -> None:
        """Repo names -> pacman -S; aur/NAME (or names only the AUR has) -> build."""
        install_packages_command(names, system=system, noconfirm=noconfirm, json_out=json_out)

    @pkg_app.command("fetch")
    def pkg_fetch(names: list[str], cfg: ConfigOpt = None, root: RootOpt = None,
                  dbpath: DbpathOpt = None) -> None:
        """Repo packages into the store (not the system), signatures checked per SigLevel."""
        from omg.arch.fetch import fetch_packages
        from omg.cli.output import backend

        _settings, arch = _arch(cfg, root, dbpath)
        with backend() as b:
            for f in fetch_packages(b, arch, names):
                typer.echo(f"{f.repo}/{f.name} {f.version} -> {f.store_path} "
                           f"(signature: {f.signature})")

    @app.command("remove")
    def remove_cmd(
        names: Annotated[list[str] | None, typer.Argument(help="Packages to remove.")] = None,
        recursive: Annotated[bool, typer.Option(
            "--recursive", "-s",
            help="Also remove the dependencies no other package needs (pacman -Rs).")] = False,
        cache: Annotated[bool, typer.Option(
            "--cache", help="Clean the package cache: the files of packages not installed, "
                            "and unused sync databases (pacman -Sc).")] = False,
        noconfirm: NoconfirmOpt = False,
    ) -> None:
        """Remove system packages (pacman -R), after showing pacman's own list."""
        from omg.arch import remove
        from store.errors import Interrupted, UsageError

        _settings, arch = _arch()
        if cache:
            if names:
                raise UsageError("--cache takes no package names")
            remove.clean_cache(arch, noconfirm=noconfirm)
            return
        if not names:
            raise UsageError("nothing to remove", hint="omg remove NAME... (or --cache)")
        plan = remove.plan(arch, names, recursive=recursive)
        typer.echo(f"Packages to remove ({len(plan)}): "
                   + "  ".join(f"{n}-{v}" for n, v in plan))
        if not noconfirm and not _confirm(f"Remove {len(plan)} package"
                                          f"{'s' if len(plan) > 1 else ''}?"):
            raise Interrupted("removal declined: nothing was removed")
        remove.remove(arch, names, recursive=recursive)

    @app.command("update")
    def update_cmd(
        system: Annotated[bool, typer.Option(
            "--system", help="Sync the databases and upgrade the repository packages "
                             "(pacman -Syu) first.")] = False,
        devel: Annotated[bool, typer.Option(
            "--devel", help="Check the git sources of devel (-git) packages.")] = False,
        noconfirm: NoconfirmOpt = False, json_out: JsonOpt = False,
    ) -> None:
        """Full upgrade: repository packages (--system), outdated AUR packages rebuilt
        with review, outdated runtimes listed; then a summary."""
        from omg.arch import upgrade

        settings, arch = _arch()
        _refuse_shared(settings)
        with stdout_to_stderr(json_out):
            result = _build_errors(lambda: upgrade.update(
                settings, arch, system=system, devel_check=devel, noconfirm=noconfirm,
                confirm=_confirm, show=_show))
        runtimes = _outdated_runtimes()
        if json_out:
            print_json(J.package_update(J.Paths(str(settings.home)), result, runtimes))
            return
        _render_update(result, runtimes)
