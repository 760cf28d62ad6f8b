"""The typer CLI: the one place that imports typer and rich and maps errors to exit codes.

Each command group lives in its own module with a ``register(app)`` function;
use cases return plain objects and this package renders them as text or JSON.

Registration is lazy: `COMMANDS` says which module defines each top-level
command, and a run imports and registers only the module of the command it
was given. Importing every group costs more than the command itself for quick
ones (``omg list node --remote`` answered from the cached index: the profile,
store, Arch and daemon groups pull in their use cases). Help, no command or an
unknown one registers every group, so ``omg --help`` and typer's "no such
command" message still see them all. Plain string parameters skip typer's
pydantic coercion (`light_coercion`), whose import alone outweighs the rest.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    import typer

#: Top-level command -> the module whose ``register(app)`` defines it (kept in step with
#: the modules by tests/providers/test_cli_lazy.py).
COMMANDS = {
    "store": "omg.cli.store_cmd",
    "doctor": "omg.cli.store_cmd",
    "use": "omg.cli.profile_cmd",
    "uninstall": "omg.cli.profile_cmd",
    "rollback": "omg.cli.profile_cmd",
    "generations": "omg.cli.profile_cmd",
    "current": "omg.cli.profile_cmd",
    "which": "omg.cli.profile_cmd",
    "gc": "omg.cli.profile_cmd",
    "init": "omg.cli.profile_cmd",
    "sync": "omg.cli.profile_cmd",
    "install": "omg.cli.runtime_cmd",
    "list": "omg.cli.runtime_cmd",
    "outdated": "omg.cli.runtime_cmd",
    "search": "omg.cli.arch_cmd",
    "info": "omg.cli.arch_cmd",
    "aur": "omg.cli.arch_cmd",
    "pkg": "omg.cli.arch_cmd",
    "remove": "omg.cli.arch_cmd",
    "update": "omg.cli.arch_cmd",
    "daemon": "omg.cli.daemon_cmd",
    "exec": "omg.cli.exec_cmd",
    "x": "omg.cli.exec_cmd",
    "env": "omg.cli.exec_cmd",
    "completion": "omg.cli.completion_cmd",
    "config": "omg.cli.config_cmd",
    "import": "omg.cli.import_cmd",
    "venv": "omg.cli.venv_cmd",
    "audit": "omg.cli.audit_cmd",
    "sbom": "omg.cli.sbom_cmd",
    "lock": "omg.cli.lock_cmd",
    "status": "omg.cli.lock_cmd",
    "fingerprint": "omg.cli.lock_cmd",
    "cache": "omg.cli.cache_cmd",
}

#: Every command group, in the order `omg --help` lists them.
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


def modules_for(args: Sequence[str]) -> tuple[str, ...]:
    """The command modules a run with `args` needs: its command's, or all of them.

    The app has no options of its own before the command, so the first word is
    the command; anything else (``--help``, nothing, a typo) needs every group.
    """
    if args and args[0] in COMMANDS:
        return (COMMANDS[args[0]],)
    return COMMAND_MODULES


def build_app(modules: Iterable[str] = COMMAND_MODULES) -> typer.Typer:
    import typer

    app = typer.Typer(
        name="omg",
        help="Language runtimes and Arch packages from one immutable, content-addressed store.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def _options(
        version: bool = typer.Option(False, "--version", is_eager=True, callback=_version,
                                     help="Print omg's version and exit."),
    ) -> None:
        pass

    for name in modules:
        importlib.import_module(name).register(app)
    return app


def _version(value: bool) -> None:
    if value:
        print(version_line())
        raise SystemExit(0)


def version_line() -> str:
    """``omg <version>``, from the installed package's metadata."""
    from importlib.metadata import version

    return f"omg {version('omg')}"


_PLAIN = (str, Optional[str], str | None)  # noqa: UP045 (typing.Optional is what typer keeps)
_PLAIN_LISTS = (list[str], Optional[list[str]], list[str] | None)  # noqa: UP045
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})


def light_coercion() -> bool:
    """Coerce `str`, `list[str]` and `bool` parameters without pydantic; True if in place.

    typer (0.29) coerces parameters through a pydantic TypeAdapter built on first
    use (even ``--help``'s flag), and importing pydantic for it costs about 40 ms:
    more than ``omg list node --remote`` itself. Strings from the command line
    need no coercion and click has already turned flags into bools. This swaps
    typer's `build_runtime_param` for one that answers those cases itself and
    hands every other type to typer; with a typer that lacks these internals it
    changes nothing.
    """
    try:
        import typer.core as core
        from typer._coercion import RuntimeParam, TypeDescriptor
    except ImportError:
        return False
    typer_build = getattr(core, "build_runtime_param", None)
    if typer_build is None or getattr(typer_build, "omg_light", False):
        return typer_build is not None

    class _Plain(RuntimeParam):
        def _coerce_value(self, value: object, param: object, ctx: object) -> object:
            if self.annotation is bool:
                return value if isinstance(value, bool) else str(value).lower() in _TRUE
            if self.annotation in _PLAIN_LISTS:
                return [str(v) for v in value] if isinstance(value, list | tuple) \
                    else [str(value)]
            return value if isinstance(value, str) else str(value)

    def build(descriptor: TypeDescriptor) -> RuntimeParam:
        ann = descriptor.annotation
        plain = ann is bool or ann in _PLAIN or ann in _PLAIN_LISTS
        if plain and descriptor.file_annotation is None and not descriptor.is_choice \
                and not descriptor.is_path:
            return _Plain(parameter_info=descriptor.parameter_info, annotation=ann)
        built: RuntimeParam = typer_build(descriptor)
        return built

    build.omg_light = True  # type: ignore[attr-defined]
    setattr(core, "build_runtime_param", build)  # noqa: B010 (not re-exported by typer)
    return True


def run(args: list[str]) -> int:
    """Run the CLI; expected failures become one `error:` line and an exit code."""
    from omg.cli.output import report_error

    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    if args == ["--version"]:  # without typer's import: the answer is one line
        print(version_line())
        return 0
    try:
        import typer.main

        light_coercion()
        command = typer.main.get_command(build_app(modules_for(args)))
        # Not command.main(): it turns Ctrl-C into a silent exit 130 and a closed
        # stdout into a silent exit 1, and drops the code of a typer.Exit.
        with command.make_context("omg", args) as ctx:
            command.invoke(ctx)
    except SystemExit as exc:
        if isinstance(exc.__context__, BrokenPipeError):  # rich's help: SystemExit(1)
            return report_error(exc.__context__, debug=debug)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:
        return report_error(exc, debug=debug)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
