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

T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ConfigOpt = Annotated[str | None, typer.Option("--config", help="pacman.conf to use.")]
RootOpt = Annotated[str | None, typer.Option("--root", help="Installation root.")]
DbpathOpt = Annotated[str | None, typer.Option("--dbpath", help="pacman database path.")]
NoconfirmOpt = Annotated[bool, typer.Option("--noconfirm", help="Do not ask; skip review.")]
SystemOpt = Annotated[bool, typer.Option("--system", help="Also install with pacman -U.")]


def _arch(cfg: str | None = None, root: str | None = None, dbpath: str | None = None
          ) -> tuple[config.Settings, ArchSettings]:
    from omg.arch.settings import from_settings

    settings = config.load()
    return settings, from_settings(settings).with_overrides(config=cfg, root=root,
                                                            dbpath=dbpath)


def _show(text: str) -> None:
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
        note = " (already in the store)" if b.reused else ""
        typer.echo(f"{b.name} {b.version} -> {b.store_path}{note}")
    for f in result.system_installed:
        typer.echo(f"installed on the system: {f}")


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
        from store.local import LocalStore

        terms = needs_terms(terms)
        settings, arch = _arch(cfg, root, dbpath)
        store = LocalStore(settings.layout)
        result = search.search(arch, store.index, settings.layout.store, terms,
                               repos_only=repo)
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
        from omg.arch.names import check_name
        from store.errors import UsageError

        _settings, arch = _arch()
        check_name(name)
        got = aur.info(arch.aur_url, [name])
        if name not in got:
            from store.errors import NotFound

            raise NotFound(f"package {name!r} not found in the AUR")
        base = str(got[name].get("PackageBase") or name)
        if (dest / base).exists():
            raise UsageError(f"{dest / base} already exists")
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest) as tmp:
            src = build.extract_snapshot(aur.download_snapshot(arch.aur_url, base, Path(tmp)),
                                         Path(tmp), base)
            src.rename(dest / base)
        typer.echo(dest / base)

    def _aur_install(names: list[str], system: bool, noconfirm: bool, json_out: bool) -> None:
        from omg.arch import install

        settings, arch = _arch()
        _refuse_shared(settings)
        with stdout_to_stderr(json_out):
            result = _build_errors(lambda: install.build_aur(
                settings, [n.removeprefix("aur/") for n in names], system=system,
                noconfirm=noconfirm, confirm=_confirm, show=_show, arch=arch))
        _render_install(result, json_out)

    @aur_app.command("build")
    def aur_build(names: list[str], system: SystemOpt = False, noconfirm: NoconfirmOpt = False,
                  json_out: JsonOpt = False) -> None:
        """Resolve, review, build with makepkg and ingest into the store."""
        _aur_install(names, system, noconfirm, json_out)

    @aur_app.command("install")
    def aur_install(names: list[str], system: SystemOpt = False,
                    noconfirm: NoconfirmOpt = False, json_out: JsonOpt = False) -> None:
        """Same as `aur build` (then `omg use aur/PKG`, or --system for pacman -U)."""
        _aur_install(names, system, noconfirm, json_out)

    pkg_app = typer.Typer(help="Repository and AUR packages.", no_args_is_help=True)
    app.add_typer(pkg_app, name="pkg")

    @pkg_app.command("install")
    def pkg_install(names: list[str], system: SystemOpt = False,
                    noconfirm: NoconfirmOpt = False, json_out: JsonOpt = False) -> None:
        """Repo names -> pacman -S; aur/NAME (or names only the AUR has) -> build."""
        install_packages_command(names, system=system, noconfirm=noconfirm, json_out=json_out)

    @app.command("remove")
    def remove_cmd(names: list[str], noconfirm: NoconfirmOpt = False) -> None:
        """Remove system packages with pacman -R."""
        from omg.arch import install

        settings, arch = _arch()
        install.remove_packages(settings, names, noconfirm=noconfirm, arch=arch)

    @app.command("update")
    def update_cmd(noconfirm: NoconfirmOpt = False, json_out: JsonOpt = False) -> None:
        """Rebuild the outdated AUR packages, with review."""
        from omg.arch import install

        settings, arch = _arch()
        _refuse_shared(settings)
        found = install.outdated(settings, arch=arch)
        if not found and not json_out:
            typer.echo("everything is up to date")
            return
        system = sorted({o.name for o in found if o.where == "system"})
        store_only = sorted({o.name for o in found if o.where == "store"} - set(system))
        done = install.InstallResult()  # --json: one document for both builds
        for names, sysinst in ((store_only, False), (system, True)):
            if names:
                def build(n: list[str] = names, s: bool = sysinst) -> InstallResult:
                    return install.build_aur(settings, n, system=s, noconfirm=noconfirm,
                                             confirm=_confirm, show=_show, arch=arch)

                with stdout_to_stderr(json_out):
                    result = _build_errors(build)
                if not json_out:
                    _render_install(result, json_out)
                for field in ("built", "repo_installed", "system_installed", "order",
                              "repo_deps"):
                    getattr(done, field).extend(getattr(result, field))
        if json_out:
            _render_install(done, json_out)
