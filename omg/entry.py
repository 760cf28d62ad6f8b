"""The `omg` console script.

The hot commands (`use`, `rollback`, `current` between installed versions,
`search` answered from the index, and `gc` in a store of one's own) take fast
paths that never import typer, rich, httpx or pyalpm (docs/architecture.md). A
fast path returns None for whatever it does not recognise, and the full typer
CLI, the reference behaviour, takes over.
The fast path is imported with the builtin ``__import__``: the importlib
package costs most of a millisecond, a tenth of what `omg use` may spend.
It runs with the cyclic garbage collector off: nearly everything a hot command
allocates is its modules, kept to the end, so each pass the collector makes over
them (four in `omg use`) is pure cost, about a millisecond in all; refcounting still
frees the rest. It is on again for the typer CLI, which also runs long commands.
"""

from __future__ import annotations

import gc
import sys

#: command -> module whose ``run(args) -> int | None`` may answer it.
FAST_PATHS = {
    "use": "omg.fast",
    "rollback": "omg.fast",
    "current": "omg.fast",
    "gc": "omg.fast",
    "search": "omg.arch.fastsearch",
    "exec": "omg.execute",
    "x": "omg.execute",
    "__complete": "omg.completion",
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if any(a in ("-q", "-v", "--quiet", "--verbose") for a in args):
        from omg import verbosity

        args = verbosity.take_flags(args)
        verbosity.quiet_streams(next((a for a in args if not a.startswith("-")), ""))
    try:
        code = _run(args)
        sys.stdout.flush()  # here, where a closed pipe is still ours to report
    except (Exception, KeyboardInterrupt) as exc:
        # Ctrl-C outside a command's own handling (starting up, a fast path's
        # settings or parsing), a stdout whose reader is gone, or a bug in a fast
        # path: one line and exit 70 (the traceback with --debug), as the typer CLI.
        from omg.cli.output import report_error

        return report_error(exc, debug="--debug" in args)
    return code


def _run(args: list[str]) -> int:
    module = FAST_PATHS.get(args[0]) if args else None
    if module is not None:
        gc.disable()
        try:
            code: int | None = __import__(module, fromlist=["run"]).run(args)
        finally:
            gc.enable()  # main() may be called in a longer-lived process (tests)
        if code is not None:
            return code
    from omg.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
