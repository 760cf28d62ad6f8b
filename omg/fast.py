"""Fast path for the hot commands; returns None to hand over to the typer CLI.

Handles exactly ``use TOOL@SPEC... [--profile P] [--local]``, ``rollback
[--to N] [--profile P] [--local]`` and ``current [--profile P] [--local]``, by
hand-parsing. Three tiers, each falling through to the next:

1. the lean path (this module alone): `current`, `use` of tools whose answer the
   catalogue already knows (`generations.catalogue.Quick`: the resolved store
   paths and the env, which are pure functions of immutable store paths) and
   `rollback`, on ``os.path`` strings. It imports no pathlib, typing, re, json
   or shlex: on a small machine those cost more than the rest of `omg use`
   (re alone ~7 ms, against ~10 ms for ``python -c pass``). It writes the
   generation through `generations.links`, as `generations.profile` does
   (under the same profile lock and shared gc lock: invariants 2 and 3);
   tests/generations/test_fast.py holds the two tiers to the same result;
2. the use cases of omg/profiles.py (the typer CLI's), without typer, rich,
   httpx or LMDB;
3. the full CLI, for anything else and for a `use` whose spec the store cannot
   satisfy (a provider may install it).

In the shared mode (issue 6) this user cannot write OMG_HOME: `use` and
`rollback` are requests to omgd (omg/remote_profiles.py), rendered the same
way. The single-user path pays one ``os.access`` for that.

Never fall through once something may have changed: running it again in the
next tier would, say, roll back twice. Check imports with
``python -X importtime -m omg use ...``.
"""

from __future__ import annotations

import os
import sys

from generations import links
from store.locks import flock

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

    from omg.profiles import CurrentInfo, SwitchResult, UseResult

DEFAULT_PROFILE = links.DEFAULT_PROFILE
#: generations.env.MANIFEST_FORMAT (that module imports json and re); a test keeps them equal.
MANIFEST_FORMAT = 1

# Rendering shared with omg/cli/profile_cmd.py -----------------------------------------


def _tools_text(tools: Mapping[str, str]) -> str:
    return ", ".join(f"{t} {v}" for t, v in sorted(tools.items())) or "no tools"


def use_lines(profile: str, generation: int, unchanged: bool,
              tools: Iterable[tuple[str, str]], conflicts: Iterable[tuple[str, str, str]],
              version_files: Iterable[str] = (), warnings: Iterable[str] = ()) -> list[str]:
    """What `use` prints; `tools` as (tool, version), `conflicts` as (path, winner, loser)."""
    used = ", ".join(f"{t} {v}" for t, v in tools)
    lines = [f"{profile}: {used} already current (generation {generation})" if unchanged
             else f"{profile}: generation {generation}: {used}"]
    for path, winner, loser in conflicts:
        lines.append(f"note: {path} now comes from {winner} (was {loser})")
    for f in version_files:
        lines.append(f"wrote {f}")
    lines += [f"warning: {w}" for w in warnings]
    return lines


def format_use(r: UseResult) -> list[str]:
    return use_lines(r.profile, r.generation, r.unchanged,
                     [(t.tool, t.version) for t in r.tools],
                     [(c.path, c.winner, c.loser) for c in r.conflicts],
                     r.version_files, r.warnings)


def switch_lines(profile: str, previous: int | None, generation: int,
                 tools: Mapping[str, str]) -> list[str]:
    return [f"{profile}: switched from generation {previous} to {generation} "
            f"({_tools_text(tools)})"]


def format_switch(r: SwitchResult) -> list[str]:
    return switch_lines(r.profile, r.previous, r.generation, r.tools)


def current_lines(profile: str, generation: int | None,
                  tools: Iterable[tuple[str, str, str]]) -> list[str]:
    """What `current` prints; `tools` as (tool, version, store path)."""
    if generation is None:
        return [f"{profile}: no generations yet (omg use TOOL@VERSION)"]
    return [f"{profile}: generation {generation}",
            *(f"  {tool} {version}  {path}" for tool, version, path in tools)]


def format_current(c: CurrentInfo) -> list[str]:
    return current_lines(c.profile, c.generation,
                         [(t.tool, t.version, t.store_path) for t in c.tools])


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
    where = _settings()
    if where is None:
        return None  # a bad config file or variable: the full CLI reports it
    home, user, raw = where
    profile = opts.get("--profile", DEFAULT_PROFILE)
    to = opts.get("--to")
    if to is not None and not (to.isdecimal() and to.isascii()):
        return None
    local = "--local" in opts
    if cmd != "current":
        from omg import locate

        socket = locate.shared_socket(home, raw, os.environ)  # one access(2) when not shared
        if socket is not None:
            return None if local else _remote(socket, cmd, positional, profile, to)
    if not local:
        try:
            if cmd == "use":
                used = lean_use(home, user, positional, profile)
                lines = None if used is None else use_lines(profile, *used)
            elif cmd == "current":
                shown = lean_current(home, user, profile)
                lines = None if shown is None else current_lines(profile, *shown)
            else:
                back = lean_rollback(home, user, profile, None if to is None else int(to))
                lines = None if back is None else switch_lines(profile, *back)
            if lines is not None:
                _print(lines)  # a closed pipe is reported like any error, as tier 2 does
                return 0
        except (Exception, KeyboardInterrupt) as exc:
            from store.errors import OmgError  # not before: its import is on the timed path

            if not isinstance(exc, OmgError | OSError | ValueError | KeyboardInterrupt):
                raise
            return _report(exc)  # the generation may be half made: never run it again
    return _full(home, user, cmd, positional, profile, to, local)


def _report(exc: BaseException) -> int:
    from omg.cli.output import report_error

    return report_error(exc)


def _full(home: str, user: str, cmd: str, positional: list[str], profile: str,
          to: str | None, local: bool) -> int | None:
    """Tier 2: the use cases of omg/profiles.py, as the typer CLI calls them."""
    from pathlib import Path

    from omg import profiles
    from store.errors import NotFound, OmgError
    from store.layout import Layout

    h = profiles.Home(Layout(Path(home)), user, mirror=False)
    project = None
    if local:
        from shims.project import find_project

        cwd = Path.cwd()
        project = find_project(cwd) or cwd
    try:
        if cmd == "use":
            try:
                _print(format_use(profiles.use(h, positional, profile=profile,
                                               project=project)))
            except NotFound:
                return None  # perhaps a provider can install it: the full CLI decides
        elif cmd == "rollback":
            _print(format_switch(profiles.rollback(
                h, profile=profile, project=project, to=int(to) if to is not None else None)))
        else:
            _print(format_current(profiles.current(h, profile=profile, project=project)))
    except (OmgError, OSError) as exc:
        # Never fall through here: the operation may already have happened.
        return _report(exc)
    finally:
        h.close()
    return 0


# Settings and the shared mode ---------------------------------------------------------


def _settings(environ: Mapping[str, str] | None = None
              ) -> tuple[str, str, Mapping[str, Any]] | None:
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


def _remote(socket: str, cmd: str, specs: list[str], profile: str, to: str | None) -> int:
    """`use` or `rollback` by omgd, which alone writes profiles/<user>/ (invariant 7).

    One request through `omg.daemon.client.call`, rendered from the reply's maps
    as the single-user lines are. Any failure to reach omgd is its
    `DaemonUnavailable`, reported as every other command reports it.
    """
    from omg.daemon import client

    try:
        if cmd == "use":
            r = client.call(socket, "profile.use", {"specs": specs, "profile": profile,
                                                     "command": "omg use " + " ".join(
                                                         _quote(s) for s in specs)})
            lines = use_lines(r["profile"], r["generation"], r["unchanged"],
                              [(t["tool"], t["version"]) for t in r["tools"]],
                              [(c["path"], c["winner"], c["loser"]) for c in r["conflicts"]],
                              r["version_files"], r["warnings"])
        else:
            params: dict[str, Any] = {"profile": profile}
            if to is not None:
                params["to"] = int(to)
            r = client.call(socket, "profile.rollback", params)
            lines = switch_lines(r["profile"], r["previous"], r["generation"], r["tools"])
    except (KeyError, TypeError) as exc:
        return _report(client.unavailable(socket, f"omgd sent a malformed reply ({exc})"))
    except (Exception, KeyboardInterrupt) as exc:
        from store.errors import OmgError

        if not isinstance(exc, OmgError | KeyboardInterrupt):
            raise
        return _report(exc)
    _print(lines)
    return 0


# Tier 1: the lean path -----------------------------------------------------------------
#
# Every check below that fails returns None *before* anything changed, and the
# next tier answers (and reports errors) exactly as before.

_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_TOOL_CHARS = _ALNUM | frozenset("+_.-")
_SPEC_CHARS = _ALNUM | frozenset("+_.~-")
#: shlex.quote leaves these alone (shlex imports re).
_SHELL_SAFE = _ALNUM | frozenset("_@%+=:,./-")


def _spec(text: str) -> tuple[str, str] | None:
    """omg.spec.parse_tool_spec for plain specs; None for anything else (or malformed)."""
    tool, sep, spec = text.partition("@")
    if not sep:
        spec = "latest"
    if not (0 < len(tool) <= 64 and tool[0] in _ALNUM and set(tool) <= _TOOL_CHARS):
        return None
    if not (0 < len(spec) <= 64 and set(spec) <= _SPEC_CHARS and spec[0] not in ".-"):
        return None
    return tool, spec


def _profile_ok(name: str, user: str) -> bool:
    """generations.profile.ProfileRef.user_profile's checks."""
    return links.valid_profile_name(name) and links.valid_user_name(user)


def _quote(word: str) -> str:
    if not word:
        return "''"
    if set(word) <= _SHELL_SAFE:
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


class _Profile:
    """generations.profile.ProfileRef for a user profile, on strings."""

    def __init__(self, home: str, user: str, name: str) -> None:
        self.home = home
        self.store = home + "/store"
        self.directory = f"{home}/profiles/{user}"
        self.name = name

    def gen_link(self, n: int) -> str:
        return links.gen_link(self.directory, self.name, n)

    def numbers(self) -> list[int]:
        return links.numbers(self.directory, self.name)

    def current(self) -> int | None:
        return links.current_number(self.directory, self.name)

    def env_of(self, n: int) -> str:
        return links.env_of(self.directory, self.name, n)

    def locked(self) -> Any:
        return links.lock(self.directory, self.name, self.store, what=f"profile {self.name}")

    def gc_guard(self) -> Any:
        return flock(self.home + "/locks/gc.lock", shared=True,
                     what="the garbage collector lock")


def lean_use(home: str, user: str, specs: Sequence[str], profile: str = DEFAULT_PROFILE
             ) -> tuple[int, bool, list[tuple[str, str]], list[tuple[str, str, str]]] | None:
    """`omg.profiles.use` when the catalogue knows every answer; None otherwise.

    Returns (generation, unchanged, [(tool, version)], [(path, winner, loser)]).
    """
    parsed = [_spec(s) for s in specs]
    if not parsed or not _profile_ok(profile, user):
        return None
    from generations.catalogue import Quick

    ref = _Profile(home, user, profile)
    quick = Quick(home, user)
    with ref.locked(), ref.gc_guard():
        tools = []
        for p in parsed:
            tool = quick.resolve(*p) if p is not None else None
            if tool is None:
                return None
            tools.append(tool)
        cur = ref.current()
        cur_env = ref.env_of(cur) if cur is not None else ""
        if cur_env and not os.path.isfile(f"{ref.store}/{cur_env}/manifest.json"):
            return None  # tier 2 warns that its tools are not carried over
        known = quick.use(cur_env, tools)
        if known is None:
            return None
        env, conflicts = known
        used = [(t[0], t[1]) for t in tools]
        if env == cur_env and cur is not None:
            return cur, True, used, conflicts
        import time

        command = "omg use " + " ".join(_quote(s) for s in specs)
        n, _ = links.add_generation(ref.directory, ref.name, ref.store, env,
                                    command=command, now=time.time())
    return n, False, used, conflicts


def lean_rollback(home: str, user: str, profile: str = DEFAULT_PROFILE, to: int | None = None
                  ) -> tuple[int | None, int, dict[str, str]] | None:
    """`omg.profiles.rollback` on symlinks alone: (previous, generation, tools).

    None for every error case: tier 2 reports it, and nothing has changed.
    """
    if not _profile_ok(profile, user):
        return None
    ref = _Profile(home, user, profile)
    with ref.locked():
        gens = [n for n in ref.numbers() if os.path.lexists(ref.gen_link(n))]
        cur = ref.current()
        if to is None:
            older = [n for n in gens if cur is None or n < cur]
            if not older:
                return None
            to = max(older)
        if to not in gens:
            return None
        env = ref.env_of(to)
        if not env or not os.path.isdir(f"{ref.store}/{env}"):
            return None
        tools = _manifest_tools(f"{ref.store}/{env}/manifest.json")
        if tools is None:
            return None
        links.switch(ref.directory, ref.name, to)
    return cur, to, {tool: version for tool, version, _ in tools}


def lean_current(home: str, user: str, profile: str = DEFAULT_PROFILE
                 ) -> tuple[int | None, list[tuple[str, str, str]]] | None:
    """`omg.profiles.current`: (generation, [(tool, version, store path)]), or None."""
    if not _profile_ok(profile, user):
        return None
    ref = _Profile(home, user, profile)
    n = ref.current()
    env = ref.env_of(n) if n is not None else ""
    tools = _manifest_tools(f"{ref.store}/{env}/manifest.json") if env else []
    return None if tools is None else (n, tools)


def _manifest_tools(path: str) -> list[tuple[str, str, str]] | None:
    """(tool, version, store path) of an env's manifest ([] if it has none), as
    `omg.profiles.read_manifest` reads it; None if tier 2 must judge (it reports)."""
    from generations.catalogue import loads

    try:
        with open(path, "rb") as f:
            data = loads(f.read())
    except (FileNotFoundError, NotADirectoryError):
        return []
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    try:
        if not isinstance(data, dict) or data["format"] != MANIFEST_FORMAT:
            return None
        return [(t["tool"], t["version"], t["store_path"]) for t in data.get("tools", [])]
    except (KeyError, TypeError, AttributeError):
        return None
