"""Temporary roots: store paths a running process uses without a generation.

``omg exec`` runs a command with an env no profile holds, so a `omg gc` meanwhile
would delete the command's tools under it. As Nix keeps a temporary-roots file per
process, omg writes ``temproots/<user>/<pid>-<start>``: the store path names the
process uses, one per line. The file is a root while that process lives, and the
name says which process: its pid and its start time (field 22 of
``/proc/<pid>/stat``), so a later process that reuses the pid does not inherit it.
``exec(2)`` keeps both, so the command that `omg exec` becomes holds the root until
it exits; gc drops files whose process is gone (`stale`).

omgd writes the file for its peer's pid (SO_PEERCRED), so the shared store keeps
a user's `omg exec` alive the same way; users cannot write ``temproots/``.
Files named otherwise (older layouts, tools of one's own) stay roots until removed.
"""

from __future__ import annotations

from generations.links import real_dir
from store.fsutil import atomic_write

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

TEMPROOTS = "temproots"


def start_time(pid: int) -> str | None:
    """The start time of process `pid` in clock ticks since boot, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ")": the
    # fields after the last ")" are fixed. Field 22 is the 20th after it.
    fields = raw[raw.rfind(b")") + 2:].split()
    return fields[19].decode() if len(fields) > 19 else None


def file_name(pid: int) -> str:
    start = start_time(pid)
    if start is None:
        from store.errors import NotFound

        raise NotFound(f"process {pid} is gone: no temporary root for it")
    return f"{pid}-{start}"


def hold(home: str, user: str, pid: int, names: Iterable[str]) -> str:
    """Make `names` roots while process `pid` lives; the file written.

    Call it with the gc lock held shared, so no collection runs between choosing
    the paths and this write (generations/gc.py, the lock protocol).
    """
    directory = real_dir(home, f"{TEMPROOTS}/{user}", 0o755)
    path = f"{directory}/{file_name(pid)}"
    try:
        with open(path) as f:
            held = {line.strip() for line in f}
    except FileNotFoundError:
        held = set()
    atomic_write(path, "".join(f"{n}\n" for n in sorted(held | set(names))).encode(), 0o644)
    return path


def stale(name: str) -> bool:
    """True if temproot file `name` is named ``<pid>-<start>`` for a process that is gone."""
    pid, sep, start = name.partition("-")
    if not sep or not pid.isdigit() or not start.isdigit():
        return False
    return start_time(int(pid)) != start
