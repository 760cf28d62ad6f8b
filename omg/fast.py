"""A lean door for the hot commands: their arguments parsed by hand, the same use cases.

``use TOOL@SPEC... [--profile P] [--local]``, ``rollback [--to N] [--profile P]
[--local]``, ``current [--profile P] [--local]`` and ``gc [--dry-run]`` go straight
to the backend (`omg.backends.open_backend`: the local store, or omgd in the shared
mode) and are printed by `omg.text`, exactly as the typer commands do, without
loading typer, rich or pydantic, whose import costs more than these commands' work.
Anything else (another option, ``--json``, no spec for `use`, a config file that
does not load) returns None and the typer CLI answers: it reports errors the same
way (`omg.cli.output.report_error`).

Nothing here is a second implementation: the answers that make a `use` between
installed versions cheap are the catalogue's, consulted inside `omg.profiles.use`
itself. Once a command has started, it never falls through (running it again in
the typer CLI would, say, roll back twice). Check imports with
``python -X importtime -m omg use ...``.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from contextlib import AbstractContextManager
    from pathlib import Path

    from omg.backend import Backend
    from omg.config import Config, Settings

    Update = Callable[[str, int, int | None], None]

#: Options with a value each command takes here (flags: --local/-l, gc's --dry-run/-n).
_OPTIONS = {"use": {"--profile", "-p"}, "rollback": {"--profile", "-p", "--to"},
            "current": {"--profile", "-p"}, "gc": set()}


def _parse(args: list[str]) -> tuple[str, list[str], dict[str, str]] | None:
    cmd, rest = args[0], args[1:]
    allowed = _OPTIONS[cmd]
    positional: list[str] = []
    opts: dict[str, str] = {}
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in ("--local", "-l") and cmd != "gc":
            opts["--local"] = ""
        elif a in ("--dry-run", "-n") and cmd == "gc":
            opts["--dry-run"] = ""
        elif a.startswith("-"):
            name, eq, value = a.partition("=")
            if name not in allowed:
                return None
            if not eq:
                if i + 1 >= len(rest):
                    return None
                i += 1
                value = rest[i]
            opts["--profile" if name == "-p" else name] = value
        else:
            positional.append(a)
        i += 1
    if (cmd == "use") != bool(positional):
        return None
    if any(a.startswith(("@", "group:")) for a in positional):
        return None  # a group (omg.groups): the typer CLI expands it from the config
    to = opts.get("--to")
    if to is not None and not (to.isdecimal() and to.isascii()):
        return None
    return cmd, positional, opts


def lean_settings(environ: Mapping[str, str] | None = None
              ) -> tuple[str, str, Config] | None:
    """(absolute OMG_HOME, user, raw config) as `omg.config.load` finds them.

    Without a config file (the common case) this is a few stats (`omg.locate`);
    with one, `omg.config.load` parses it (tomllib). None when loading fails.
    """
    from omg import locate

    env = os.environ if environ is None else environ
    if locate.needs_config(env):
        from omg import config
        from store.errors import OmgError

        try:
            settings = config.load(environ)
        except (OmgError, OSError, ValueError):
            return None
        return str(settings.home), settings.user, settings.raw
    return locate.home({}, env), locate.current_user(), {}


def _load_settings() -> Settings:
    from omg import config

    return config.load()


def run(args: list[str]) -> int | None:
    parsed = _parse(args)
    if parsed is None:
        return None
    where = lean_settings()
    if where is None:
        return None  # a bad config file or variable: the typer CLI reports it
    home, user, raw = where
    from omg.backends import open_backend

    # mirror=False: the index's copy of generation records is left for the next
    # command that opens the index anyway (the files are the truth).
    backend = open_backend(home, user, _load_settings, raw=raw, mirror=False)
    try:
        lines = _answer(backend, *parsed)
        sys.stdout.write("".join(line + "\n" for line in lines))
    except (Exception, KeyboardInterrupt) as exc:
        from store.errors import OmgError  # not before: its import is on the timed path

        if not isinstance(exc, OmgError | OSError | ValueError | KeyboardInterrupt):
            raise
        from omg.cli.output import report_error

        return report_error(exc)  # it may have happened: never run it again
    finally:
        backend.close()
    return 0


def _answer(backend: Backend, cmd: str, positional: list[str],
            opts: dict[str, str]) -> list[str]:
    from omg import text

    profile = opts.get("--profile", "default")
    project = _project() if "--local" in opts else None
    if cmd == "use":
        progress = _Progress()
        try:
            used = backend.use(positional, profile=profile, project=project,
                               progress=progress)
        finally:
            progress.close()
        sys.stderr.write("".join(line + "\n" for line in text.warning_lines(used.warnings)))
        return text.use_lines(used)
    if cmd == "rollback":
        to = opts.get("--to")
        return text.switch_lines(backend.rollback(profile=profile, project=project,
                                                  to=int(to) if to is not None else None))
    if cmd == "current":
        return text.current_lines(backend.current(profile=profile, project=project))
    from store.sweep import sigterm_interrupts

    sigterm_interrupts()  # gc stops between two paths on SIGTERM too: exit 130
    result = backend.gc(dry_run="--dry-run" in opts)
    return text.gc_lines(result, backend.home_dir + "/store")


def _project() -> Path:
    """``--local``: the nearest directory with a version file, or this one."""
    from pathlib import Path

    from shims.project import find_project

    cwd = Path.cwd()
    return find_project(cwd) or cwd


class _Progress:
    """Download progress for a `use` that installs: rich's bar, started (and imported)
    only when a download starts, so a `use` between installed versions never loads it."""

    def __init__(self) -> None:
        self._bar: AbstractContextManager[Update | None] | None = None
        self._update: Update | None = None

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if self._bar is None:
            from omg.cli.runtime_cmd import progress_bar

            self._bar = progress_bar()
            self._update = self._bar.__enter__()
        if self._update is not None:
            self._update(label, done, total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
