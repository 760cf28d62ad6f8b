"""`omg completion bash|zsh|fish`: the shell's completion lines (also part of `omg init`)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("completion")
    def completion(shell: Annotated[str, typer.Argument(help="bash, zsh or fish.")]) -> None:
        """Print completion for commands, options, tools, versions, profiles,
        generations and package names (`omg init` includes it).

        bash: eval "$(omg completion bash)"; zsh (after compinit): the same;
        fish: omg completion fish | source.
        """
        from shims.completion import completion_script

        typer.echo(completion_script(shell), nl=False)
