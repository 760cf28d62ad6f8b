"""`-q`/`--quiet` and `-v`/`--verbose`: how much a command says besides its answer.

omg/entry.py takes the flags from the words before the command (or `--quiet` /
`--verbose` anywhere before ``--``) and sets ``OMG_VERBOSITY`` (-1, 0, 1) for
this process; what omg runs itself (omgd started by hand excepted) inherits it.

Quiet: a command that changes something prints nothing when it succeeds, warnings
and notes are dropped, no progress bar; a command asked for data (list, current,
which, search, generations, config get...) still prints it, and errors always show.
Verbose: each network request (URL, status, size, time), each upstream index
answered from the cache, each store path added, on stderr as ``omg: ...``.
Only `os` and `sys` here: the hot paths ask `level()`.
"""

from __future__ import annotations

import os
import sys

VARIABLE = "OMG_VERBOSITY"
QUIET, NORMAL, VERBOSE = -1, 0, 1
#: Commands whose output is what the user asked for; quiet keeps it.
ANSWERS = frozenset({"list", "current", "which", "search", "info", "generations", "outdated",
                     "env", "config", "completion", "init", "__complete", "store", "daemon",
                     "doctor"})
#: Lines a quiet run drops from stderr.
CHATTER = ("warning: ", "note: ")


def level() -> int:
    text = os.environ.get(VARIABLE, "")
    return int(text) if text in ("-1", "0", "1") else NORMAL


def take_flags(args: list[str]) -> list[str]:
    """`args` without the verbosity flags, which are put into the environment."""
    end = args.index("--") if "--" in args else len(args)
    lead = 0
    while lead < end and args[lead].startswith("-") and args[lead] in (
            "-q", "-v", "--quiet", "--verbose", "--debug"):
        lead += 1
    chosen: int | None = None
    kept: list[str] = []
    for i, word in enumerate(args):
        if i < end and (word in ("--quiet", "--verbose") or (i < lead and word in ("-q", "-v"))):
            chosen = QUIET if word in ("-q", "--quiet") else VERBOSE
            continue
        kept.append(word)
    if chosen is not None:
        os.environ[VARIABLE] = str(chosen)
    return kept


def say(message: str) -> None:
    """One ``omg: ...`` line on stderr, when verbose."""
    if level() >= VERBOSE:
        sys.stderr.write(f"omg: {message}\n")


class _QuietStderr:
    """stderr without warnings and notes (the lines `CHATTER` starts)."""

    def __init__(self, stream: object) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if not line.startswith(CHATTER):
                self._stream.write(line + "\n")  # type: ignore[attr-defined]
        return len(text)

    def flush(self) -> None:
        if self._pending and not self._pending.startswith(CHATTER):
            self._stream.write(self._pending)  # type: ignore[attr-defined]
        self._pending = ""
        self._stream.flush()  # type: ignore[attr-defined]

    def isatty(self) -> bool:
        return False  # no progress bars

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def quiet_streams(command: str) -> None:
    """Apply quiet to this process's streams for `command` (entry.py calls it)."""
    if level() != QUIET:
        return
    sys.stderr = _QuietStderr(sys.stderr)
    if command not in ANSWERS:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)
