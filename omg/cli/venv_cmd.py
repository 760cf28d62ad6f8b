"""`omg venv create|list|remove|activate`: Python venvs from a store interpreter.

Without a NAME, a command acts on the project's ``.venv``: the project is the
nearest directory at or above this one with a version file, else this one.
``activate`` changes the calling shell, so it works through the ``omg`` shell
function `omg init` defines (shims/init.py), which evaluates what
``omg venv activate --shell SHELL`` prints: the venv's own activate script,
so ``deactivate`` is the venv's own too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omg import text
from omg.cli import json_out as J
from omg.cli.output import backend, print_result
from store.errors import UsageError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
NameArg = Annotated[str | None, typer.Argument(
    help="A named venv; none: this project's .venv.")]


def _project() -> Path:
    from shims.project import find_project

    cwd = Path.cwd()
    return find_project(cwd) or cwd


def split_args(args: list[str]) -> tuple[str | None, str | None]:
    """``[NAME] [python@SPEC]`` in either order: what holds an '@' is the spec."""
    specs = [a for a in args if "@" in a]
    names = [a for a in args if "@" not in a]
    if len(specs) > 1 or len(names) > 1:
        raise UsageError(f"venv create takes at most a NAME and a python@SPEC, got "
                         f"{' '.join(args)!r}")
    return (names[0] if names else None), (specs[0] if specs else None)


def register(app: typer.Typer) -> None:
    venv_app = typer.Typer(help="Python venvs made from a store interpreter.",
                           no_args_is_help=True)
    app.add_typer(venv_app, name="venv")

    @venv_app.command("create")
    def create(
        args: Annotated[list[str] | None, typer.Argument(
            metavar="[NAME] [python@SPEC]",
            help="A name (none: this project's .venv) and an installed python "
                 "(none: the project's, else the default profile's).")] = None,
        without_pip: Annotated[bool, typer.Option(
            "--without-pip", help="Do not install pip into the venv.")] = False,
        json_out: JsonOpt = False,
    ) -> None:
        """Make a venv with an installed python's own `-m venv`; it roots that python."""
        name, spec = split_args(args or [])
        with backend() as b:
            made = b.venv_create(name, spec, project=None if name else _project(),
                                 pip=not without_pip)
            paths = J.Paths(b.home_dir)
        print_result(made, json_out, lambda v: text.venv_lines(v, "created"),
                     lambda v: J.versioned(J.venv(paths, v)))

    @venv_app.command("list")
    def list_(json_out: JsonOpt = False) -> None:
        """Named venvs, and the project venvs omg made that still exist."""
        with backend() as b:
            found = b.venv_list()
            paths = J.Paths(b.home_dir)
        print_result(found, json_out, text.venv_list_lines,
                     lambda vs: [J.venv(paths, v) for v in vs])

    @venv_app.command("remove")
    def remove(name: NameArg = None, json_out: JsonOpt = False) -> None:
        """Delete a venv and its gc root."""
        with backend() as b:
            gone = b.venv_remove(name, project=None if name else _project())
            paths = J.Paths(b.home_dir)
        print_result(gone, json_out, lambda v: text.venv_lines(v, "removed"),
                     lambda v: J.versioned(J.venv(paths, v)))

    @venv_app.command("activate")
    def activate(
        name: NameArg = None,
        shell: Annotated[str | None, typer.Option(
            "--shell", help="Print the line SHELL evaluates (what the shell function "
                            "of `omg init` does).")] = None,
    ) -> None:
        """Activate a venv in this shell (through `omg init`'s shell function)."""
        from omg import venvs

        with backend() as b:
            found = b.venv_info(name, project=None if name else _project())
        if shell is None:
            raise UsageError(
                "omg venv activate changes this shell: it needs omg's shell integration",
                hint=f'add eval "$(omg init bash)" to your shell rc, or run: '
                     f". {found.path}/bin/activate")
        typer.echo(venvs.activation(found, shell), nl=False)
