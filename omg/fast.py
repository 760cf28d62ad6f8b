"""Fast path for the hot commands; returns None to hand over to the typer CLI.

Handles exactly ``use TOOL@SPEC... [--profile P] [--local]``, ``rollback
[--to N] [--profile P] [--local]`` and ``current [--profile P] [--local]``, by
hand-parsing, and calls the same use cases as the typer CLI (omg/profiles.py).
Anything else, and any `use` whose spec the store cannot satisfy (a provider
may install it), returns None.
It must not import typer, rich, httpx or click (omg.config and store.layout
are light on purpose): check with ``python -X importtime -m omg use ...``.
The text it prints is the CLI's, from the `format_*` helpers below.

Import cost: the value types on this path are `typing.NamedTuple`s, and the
modules defining them do without ``from __future__ import annotations``. With
it, every field annotation is a string that NamedTuple turns into a
``ForwardRef``, which calls compile(); the first compile() in a process sets
up the AST types and costs about 1 ms, a tenth of what `omg use` may spend.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from omg.profiles import CurrentInfo, SwitchResult, UseResult


# Rendering shared with omg/cli/profile_cmd.py -----------------------------------------


def _tools_text(tools: Mapping[str, str]) -> str:
    return ", ".join(f"{t} {v}" for t, v in sorted(tools.items())) or "no tools"


def format_use(r: UseResult) -> list[str]:
    used = ", ".join(f"{t.tool} {t.version}" for t in r.tools)
    lines = [f"{r.profile}: {used} already current (generation {r.generation})" if r.unchanged
             else f"{r.profile}: generation {r.generation}: {used}"]
    for c in r.conflicts:
        lines.append(f"note: {c.path} now comes from {c.winner} (was {c.loser})")
    for f in r.version_files:
        lines.append(f"wrote {f}")
    lines += [f"warning: {w}" for w in r.warnings]
    return lines


def format_switch(r: SwitchResult) -> list[str]:
    return [f"{r.profile}: switched from generation {r.previous} to {r.generation} "
            f"({_tools_text(r.tools)})"]


def format_current(c: CurrentInfo) -> list[str]:
    if c.generation is None:
        return [f"{c.profile}: no generations yet (omg use TOOL@VERSION)"]
    lines = [f"{c.profile}: generation {c.generation}"]
    lines += [f"  {t.tool} {t.version}  {t.store_path}" for t in c.tools]
    return lines


# Argument parsing --------------------------------------------------------------------


def _parse(args: list[str]) -> tuple[str, list[str], dict[str, str]] | None:
    cmd, rest = args[0], args[1:]
    allowed = {"use": {"--profile", "-p"}, "rollback": {"--profile", "-p", "--to"},
               "current": {"--profile", "-p"}}[cmd]
    positional: list[str] = []
    opts: dict[str, str] = {}
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in ("--local", "-l"):
            opts["--local"] = ""
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
    if cmd == "use" and not positional:
        return None
    if cmd != "use" and positional:
        return None
    return cmd, positional, opts


def _print(lines: list[str]) -> None:
    sys.stdout.write("".join(line + "\n" for line in lines))


def run(args: list[str]) -> int | None:
    parsed = _parse(args)
    if parsed is None:
        return None
    cmd, positional, opts = parsed
    from omg import config, profiles
    from store.errors import NotFound, OmgError

    try:
        settings = config.load()
    except (OmgError, OSError, ValueError):
        return None  # a bad config file or variable: the full CLI reports it
    home = profiles.Home(settings.layout, settings.user, mirror=False)
    profile = opts.get("--profile", "default")
    project = None
    if "--local" in opts:
        from shims.project import find_project

        cwd = Path.cwd()
        project = find_project(cwd) or cwd
    try:
        if cmd == "use":
            try:
                _print(format_use(profiles.use(home, positional, profile=profile,
                                               project=project)))
            except NotFound:
                return None  # perhaps a provider can install it: the full CLI decides
        elif cmd == "rollback":
            to = opts.get("--to")
            if to is not None and not to.isdigit():
                return None
            _print(format_switch(profiles.rollback(
                home, profile=profile, project=project, to=int(to) if to is not None else None)))
        else:
            _print(format_current(profiles.current(home, profile=profile, project=project)))
    except (OmgError, OSError) as exc:
        # Never fall through here: the operation may already have happened, and
        # running it again in the full CLI would, say, roll back twice.
        from omg.cli.output import report_error

        return report_error(exc)
    finally:
        home.close()
    return 0
