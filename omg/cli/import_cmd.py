"""`omg import nvm|pyenv|asdf|mise|rustup [TOOL[@SPEC]...]` (omg/imports.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from omg.cli import json_out as J
from omg.cli.output import backend, print_result
from store.errors import NotFound


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_(
        source: Annotated[str, typer.Argument(help="nvm, pyenv, asdf, mise or rustup.")],
        specs: Annotated[list[str] | None, typer.Argument(
            help="Only these (TOOL or TOOL@SPEC); default: everything it installed.")] = None,
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", "-n", help="List what would be imported.")] = False,
        json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Add the versions another manager installed to the store, so nothing is
        downloaded again; then `omg use` them as usual."""
        from omg import imports

        with backend() as b:
            results = imports.run(b, source, specs or [], dry_run=dry_run)
            paths = J.Paths(b.home_dir)
        if not results:
            raise NotFound(f"{source}: nothing to import from {imports.data_dir(source, {})}"
                           + (f" matching {' '.join(specs)}" if specs else ""))
        print_result(results, json_out, lambda rows: [_line(r) for r in rows],
                     lambda rows: J.imported(paths, rows))
        if all(r.skipped and r.skipped != "dry run" for r in results):
            raise typer.Exit(1)


def _line(r: object) -> str:
    from omg.imports import Imported

    assert isinstance(r, Imported)
    what = f"{r.tool} {r.version} from {r.source} ({r.path})"
    if r.skipped == "dry run":
        return f"would import {what}"
    if r.skipped:
        return f"skipped {what}: {r.skipped}"
    return f"{'imported' if r.created else 'already in the store:'} {what} -> {r.store_path}"
