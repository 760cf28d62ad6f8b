"""Rendering helpers shared by every command group: JSON, human sizes, error lines."""

from __future__ import annotations

import errno
import json
import os
import sys
import traceback
from typing import Any

from omg.units import human_size
from store.errors import Interrupted, OmgError, PermissionDenied, UsageError

#: 128 + SIGPIPE: what a shell reports for a tool killed by writing to a closed pipe.
BROKEN_PIPE = 141

__all__ = ["BROKEN_PIPE", "broken_pipe", "human_size", "print_json", "report_error"]


def report_error(exc: BaseException, *, debug: bool = False) -> int:
    """Print `error: ...` (and `hint: ...`) on stderr; return the exit code."""
    # typer vendors its own click; match by name so either one is recognised.
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
        return broken_pipe()
    if isinstance(exc, KeyboardInterrupt) or "Abort" in names:
        exc = Interrupted("interrupted")
    elif "Exit" in names and hasattr(exc, "exit_code"):
        return int(exc.exit_code)
    elif "NoArgsIsHelpError" in names:
        # A group without its command: the help is the message (typer has printed
        # it already and left the text empty); exit 2 as click does.
        text = exc.format_message()  # type: ignore[attr-defined]
        if text:
            print(text)
        return UsageError.exit_code
    elif "ClickException" in names:
        msg = exc.format_message().replace("\n", " ")  # type: ignore[attr-defined]
        exc = UsageError(msg, hint="see `omg --help`")
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, OmgError):
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return PermissionDenied.exit_code if isinstance(exc, PermissionError) else 1
    if not debug:
        print(f"error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("hint: run again with --debug for a traceback and report it", file=sys.stderr)
    return 70


def broken_pipe() -> int:
    """The reader of stdout has gone (``omg ... | head``): end quietly, as Unix tools do.

    Whatever is still buffered for stdout goes to /dev/null, or the interpreter's
    final flush would fail again and print a traceback.
    """
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass
    return BROKEN_PIPE


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")
