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
from pathlib import Path
from typing import NamedTuple

from generations.links import real_dir
from generations.profile import ProfileRef
from shims.versionfiles import MARKERS, TOOL_NAMES, read_directory
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
_REWRITABLE = frozenset({*VERSION_FILES.values(), ".nvmrc"})
PROJECTS_DIR = "projects"


def project_name(project_dir: Path) -> str:
    text = os.path.abspath(project_dir)
    if ":" in text or "\n" in text:
        raise UsageError(f"project path {text!r} cannot go on PATH (it holds ':' or a newline)")
    return text.replace("/", "%")


def projects_dir(layout: Layout, user: str) -> Path:
    return layout.profiles / user / PROJECTS_DIR


def project_ref(layout: Layout, user: str, project_dir: Path) -> ProfileRef:
    return ProfileRef(str(layout.home), str(projects_dir(layout, user)),
                      project_name(project_dir), user)


def register_root(layout: Layout, user: str, ref: ProfileRef) -> Path:
    """``gcroots/<user>/projects/<name>`` -> the project profile link (idempotent)."""
    real_dir(str(layout.home), f"gcroots/{user}/{PROJECTS_DIR}")  # never through a symlink
    root = layout.gcroots / user / PROJECTS_DIR / ref.name
    if os.path.islink(root) and os.readlink(root) == ref.link:
        return root
    tmp = root.with_name(f".{root.name}.tmp-{os.getpid()}")
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(ref.link, tmp)
    os.replace(tmp, root)
    return root


def find_project(start: Path) -> Path | None:
    """The nearest directory at or above `start` holding a version file."""
    d = Path(os.path.abspath(start))
    while True:
        if any((d / m).is_file() for m in MARKERS):
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


def project_pins(start: Path) -> tuple[Path, list[str]]:
    """The project at or above `start` and its pins as TOOL@SPEC (for `omg sync`)."""
    root = find_project(start)
    if root is None:
        raise NotFound(f"no version file in {start} or above",
                       hint="omg use --local TOOL@VERSION")
    pins = read_version_files(root)
    if not pins:
        raise NotFound(f"the version files in {root} pin no tool")
    return root, [f"{p.tool}@{p.spec}" for p in pins]


def write_version_file(project_dir: Path, tool: str, spec: str) -> Path:
    """Pin `tool` to `spec` where the project reads it, so the new pin is the one that counts.

    The file that pins the tool now is updated when it is a one-version file or
    `.tool-versions`; otherwise the ecosystem's own file (or `.tool-versions`) is written.
    """
    current = read_directory(project_dir).get(tool)
    if current is not None and current.source.name in _REWRITABLE:
        _replace(current.source, f"{spec}\n")
        return current.source
    fname = VERSION_FILES.get(tool)
    if fname is not None and (current is None or current.source.name != TOOL_VERSIONS):
        path = project_dir / fname
        _replace(path, f"{spec}\n")
        return path
    path = project_dir / TOOL_VERSIONS
    lines = path.read_text().splitlines() if path.is_file() else []
    # asdf names a tool its own way (golang, nodejs): drop the old pin whatever its name.
    kept = [ln for ln in lines
            if [TOOL_NAMES.get(w, w) for w in ln.split("#", 1)[0].split()[:1]] != [tool]]
    kept.append(f"{tool} {spec}")
    _replace(path, "\n".join(kept) + "\n")
    return path


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)
