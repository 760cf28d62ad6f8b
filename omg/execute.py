"""`omg exec TOOL@SPEC... -- COMMAND [ARG...]` (alias `omg x`): run with versions, no switch.

The door omg/entry.py opens before typer: the words after ``--`` are the command's
own, which click's parser would take apart (it drops the ``--``), and a command run
through omg should not pay for the CLI it does not use. The env comes from the
backend (`omg.environment.exec_env`: installed if missing, rooted for this process),
then omg *becomes* the command with ``exec(2)``: same pid, so the temporary root
keeps the env until the command exits, and signals and the exit status are the
command's own.
"""

from __future__ import annotations

import os
import sys

USAGE = "omg exec TOOL@SPEC... -- COMMAND [ARG...]"
#: As POSIX shells report them: found but not runnable, and not found.
NOT_EXECUTABLE = 126
NOT_FOUND = 127


def run(args: list[str]) -> int | None:
    """Run `args` (``exec`` or ``x`` first); None hands ``--help`` to the typer CLI."""
    words = args[1:]
    sep = words.index("--") if "--" in words else len(words)
    ours, command = words[:sep], words[sep + 1:]
    if "-h" in ours or "--help" in ours:
        return None
    from store.errors import UsageError

    offline = "--offline" in ours
    specs = [w for w in ours if w != "--offline"]
    unknown = [w for w in specs if w.startswith("-")]
    if unknown:
        raise UsageError(f"exec: unknown option {unknown[0]!r}", hint=USAGE)
    if not command:
        raise UsageError("exec: no command to run (it follows `--`)", hint=USAGE)
    if not specs:
        raise UsageError("exec: no tools: give TOOL@SPEC before `--`", hint=USAGE)
    return _exec(specs, command, offline)


def _exec(specs: list[str], command: list[str], offline: bool) -> int:
    from omg.cli.output import backend
    from omg.cli.runtime_cmd import progress_bar
    from omg.environment import environ

    with backend() as b, progress_bar() as progress:
        result = b.exec_env(specs, pid=os.getpid(), offline=offline, progress=progress)
        store_dir = f"{b.home_dir}/store"
    env = environ(store_dir, result.env, f"{store_dir}/{result.env}", os.environ)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(command[0], command, env)
    except FileNotFoundError:
        print(f"error: exec: {command[0]}: command not found (tools: "
              f"{', '.join(f'{t.tool}@{t.version}' for t in result.tools)})", file=sys.stderr)
        return NOT_FOUND
    except PermissionError:
        print(f"error: exec: {command[0]}: permission denied", file=sys.stderr)
        return NOT_EXECUTABLE
    except OSError as exc:
        print(f"error: exec: {command[0]}: {exc.strerror or exc}", file=sys.stderr)
        return NOT_EXECUTABLE
