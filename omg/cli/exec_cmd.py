"""Environment commands: exec (and its alias x), env.

`omg exec` runs through its own door (omg/execute.py) before typer parses
anything; the commands here give it its help text and listing.
"""

from __future__ import annotations

import os
import shlex
from typing import Annotated

import typer

from omg.cli import json_out as J
from omg.cli.output import backend, print_json
from store.errors import UsageError

_EXEC_HELP = (
    "Run COMMAND with these tool versions, without switching any profile.\n\n"
    "Versions the store lacks are installed first. The tools' bin/ comes first on PATH "
    "and their variables (JAVA_HOME, ...) are set; then omg becomes COMMAND, whose exit "
    "status is omg's. `omg gc` keeps the tools while COMMAND runs.\n\n"
    "Example: omg exec node@18 python@3.12 -- node --version")


def register(app: typer.Typer) -> None:
    settings = {"ignore_unknown_options": True, "allow_extra_args": True}

    def exec_(
        offline: Annotated[bool, typer.Option(
            "--offline", help="Install missing versions from the download cache only.")] = False,
    ) -> None:
        from omg.execute import USAGE

        # Only help reaches here: omg/execute.py runs the command before typer.
        raise UsageError(f"usage: {USAGE}" + (" (--offline)" if offline else ""))

    for name in ("exec", "x"):
        app.command(name, help=_EXEC_HELP if name == "exec" else "Alias of `omg exec`.",
                    context_settings=settings,
                    options_metavar="TOOL@SPEC... [--offline] -- COMMAND [ARG...]")(exec_)

    @app.command("env")
    def env(
        profile: Annotated[str, typer.Option("--profile", "-p", help="Profile name.")] = "default",
        local: Annotated[bool, typer.Option(
            "--local", "-l", help="This project's profile.")] = False,
        shell: Annotated[str, typer.Option(
            "--shell", help="sh (bash, zsh) or fish.")] = "sh",
        json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Print the environment a profile gives: its bin/ on PATH and its variables.

        For scripts and CI without the shell integration: eval "$(omg env)". Values go
        through the profile's link, so they follow later switches.
        """
        from omg.cli.profile_cmd import _project
        from omg.environment import variables

        if shell not in ("sh", "bash", "zsh", "fish"):
            raise UsageError(f"unknown shell {shell!r}", hint="use sh, bash, zsh or fish")
        with backend() as b:
            info = b.current(profile=profile, project=_project(local))
            paths = J.Paths(b.home_dir)
        reached_as = os.path.dirname(info.bin)
        values = variables(paths.store_dir, info.env, reached_as)
        if json_out:
            print_json(J.env(paths, info, values))
            return
        if shell == "fish":
            lines = [f"set -gx PATH {shlex.quote(info.bin)} $PATH"]
            lines += [f"set -gx {k} {shlex.quote(v)}" for k, v in values.items()]
        else:
            lines = [f'export PATH={shlex.quote(info.bin)}"${{PATH:+:$PATH}}"']
            lines += [f"export {k}={shlex.quote(v)}" for k, v in values.items()]
        print("\n".join(lines))
