"""Project profiles: version files and the profile a project directory maps to.

A project profile lives in ``profiles/<user>/projects/<name>``, where `<name>`
is the absolute project path with every ``/`` replaced by ``%``. That is pure
string substitution on purpose: the shell hook computes it with builtins
(``${d//\\//%}`` in bash and zsh, ``string replace`` in fish), so entering a
directory never spawns a process. Each project profile is also registered in
``gcroots/<user>/projects/`` so a project's tools survive ``omg gc``.
"""

# No `from __future__ import annotations` here, on purpose: see omg/fast.py.
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from generations.links import real_dir
from generations.profile import ProfileRef
from shims.versionfiles import (
    TOOL_NAMES,
    VersionRequest,
    parse_mise_toml,
    pins_something,
    read_directory,
)
from store.errors import NotFound, UsageError
from store.layout import Layout

#: Tool -> the version file its ecosystem reads; other tools go to .tool-versions.
VERSION_FILES = {
    "node": ".node-version",
    "python": ".python-version",
    "go": ".go-version",
    "ruby": ".ruby-version",
    "java": ".java-version",
    "bun": ".bun-version",
}
TOOL_VERSIONS = ".tool-versions"
#: Files whose whole content is one tool's version: `omg use --local` may rewrite them.
_ONE_VERSION = frozenset({*VERSION_FILES.values(), ".nvmrc", ".rust-version"})
MISE_FILES = ("mise.toml", ".mise.toml")
PROJECTS_DIR = "projects"
#: ``$XDG_DATA_HOME/omg/stamps/<name>``: when the project profile last matched the
#: version files (its mtime; the shell compares them with ``-nt``), and what they ask
#: for that is not installed (its text, empty when nothing: the prompt shows drift).
STAMPS_DIR = "stamps"


def project_name(project_dir: Path) -> str:
    text = os.path.abspath(project_dir)
    if ":" in text or "\n" in text:
        raise UsageError(f"project path {text!r} cannot go on PATH (it holds ':' or a newline)")
    return text.replace("/", "%")


def projects_dir(layout: Layout, user: str) -> Path:
    return layout.profiles / user / PROJECTS_DIR


def data_home() -> Path:
    """``$XDG_DATA_HOME``: where the shell lines, prefixes and stamps live."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def stamps_dir(data: Path) -> Path:
    return data / "omg" / STAMPS_DIR


def write_stamp(data: Path, project_dir: Path, missing: Iterable[str] = ()) -> Path:
    """The project profile matches its version files now (or `missing` says what it
    lacks): the hook stops asking until a version file is newer than this."""
    path = stamps_dir(data) / project_name(project_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = " ".join(missing)
    path.write_text(f"{text}\n" if text else "")
    return path


def project_ref(layout: Layout, user: str, project_dir: Path) -> ProfileRef:
    return ProfileRef(str(layout.home), str(projects_dir(layout, user)),
                      project_name(project_dir), user)


def register_root(layout: Layout, user: str, ref: ProfileRef) -> Path:
    """``gcroots/<user>/projects/<name>`` -> the project profile link (idempotent)."""
    from generations.roots import place_link

    directory = real_dir(str(layout.home), f"gcroots/{user}/{PROJECTS_DIR}")  # no symlink
    return Path(place_link(directory, ref.name, ref.link))


def find_project(start: Path) -> Path | None:
    """The nearest directory at or above `start` holding a version file (a package.json
    or Gemfile only if it pins a tool omg manages)."""
    d = Path(os.path.abspath(start))
    while True:
        if pins_something(d):
            return d
        if d.parent == d:
            return None
        d = d.parent


class Pinned(NamedTuple):
    tool: str
    spec: str
    file: str


def read_version_files(project_dir: Path) -> list[Pinned]:
    """Tool pins of a project, with the precedence `shims.versionfiles` documents."""
    return [Pinned(r.tool, r.spec, r.source.name) for r in read_directory(project_dir).values()]


def project_pins(start: Path, check: Callable[[str], object] | None = None
                 ) -> tuple[Path, list[str]]:
    """The project at or above `start` and its pins as TOOL@SPEC (for `omg sync`),
    each passed to `check` (the spec parser) first."""
    root = find_project(start)
    if root is None:
        raise NotFound(f"no version file in {start} or above",
                       hint="omg use --local TOOL@VERSION")
    pins = list(read_directory(root).values())
    if not pins:
        raise NotFound(f"the version files in {root} pin no tool")
    return root, pin_strings(pins, check)


def pin_strings(requests: Iterable[VersionRequest],
                check: Callable[[str], object] | None = None) -> list[str]:
    """TOOL@SPEC of each request; a spec `check` refuses is a usage error naming its file
    (a package.json's `engines` is free text, and the user should know where to look)."""
    out = []
    for request in requests:
        text = str(request)
        if check is not None:
            try:
                check(text)
            except UsageError as exc:
                raise UsageError(f"{request.source}: {exc.message}", hint=exc.hint) from None
        out.append(text)
    return out


def write_version_file(project_dir: Path, tool: str, spec: str, *,
                       is_range: bool = False) -> Path | None:
    """Pin `tool`, which the user named, to `spec` where the project reads it; the file
    written, or None when the project pins exactly that already (so a file that was
    only read is never rewritten: `.java-version` saying ``temurin-17`` stays as it is).

    The file that pins the tool now is updated when it can hold `spec` exactly: a
    one-version file (not for a range: nvm, pyenv, rbenv, ... read none), a simple
    ``[tools]`` line of mise.toml, or `.tool-versions`. Anything else (go.mod,
    rust-toolchain.toml, package.json, a Gemfile) is left alone and the pin goes to
    `.tool-versions`, which wins over them in the same directory. A tool no file pins
    gets its ecosystem's own file (or `.tool-versions`).
    """
    current = read_directory(project_dir).get(tool)
    if current is not None and current.spec == spec:
        return None
    name = current.source.name if current is not None else VERSION_FILES.get(tool, TOOL_VERSIONS)
    if name in _ONE_VERSION and not is_range:
        path = project_dir / name
        _replace(path, f"{spec}\n")
        return path
    if current is not None and name in MISE_FILES:
        if not _set_mise(current.source, tool, spec):
            raise UsageError(f"{current.source} pins {tool} in a form omg does not rewrite",
                             hint=f'edit its [tools] line: {tool} = "{spec}"')
        return current.source
    path = project_dir / TOOL_VERSIONS
    lines = path.read_text().splitlines() if path.is_file() else []
    # asdf names a tool its own way (golang, nodejs): drop the old pin whatever its name.
    kept = [ln for ln in lines
            if [TOOL_NAMES.get(w, w) for w in ln.split("#", 1)[0].split()[:1]] != [tool]]
    kept.append(f"{tool} {spec}")
    _replace(path, "\n".join(kept) + "\n")
    return path


def _set_mise(path: Path, tool: str, spec: str) -> bool:
    """Rewrite the ``TOOL = "VERSION"`` line of mise.toml's ``[tools]`` table in place
    (comments and the rest kept); False when the pin has another form."""
    import re

    names = {tool, *(alias for alias, name in TOOL_NAMES.items() if name == tool)}
    lines = path.read_text().splitlines(keepends=True)
    section = ""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.split("#", 1)[0].strip()
            continue
        m = re.fullmatch(r"""(\s*)("?)([A-Za-z0-9_.-]+)\2(\s*=\s*)("[^"]*"|'[^']*')(\s*(?:#.*)?)""",
                         line.rstrip("\n"))
        if section == "[tools]" and m and m.group(3) in names:
            new = [*lines[:i], f'{m.group(1)}{m.group(2)}{m.group(3)}{m.group(2)}'
                               f'{m.group(4)}"{spec}"{m.group(6)}\n', *lines[i + 1:]]
            if parse_mise_toml("".join(new)).get(tool) != spec:
                return False
            _replace(path, "".join(new))
            return True
    return False


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)
