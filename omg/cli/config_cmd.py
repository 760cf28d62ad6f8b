"""`omg config list|get|set|unset`: read and edit the settings (omg/config_edit.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from omg.cli import json_out as J
from omg.cli.output import print_result
from store.errors import NotFound

KeyArg = Annotated[str, typer.Argument(help="section.key (network.retries) or home.")]


def _shown(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(help="Show and change settings (the user's config file).",
                             no_args_is_help=True)
    app.add_typer(config_app, name="config")

    @config_app.command("list")
    def list_(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
              ) -> None:
        """Every setting, its value in effect and where it comes from."""
        from omg.config_edit import entries

        print_result(entries(), json_out, lambda rows: [
            f"{r.key:<28} {_shown(r.value) if r.value is not None else '-':<30} "
            f"{r.source}" for r in rows], J.config_entries)

    @config_app.command("get")
    def get(key: KeyArg) -> None:
        """Print the value in effect (from a variable or a config file)."""
        from omg.config_edit import entries, kind_of

        kind_of(key)
        section, _, name = key.rpartition(".")
        found = {e.key: e for e in entries()}
        entry = found.get(key)
        if entry is None:  # a name of the user's own in a table: groups.dev
            table = found[section].value
            entry = found[section]._replace(
                key=key, value=table.get(name) if isinstance(table, dict) else None)
        if entry.value is None:
            raise NotFound(f"{key} is not set: its default applies",
                           hint="docs/config.md gives each default")
        typer.echo(_shown(entry.value))

    @config_app.command("set")
    def set_(key: KeyArg, value: Annotated[str, typer.Argument(
            help="A TOML value (3, 2.5, \"text\", [\"a\", \"b\"]) or plain text.")]) -> None:
        """Set KEY in your config file, checked first (the file keeps its comments)."""
        from omg.config_edit import set_value, variable_of

        path = set_value(key, value)
        typer.echo(f"{key} = {value} in {path}")
        var = variable_of(key)
        import os

        if var and os.environ.get(var):
            typer.echo(f"warning: {var} is set and overrides it", err=True)

    @config_app.command("unset")
    def unset(key: KeyArg) -> None:
        """Remove KEY from your config file (its default, or the system's, applies)."""
        from omg.config_edit import unset as unset_key

        path = unset_key(key)
        typer.echo(f"{key} removed from {path}")
