"""What every command group shares: its backend, rendering (text or JSON), error lines."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from omg.units import human_size
from store.errors import Interrupted, OmgError, PermissionDenied, UsageError

#: 128 + SIGPIPE: what a shell reports for a tool killed by writing to a closed pipe.
BROKEN_PIPE = 141

__all__ = ["BROKEN_PIPE", "backend", "broken_pipe", "human_size", "print_json",
           "print_result", "print_warnings", "report_error", "stdout_to_stderr"]

if TYPE_CHECKING:
    from omg.backend import Backend

R = TypeVar("R")


@contextlib.contextmanager
def backend() -> Iterator[Backend]:
    """The backend of this command (`omg.backends`: the local store, or omgd), closed
    after it: one choice per command, made from the settings loaded once."""
    from omg import config
    from omg.backends import for_settings

    b = for_settings(config.load())
    try:
        yield b
    finally:
        b.close()


@contextlib.contextmanager
def stdout_to_stderr(active: bool) -> Iterator[None]:
    """With ``--json`` stdout carries one document: while `active`, what the work prints
    meanwhile (pacman's and makepkg's own output, progress notes) goes to stderr."""
    if not active:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)  # at the descriptor: child processes inherit it
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def print_result(result: R, json_out: bool, lines: Callable[[R], list[str]],
                 as_json: Callable[[R], object]) -> None:
    """`result` as the JSON `as_json` makes of it (its documented shape:
    `omg.cli.json_out`) or as the lines `lines` makes of it (`omg.text`)."""
    if json_out:
        print_json(as_json(result))
        return
    sys.stdout.write("".join(line + "\n" for line in lines(result)))


def print_warnings(warnings: list[str]) -> None:
    """`warnings` on stderr (`omg.text.warning_lines`), whether or not the answer is JSON."""
    from omg.text import warning_lines

    sys.stderr.write("".join(line + "\n" for line in warning_lines(warnings)))


def _click_kind(exc: BaseException) -> str | None:
    """Which of typer's (vendored click's) exceptions `exc` is, by type: only once
    typer has run (the lean paths report errors without ever importing it)."""
    exceptions = sys.modules.get("typer._click.exceptions")
    typer_own = sys.modules.get("typer.exceptions")
    kinds = [(typer_own, "Exit"), (typer_own, "Abort"), (exceptions, "NoArgsIsHelpError"),
             (exceptions, "ClickException")]
    for module, name in kinds:  # the most specific first: NoArgsIsHelpError is a
        cls = getattr(module, name, None)  # ClickException too
        if isinstance(cls, type) and isinstance(exc, cls):
            return name
    return None


def report_error(exc: BaseException, *, debug: bool = False) -> int:
    """Print `error: ...` (and `hint: ...`) on stderr; return the exit code."""
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
        return broken_pipe()
    kind = _click_kind(exc)
    if isinstance(exc, KeyboardInterrupt) or kind == "Abort":
        exc = Interrupted("interrupted")
    elif kind == "Exit":
        return int(exc.exit_code)  # type: ignore[attr-defined]
    elif kind == "NoArgsIsHelpError":
        # A group without its command: the help is the message (typer has printed
        # it already and left the text empty); exit 2 as click does.
        text = exc.format_message()  # type: ignore[attr-defined]
        if text:
            print(text)
        return UsageError.exit_code
    elif kind == "ClickException":
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


def print_json(data: object) -> None:
    """`data` (already in its documented shape, `omg.cli.json_out`) on stdout."""
    json.dump(data, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
