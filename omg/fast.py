"""Fast path for the hot commands; returns None to hand over to the typer CLI.

Handles exactly ``use TOOL@SPEC... [--profile P] [--local]``, ``rollback
[--to N] [--profile P] [--local]`` and ``current [--profile P] [--local]``, by
hand-parsing, and calls the same use cases as the typer CLI (omg/profiles.py).
Anything else, and any `use` whose spec the store cannot satisfy (a provider
may install it), returns None.
It must not import typer, rich, httpx or click, nor omg.config (whose limits
pull in the archive readers): check with ``python -X importtime -m omg use ...``.
The text it prints is the CLI's, from the `format_*` helpers below.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from omg.profiles import CurrentInfo, SwitchResult, UseResult
    from store.layout import Layout


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


# Settings without omg.config -----------------------------------------------------------


def light_home(environ: Mapping[str, str] | None = None) -> Path:
    """OMG_HOME exactly as omg.config.load computes it, with cheap imports."""
    env = os.environ if environ is None else environ
    if env.get("OMG_HOME"):
        return Path(env["OMG_HOME"]).absolute()
    xdg_config = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    home: Any = None
    for path in (Path("/etc/omg/config.toml"),
                 Path(env.get("OMG_CONFIG") or xdg_config / "omg" / "config.toml")):
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, PermissionError, IsADirectoryError):
            continue
        import tomllib

        try:
            found = tomllib.loads(raw.decode()).get("home")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            raise LookupError(path) from None  # let the full CLI report it
        home = found or home
    if home:
        return Path(home).absolute()
    xdg_data = Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return (xdg_data / "omg").absolute()


class LightLayout:
    """The part of `store.layout.Layout` the profile use cases touch.

    `Layout` is a dataclass, and importing `dataclasses` alone costs more than
    the rest of `omg use`; this mirrors its path arithmetic for the fast path.
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        self.store = home / "store"
        self.profiles = home / "profiles"
        self.gcroots = home / "gcroots"
        self.temproots = home / "temproots"
        self.db = home / "db"
        self.locks = home / "locks"
        self.gc_lock = self.locks / "gc.lock"

    def store_path(self, name: str) -> Path:
        return self.store / name

    def record_path(self, name: str) -> Path:
        return self.store / (name + ".meta")


def _user() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


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
    try:
        home_dir = light_home()
    except LookupError:
        return None
    from omg import profiles
    from store.errors import NotFound, OmgError

    layout: Layout = LightLayout(home_dir)  # type: ignore[assignment]
    home = profiles.Home(layout, _user(), mirror=False)
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
    except OmgError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except OSError:
        return None  # the full CLI reports it (with --debug if asked)
    finally:
        home.close()
    return 0
