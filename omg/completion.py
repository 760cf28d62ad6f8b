"""Shell completion's answers: ``omg __complete SHELL WORD...`` (each TAB runs it).

The shell passes the words after ``omg`` up to the cursor, the last one being the
word under completion (maybe empty); the answer is one candidate per line,
``value<TAB>description``, fuzzy-matched here (prefix matches first, then the
words that hold the typed letters in order), and exit status 4 asks the shell
for its own file completion instead.

The commands and options come from a table made of the typer CLI once per omg
version and kept in ``$XDG_CACHE_HOME/omg/completion-<version>.json``
(`command_table`), so a TAB never imports typer. The values come from what is on
disk, never the network: tools, installed versions (the store's directory
names), remote versions (kept by `omg list --remote` and installs each time they
read the upstream index: omg/versioncache.py), profiles and generation numbers
(the profile directory), package names (the search index, repositories only)
and executables (the profile's ``bin/``). A TAB costs one short Python process
(benchmarks/bench_completion.py).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    #: One command: its help, options, subcommands and positional parameters.
    Command = dict[str, object]

#: Exit status that asks the shell to complete file names itself.
FILES = 4
TABLE_FORMAT = 1
SHELLS = ("bash", "zsh", "fish")
TOOLS = {"node": "Node.js", "bun": "Bun", "python": "CPython", "go": "Go",
         "rust": "Rust (rustc, cargo)", "ruby": "Ruby", "java": "Java (Temurin)"}
#: What a parameter's values are, by its name; (command, name) where one name differs.
KINDS = {"specs": "spec", "tools": "tool", "tool": "tool", "profile": "profile",
         "to": "generation", "numbers": "generation", "a": "generation", "b": "generation",
         "shell": "shell", "executable": "executable", "names": "package",
         "name": "package", "terms": "package", "path": "store_path", "paths": "store_path",
         "source": "file", "dest": "file", "directory": "file", "cfg": "file",
         "root": "file", "dbpath": "file", "socket": "file", "reference": "store_path"}
KIND_OVERRIDES = {("store add", "name"): "tool", ("store add", "version"): "none",
                  ("install", "specs"): "spec_or_package", ("uninstall", "specs"): "held"}
#: Commands whose words before ``--`` are specs and after it a command line.
EXEC_COMMANDS = ("exec", "x")


# The table of commands, made from the typer CLI ----------------------------------------


def command_table() -> Command:
    """Every command's options and parameters, from the typer app (imports typer)."""
    import typer.main

    from omg.cli import build_app, light_coercion

    light_coercion()
    return _describe(typer.main.get_command(build_app()))


def _describe(cmd: object) -> Command:
    options: list[list[object]] = []
    positional: list[list[object]] = []
    for p in getattr(cmd, "params", []):
        opts = [o for o in getattr(p, "opts", []) if o.startswith("-")]
        if opts:
            options.append([opts, _summary(getattr(p, "help", None) or ""),
                            not getattr(p, "is_flag", False), p.name])
        else:
            positional.append([p.name, getattr(p, "nargs", 1)])
    subs = getattr(cmd, "commands", {}) or {}
    return {"help": _summary(getattr(cmd, "help", None) or ""),
            "options": options, "positional": positional,
            "commands": {name: _describe(sub) for name, sub in sorted(subs.items())
                         if not getattr(sub, "hidden", False)}}


def _summary(text: str) -> str:
    """The first sentence of a help text's first paragraph, on one line."""
    para = " ".join(text.strip().split("\n\n")[0].split())
    end = para.find(". ")
    return para[:end + 1] if end > 0 else para


def table_path(environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    from omg.locate import user_cache

    return f"{user_cache(environ)}/completion-{_code_stamp()}.json"


def _code_stamp() -> str:
    """Changes with omg's code: the table is remade after an upgrade or an edit."""
    here = os.path.dirname(os.path.abspath(__file__))
    newest = max(os.stat(f"{here}/cli/{n}").st_mtime_ns
                 for n in os.listdir(f"{here}/cli") if n.endswith(".py"))
    return f"{TABLE_FORMAT}-{newest:x}"


def load_table() -> Command:
    import json

    path = table_path()
    try:
        with open(path, "rb") as f:
            table: Command = json.load(f)
        if isinstance(table, dict) and {"commands", "options", "positional"} <= set(table):
            return table
    except (OSError, ValueError):
        pass  # missing, or not JSON: made again below (garbage is not a traceback on TAB)
    table = command_table()
    try:
        from store.fsutil import atomic_write

        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write(path, json.dumps(table).encode(), 0o644, durable=False)
    except OSError:
        pass  # an unwritable cache: the next TAB builds the table again
    return table


# Where the cursor is ----------------------------------------------------------------


def _option(cmd: Command, word: str) -> list[object] | None:
    for opt in cmd["options"]:  # type: ignore[attr-defined]
        if word in opt[0]:
            return opt  # type: ignore[no-any-return]
    return None


def context(table: Command, words: list[str]) -> tuple[str, Command, str, list[str]]:
    """(command path, its table, the kind of value wanted, words seen) for the word
    after `words`; kind "" means subcommands or options of the command."""
    path: list[str] = []
    cmd = table
    positionals: list[str] = []
    expect: str | None = None
    after_dashes = False
    for word in words:
        if expect is not None:
            expect = None
            continue
        if word == "--":
            after_dashes = True
            continue
        if after_dashes:
            positionals.append(word)
            continue
        if word.startswith("-"):
            opt = _option(cmd, word.split("=")[0])
            if opt is not None and opt[2] and "=" not in word:
                expect = str(opt[3])
            continue
        subs: dict[str, Command] = cmd["commands"]  # type: ignore[assignment]
        if word in subs and not positionals:
            path.append(word)
            cmd = subs[word]
            continue
        positionals.append(word)
    name = " ".join(path)
    if expect is not None:
        return name, cmd, _kind(name, expect), positionals
    if after_dashes:
        return name, cmd, "file" if name in EXEC_COMMANDS else "none", positionals
    if name in EXEC_COMMANDS:
        return name, cmd, "spec", positionals
    if cmd["commands"] and not positionals:
        return name, cmd, "", positionals
    params: list[list[object]] = cmd["positional"]  # type: ignore[assignment]
    index = len(positionals)
    for pname, nargs in params:
        if nargs == -1 or index == 0:
            return name, cmd, _kind(name, str(pname)), positionals
        index -= 1
    return name, cmd, "none", positionals


def _kind(command: str, param: str) -> str:
    return KIND_OVERRIDES.get((command, param)) or KINDS.get(param, "none")


# Values -----------------------------------------------------------------------------


class Where:
    """OMG_HOME, the user and the profile the words name (`-p`), read when needed."""

    def __init__(self, words: list[str]) -> None:
        self.profile = "default"
        for i, w in enumerate(words[:-1]):
            if w in ("-p", "--profile"):
                self.profile = words[i + 1]
            elif w.startswith("--profile="):
                self.profile = w.split("=", 1)[1]
        from omg.fast import lean_settings

        found = lean_settings()
        self.home, self.user = (found[0], found[1]) if found else ("", "")

    @property
    def profiles(self) -> str:
        return f"{self.home}/profiles/{self.user}"


def _store_tools(where: Where) -> dict[str, list[str]]:
    """Tool -> versions, from the store's directory names (``<hash>-<tool>-<version>``)."""
    from generations.catalogue import store_names

    out: dict[str, list[str]] = {}
    for name in store_names(f"{where.home}/store"):
        parts = name.split("-", 2)
        if len(parts) == 3 and parts[1] in TOOLS:
            out.setdefault(parts[1], []).append(parts[2])
    return out


def _specs(where: Where, current: str) -> list[tuple[str, str]]:
    if current.startswith(("@", "group:")):
        return _groups(current)
    if "@" not in current:
        return [(f"{t}@", d) for t, d in TOOLS.items()]
    tool = current.split("@", 1)[0]
    from omg.spec import version_key

    have = sorted(set(_store_tools(where).get(tool, [])), key=version_key, reverse=True)
    out = [(f"{tool}@{v}", "installed") for v in have]
    seen = set(have)
    from omg.versioncache import remembered

    out += [(f"{tool}@{v}", note or "remote") for v, note in remembered(tool)
            if v not in seen]
    return out


def _groups(current: str) -> list[tuple[str, str]]:
    """The config's groups (`omg.groups`), with their members as the description; the
    config file is read only for a word that names a group."""
    from omg import config
    from store.errors import OmgError

    try:
        groups = config.load(warn=lambda _message: None).raw.get("groups", {})
    except (OmgError, OSError, ValueError):
        return []
    prefix = "group:" if current.startswith("group:") else "@"
    return [(prefix + name, " ".join(members)[:60]) for name, members in sorted(groups.items())]


def _profiles(where: Where) -> list[tuple[str, str]]:
    from generations.links import valid_profile_name

    try:
        entries = sorted(os.listdir(where.profiles))
    except OSError:
        return []
    return [(n, "profile") for n in entries
            if valid_profile_name(n) and os.path.islink(f"{where.profiles}/{n}")]


def _generations(where: Where) -> list[tuple[str, str]]:
    from generations import links

    directory = where.profiles
    try:
        numbers = links.numbers(directory, where.profile)
    except OSError:
        return []
    current = links.current_number(directory, where.profile)
    out = []
    for n in sorted(numbers, reverse=True):
        env = links.env_of(directory, where.profile, n) or ""
        label = env.split("-", 2)[-1] if env else ""
        out.append((str(n), ("current: " if n == current else "") + label))
    return out


def _packages(current: str) -> list[tuple[str, str]]:
    if len(current) < 2:
        return []  # every package of the repositories is no help
    try:
        from omg.arch.fastsearch import repo_names

        return repo_names(current)
    except Exception:  # no sync databases here (or no pacman.conf): no package names
        return []


def _executables(where: Where) -> list[tuple[str, str]]:
    try:
        return [(n, "in profile " + where.profile)
                for n in sorted(os.listdir(f"{where.profiles}/{where.profile}/bin"))]
    except OSError:
        return []


def _held(where: Where) -> list[tuple[str, str]]:
    """What `omg uninstall` can remove: the tools of the profile (by name) and the
    versions `omg install` keeps (``TOOL@VERSION``)."""
    from generations import links
    from generations.installroots import rooted
    from generations.manifest import read_manifest
    from store.errors import OmgError

    n = links.current_number(where.profiles, where.profile)
    env = links.env_of(where.profiles, where.profile, n) if n is not None else ""
    try:
        tools = read_manifest(f"{where.home}/store", env).get("tools", [])
    except (OSError, OmgError):  # unreadable or damaged: `omg doctor` says so, not a TAB
        tools = []
    kept = sorted(rooted(where.home, where.user), key=lambda r: (r.name, r.version))
    return ([(t["tool"], f"{t['version']} in profile {where.profile}") for t in tools]
            + [(f"{r.name}@{r.version}", "kept by omg install") for r in kept])


def _store_paths(where: Where) -> list[tuple[str, str]]:
    from generations.catalogue import store_names

    return [(n, "") for n in sorted(store_names(f"{where.home}/store"))]


def values(kind: str, current: str, words: list[str]) -> list[tuple[str, str]] | None:
    """Candidates for a value of `kind`; None for file names (the shell's own)."""
    if kind == "file":
        return None
    if kind == "shell":
        return [(s, "") for s in SHELLS]
    if kind == "tool":
        return list(TOOLS.items())
    sources: dict[str, Callable[[Where], list[tuple[str, str]]]] = {
        "spec": lambda w: _specs(w, current), "profile": _profiles,
        # `omg install NAME` takes a repository package too (after the tools)
        "spec_or_package": lambda w: _specs(w, current) + (
            [] if "@" in current else _packages(current)),
        "generation": _generations, "executable": _executables, "held": _held,
        "store_path": _store_paths, "package": lambda w: _packages(current)}
    source = sources.get(kind)
    return source(Where(words)) if source is not None else []


# Matching ---------------------------------------------------------------------------


def fuzzy(candidates: list[tuple[str, str]], typed: str) -> list[tuple[str, str]]:
    """Prefix matches first (in the given order), then subsequence matches."""
    if not typed:
        return candidates
    low = typed.lower()
    prefix = [c for c in candidates if c[0].lower().startswith(low)]
    if prefix:
        return prefix

    def holds(value: str) -> bool:
        it = iter(value.lower())
        return all(ch in it for ch in low)

    return [c for c in candidates if holds(c[0])]


def complete(table: Command, words: list[str]) -> list[tuple[str, str]] | None:
    """The candidates for the last of `words` (the words after ``omg``)."""
    current = words[-1] if words else ""
    command, cmd, kind, _ = context(table, words[:-1])
    prev = _option(cmd, words[-2]) if len(words) > 1 else None
    if current.startswith("--") and "=" in current and kind != "file":  # --profile=VALUE
        name, _, typed = current.partition("=")
        opt = _option(cmd, name)
        if opt is None or not opt[2]:
            return []
        found = values(_kind(command, str(opt[3])), typed, words)
        return None if found is None else [(f"{name}={v}", d) for v, d in fuzzy(found, typed)]
    if current.startswith("-") and not (prev is not None and prev[2]) and kind != "file":
        opts = [(o, str(opt[1])) for opt in cmd["options"]  # type: ignore[attr-defined]
                for o in opt[0] if o.startswith("--") or len(opt[0]) == 1]
        return fuzzy([*opts, ("--help", "Show the help and exit.")], current)
    if kind == "":
        subs: dict[str, Command] = cmd["commands"]  # type: ignore[assignment]
        return fuzzy([(n, str(c["help"])) for n, c in subs.items()], current)
    found = values(kind, current, words)
    return None if found is None else fuzzy(found, current)


def run(args: list[str]) -> int:
    """``omg __complete SHELL WORD...``: print the candidates, or exit `FILES`."""
    if len(args) < 2 or args[1] not in SHELLS:
        print("usage: omg __complete bash|zsh|fish WORD...", file=sys.stderr)
        return 2
    found = complete(load_table(), args[2:] or [""])
    if found is None:
        return FILES
    sys.stdout.write("".join(f"{v}\t{d}\n" if d else f"{v}\n" for v, d in found))
    return 0
