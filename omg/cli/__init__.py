"""The typer CLI: the one place that imports typer and rich and maps errors to exit codes.

Each command group lives in its own module with a ``register(app)`` function;
use cases return plain objects and this package renders them as text or JSON.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

COMMAND_MODULES = (
    "omg.cli.store_cmd",
    "omg.cli.profile_cmd",
    "omg.cli.runtime_cmd",
    "omg.cli.arch_cmd",
    "omg.cli.daemon_cmd",
)


def build_app() -> typer.Typer:
    import typer

    app = typer.Typer(
        name="omg",
        help="Language runtimes and Arch packages from one immutable, content-addressed store.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # a command group not built yet
            raise
        module.register(app)
    return app


def run(args: list[str]) -> int:
    """Run the CLI; expected failures become one `error:` line and an exit code."""
    from omg.cli.output import report_error

    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        app = build_app()
        app(args=args, prog_name="omg", standalone_mode=False)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:
        return report_error(exc, debug=debug)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
