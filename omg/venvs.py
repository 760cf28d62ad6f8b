"""Python venvs made from a store interpreter: `omg venv create|list|remove|activate`.

A venv is made by the interpreter's own ``python3 -m venv``, started from its
store path (never from a profile link), so ``bin/python`` points into the store
and the venv keeps its Python after ``omg use python@other``. Each venv is a gc
root for that interpreter (generations/venvroots.py) for as long as the venv is
there.

Where venvs live:

- a named venv: ``$XDG_DATA_HOME/omg/venvs/<name>`` (beside the writable
  prefixes `omg init` sets up), the user's own files in both modes: in the
  shared mode OMG_HOME belongs to omgd, and a venv is something its user writes
  into (``pip install``);
- a project's venv: ``<project>/.venv``, the directory uv, Poetry (in-project)
  and mise use, where the project is the nearest directory at or above the
  current one that holds a version file (else the current directory).

The interpreter: ``python@SPEC`` when given (among the installed versions this
user may resolve; nothing is downloaded); for a project, the python of its
project profile, else the one its version files pin; otherwise the python of
the default profile.

Making the venv is the user's own work in either mode (its files are the
user's); only its root goes through the `Backend`: `register` is the local
root link under the gc lock, or omgd's ``venv.root``.
"""

from __future__ import annotations

import os
import re
from contextlib import AbstractContextManager, nullcontext

from shims.init import PROJECT_VENV
from store.errors import BuildFailed, NotFound, UsageError
from store.results import SHAPES, Result

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from omg.profiles import Home, ResolvedTool

#: A named venv's name: one path component, no '@' (``python@3.12`` is a spec).
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$")
#: The files `python3 -m venv` writes that show a directory is a venv.
VENV_CFG = "pyvenv.cfg"


class VenvInfo(Result):
    #: The venv's name; "" for a project's ``.venv``.
    name: str
    path: str
    #: The interpreter's version (``pyvenv.cfg``) and store path ("" if it is gone).
    python: str
    store_path: str
    #: The project directory of a project venv; "" for a named one.
    project: str


SHAPES[VenvInfo] = {}


# Where venvs are -------------------------------------------------------------------


def venvs_home(environ: dict[str, str] | None = None) -> str:
    """``$XDG_DATA_HOME/omg/venvs``: the named venvs of the user running this."""
    from omg.locate import user_data

    return os.path.join(user_data(os.environ if environ is None else environ), "venvs")


def check_name(name: str) -> str:
    if not NAME_RE.match(name) or name in (".", ".."):
        raise UsageError(f"invalid venv name {name!r}: one path component of letters, "
                         "digits and _ . + - (at most 64, no '/' or '@')")
    return name


def venv_dir(name: str | None, project: Path | None) -> tuple[str, str, str]:
    """(path, name, project) of the venv `name`, or of `project`'s ``.venv``."""
    if name is not None:
        return os.path.join(venvs_home(), check_name(name)), name, ""
    if project is None:
        raise UsageError("name a venv, or run this in a project")
    root = os.path.abspath(project)
    return os.path.join(root, PROJECT_VENV), "", root


def label(name: str, path: str) -> str:
    return f"venv {name!r}" if name else f"venv {path}"


# create -----------------------------------------------------------------------------


def create(home: Home, name: str | None, spec: str | None, *, project: Path | None,
           register: Callable[[str], object], pip: bool = True,
           guard: Callable[[], AbstractContextManager[object]] = nullcontext) -> VenvInfo:
    """Make the venv with its interpreter's ``-m venv`` and register its root.

    `guard` keeps the interpreter from gc from its choice until `register` returns
    (the gc lock shared, locally; through omgd, the daemon checks the link instead).
    """
    from generations.venvroots import check_venv_path

    path, name, proj = venv_dir(name, project)
    check_venv_path(path)
    what = label(name, path)
    if os.path.lexists(path):
        raise UsageError(f"cannot create {what}: {path} exists",
                         hint=f"omg venv remove {name}".rstrip() + ", or choose another name")
    with guard():
        _create(home, path, spec, proj, what, register=register, pip=pip,
                prompt=name or os.path.basename(proj) or PROJECT_VENV)
    return describe(home.store, path, name, proj)


def _create(home: Home, path: str, spec: str | None, proj: str, what: str, *,
            register: Callable[[str], object], pip: bool, prompt: str) -> None:
    from generations.venvroots import interpreter_of

    tool = interpreter(home, spec, proj)
    exe = python_exe(home.store, tool.store_path)
    _run_venv(exe, path, prompt=prompt, pip=pip, what=what)
    try:
        if interpreter_of(home.store, path) != tool.store_path:
            raise BuildFailed(f"cannot create {what}: its bin/python does not link to "
                              f"{tool.store_path}")
        register(path)
    except BaseException:
        _remove_tree(path)
        raise


def interpreter(home: Home, spec: str | None, project: str) -> ResolvedTool:
    """The python a new venv uses (see the module docstring for the order)."""
    from pathlib import Path

    from omg import profiles

    if spec is not None:
        return _installed(home, _python_spec(spec))
    if project:
        own = _python_of(profiles.current(home, project=Path(project)).tools)
        if own is not None:
            return own
        from shims.versionfiles import read_directory

        pinned = read_directory(Path(project)).get("python")
        if pinned is not None:
            return _installed(home, pinned.spec)
    found = _python_of(profiles.current(home).tools)
    if found is None:
        raise NotFound("no python to make the venv with: none given, pinned or in the "
                       "default profile", hint="omg venv create [NAME] python@3.12")
    return found


def _python_spec(text: str) -> str:
    from omg.spec import parse_tool_spec

    parsed = parse_tool_spec(text)
    if parsed.tool != "python":
        raise UsageError(f"a venv needs python@SPEC, got {text!r}")
    return parsed.spec


def _python_of(tools: list[ResolvedTool]) -> ResolvedTool | None:
    return next((t for t in tools if t.tool == "python"), None)


def _installed(home: Home, spec: str) -> ResolvedTool:
    """The installed python matching `spec`; nothing is downloaded."""
    from omg import profiles
    from omg.spec import parse_tool_spec

    try:
        return profiles.resolve(home, [parse_tool_spec(f"python@{spec}")])[0]
    except NotFound as exc:
        raise NotFound(exc.message, hint=f"omg install python@{spec}") from exc


def python_exe(store_dir: str, store_path: str) -> str:
    """The interpreter inside its store path (``bin/python3``, else ``bin/python``)."""
    for rel in ("bin/python3", "bin/python"):
        exe = f"{store_dir}/{store_path}/{rel}"
        if os.access(exe, os.X_OK):
            return exe
    raise NotFound(f"store path {store_path} holds no bin/python3")


def _run_venv(exe: str, path: str, *, prompt: str, pip: bool, what: str) -> None:
    """``exe -m venv`` into `path`; a failure leaves no directory behind."""
    import subprocess

    os.makedirs(os.path.dirname(path), exist_ok=True)
    # The user's PYTHONHOME/PYTHONPATH (or an active venv) would make the store's
    # interpreter load another Python's modules.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    cmd = [exe, "-m", "venv", "--prompt", prompt, *([] if pip else ["--without-pip"]), path]
    try:
        proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, errors="replace", check=False)
    except BaseException:
        _remove_tree(path)
        raise
    if proc.returncode != 0:
        _remove_tree(path)
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        why = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        raise BuildFailed(f"cannot create {what}: {exe} -m venv failed: {why}")


def _remove_tree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# list / info / remove -------------------------------------------------------------------


def describe(store_dir: str, path: str, name: str, project: str) -> VenvInfo:
    from generations.venvroots import interpreter_of

    return VenvInfo(name, path, _cfg_version(path), interpreter_of(store_dir, path) or "",
                    project)


def _cfg_version(path: str) -> str:
    """The interpreter version ``pyvenv.cfg`` records (``version_info`` or ``version``)."""
    try:
        with open(f"{path}/{VENV_CFG}", encoding="utf-8", errors="replace") as f:
            lines = f.read(65536).splitlines()
    except OSError:
        return ""
    values = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values.get("version_info") or values.get("version") or ""


def is_venv(path: str) -> bool:
    return not os.path.islink(path) and os.path.isfile(f"{path}/{VENV_CFG}")


def info(home: Home, name: str | None, *, project: Path | None) -> VenvInfo:
    path, name, proj = venv_dir(name, project)
    if not is_venv(path):
        if name:
            raise NotFound(f"no venv named {name!r} (in {venvs_home()})",
                           hint="omg venv list")
        raise NotFound(f"no venv at {path}", hint="omg venv create")
    return describe(home.store, path, name, proj)


def list_venvs(home: Home) -> list[VenvInfo]:
    """Named venvs, then the other venvs this user has roots for, that still exist."""
    from generations.venvroots import rooted_venvs

    named_dir = venvs_home()
    try:
        names = sorted(os.listdir(named_dir))
    except (FileNotFoundError, NotADirectoryError):
        names = []
    out = [describe(home.store, f"{named_dir}/{n}", n, "") for n in names
           if NAME_RE.match(n) and is_venv(f"{named_dir}/{n}")]
    seen = {v.path for v in out}
    for path in rooted_venvs(home.dir, home.user):
        if path in seen or not is_venv(path):
            continue
        parent, base = os.path.split(path)
        if parent == named_dir:
            out.append(describe(home.store, path, base, ""))
        else:
            out.append(describe(home.store, path, "", parent))
    return out


def remove(home: Home, name: str | None, *, project: Path | None,
           unregister: Callable[[str], object]) -> VenvInfo:
    """Delete the venv, then its root: a crash between leaves a dangling root, which
    roots nothing, never a venv whose interpreter gc may take."""
    found = info(home, name, project=project)
    import shutil

    shutil.rmtree(found.path)
    unregister(found.path)
    return found


def activation(found: VenvInfo, shell: str) -> str:
    """The line a shell evaluates to activate `found`: the venv's own activate script,
    so ``deactivate`` is the venv's own too."""
    from shlex import quote

    script = {"bash": "bin/activate", "zsh": "bin/activate",
              "fish": "bin/activate.fish"}.get(shell)
    if script is None:
        raise UsageError(f"unknown shell {shell!r}: use one of bash, zsh, fish")
    path = f"{found.path}/{script}"
    if not os.path.isfile(path):
        raise NotFound(f"{label(found.name, found.path)} has no {script}")
    return f"source {quote(path)}\n" if shell == "fish" else f". {quote(path)}\n"
