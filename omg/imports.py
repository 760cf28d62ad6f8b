"""`omg import nvm|pyenv|asdf|mise|rustup`: versions those tools already installed, added
to the store so nobody downloads them again.

`discover` reads each tool's own layout (its data directory from its own variable,
then its default): nvm ``$NVM_DIR/versions/node/vX``, pyenv
``$PYENV_ROOT/versions/X``, asdf ``$ASDF_DATA_DIR/installs/<plugin>/X``, mise
``$MISE_DATA_DIR/installs/<tool>/X``, rustup ``$RUSTUP_HOME/toolchains/<name>``
(its version from the toolchain's own channel manifest). Aliases (symlinks such as
mise's ``20 -> 20.10.0``), virtualenvs and trees without the tool's executable are
skipped. `run` adds each through the backend (`store_add`: a store path of its own,
claimed by this user like any `omg store add`, so in the shared mode it resolves for
this user only) with the environment a provider install records, and keeps it as
installed (an install root, as `omg install` writes) until `omg uninstall`.
"""

from __future__ import annotations

import os
from pathlib import Path

from store.results import Result

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from omg.backend import Backend

SOURCES = ("nvm", "pyenv", "asdf", "mise", "rustup")
#: asdf/mise plugin names -> omg's tool names.
TOOL_NAMES = {"nodejs": "node", "node": "node", "python": "python", "golang": "go",
              "go": "go", "rust": "rust", "ruby": "ruby", "java": "java", "bun": "bun"}
#: The executable a tree must hold to be that tool (relative to the tree).
EXECUTABLES = {"node": "bin/node", "python": "bin/python3", "go": "bin/go",
               "rust": "bin/rustc", "ruby": "bin/ruby", "java": "bin/java", "bun": "bin/bun"}
#: Java vendors' prefixes in asdf/mise version names (``temurin-21.0.1+12``).
_JAVA_VENDORS = ("temurin-", "adoptopenjdk-", "openjdk-")


class Found(Result):
    tool: str
    version: str
    path: str  # the tree to add
    source: str  # nvm, pyenv, ...


class Imported(Result):
    tool: str
    version: str
    path: str
    source: str
    store_path: str  # "" when skipped
    created: bool
    skipped: str  # why not imported ("" when it was)


def data_dir(source: str, environ: Mapping[str, str]) -> Path:
    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    xdg = environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
    dirs = {"nvm": environ.get("NVM_DIR") or str(home / ".nvm"),
            "pyenv": environ.get("PYENV_ROOT") or str(home / ".pyenv"),
            "asdf": environ.get("ASDF_DATA_DIR") or str(home / ".asdf"),
            "mise": environ.get("MISE_DATA_DIR") or f"{xdg}/mise",
            "rustup": environ.get("RUSTUP_HOME") or str(home / ".rustup")}
    return Path(dirs[source])


def _subdirs(d: Path) -> list[Path]:
    """Real directories only: aliases (symlinks) name versions found anyway."""
    try:
        return sorted(p for p in d.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return []


def _has(tree: Path, tool: str) -> bool:
    exe = tree / EXECUTABLES[tool]
    return exe.is_file() and os.access(exe, os.X_OK)


def _version(tool: str, name: str) -> str:
    if tool == "node":
        return name.removeprefix("v")
    if tool == "java":
        for vendor in _JAVA_VENDORS:
            name = name.removeprefix(vendor)
    return name


def _installs(source: str, root: Path) -> list[Found]:
    """asdf/mise: ``installs/<plugin>/<version>``."""
    out = []
    for plugin in _subdirs(root / "installs"):
        tool = TOOL_NAMES.get(plugin.name)
        if tool is None:
            continue
        for d in _subdirs(plugin):
            tree = d / "go" if tool == "go" and (d / "go" / "bin").is_dir() else d
            if _has(tree, tool):
                out.append(Found(tool, _version(tool, d.name), str(tree), source))
    return out


def _rust_version(toolchain: Path) -> str | None:
    """The toolchain's version from its channel manifest (``[pkg.rust] version``)."""
    import tomllib

    try:
        data = tomllib.loads((toolchain / "lib" / "rustlib" /
                              "multirust-channel-manifest.toml").read_text())
        text = data["pkg"]["rust"]["version"]
    except (OSError, KeyError, TypeError, ValueError, tomllib.TOMLDecodeError):
        return None
    if not isinstance(text, str) or not text:
        return None
    version = text.split()[0]  # "1.75.0 (82e1608df 2023-12-21)", "1.77.0-nightly (...)"
    if "-nightly" in version or "-beta" in version:
        date = text.rstrip(")").split()[-1]
        channel = "nightly" if "-nightly" in version else "beta"
        return f"{channel}-{date}" if len(date) == 10 else None
    return version


def discover(source: str, environ: Mapping[str, str] | None = None) -> list[Found]:
    """What `source` has installed, as omg's tools and versions."""
    from store.errors import UsageError

    if source not in SOURCES:
        raise UsageError(f"unknown source {source!r}", hint=f"one of: {', '.join(SOURCES)}")
    env = os.environ if environ is None else environ
    root = data_dir(source, env)
    if source == "nvm":
        return [Found("node", _version("node", d.name), str(d), source)
                for d in _subdirs(root / "versions" / "node") if _has(d, "node")]
    if source == "pyenv":
        return [Found("python", d.name, str(d), source) for d in _subdirs(root / "versions")
                if _has(d, "python") and not (d / "pyvenv.cfg").exists()]
    if source == "rustup":
        out = []
        for d in _subdirs(root / "toolchains"):
            version = _rust_version(d)
            if version and _has(d, "rust"):
                out.append(Found("rust", version, str(d), source))
        return out
    return _installs(source, root)


def _wanted(found: Found, only: Sequence[str]) -> bool:
    """`only` holds TOOL (every version) or TOOL@SPEC (`omg.spec.select`)."""
    if not only:
        return True
    from omg.spec import parse_tool_spec, select

    for text in only:
        spec = parse_tool_spec(text)
        if spec.tool == found.tool and ("@" not in text or
                                        select(spec.spec, [found.version], spec.tool)):
            return True
    return False


def run(backend: Backend, source: str, only: Sequence[str] = (), *,
        dry_run: bool = False, environ: Mapping[str, str] | None = None) -> list[Imported]:
    """Add what `source` installed (those `only` names, if given) to the store."""
    from omg import providers
    from omg.spec import parse_tool_spec

    for text in only:  # a typo is an error before anything is read
        providers.get(parse_tool_spec(text).tool)
    from store.errors import OmgError

    out = []
    for f in discover(source, environ):
        if not _wanted(f, only):
            continue
        if dry_run:
            out.append(Imported(*f, "", False, "dry run"))
            continue
        env = providers.get(f.tool).recorded_env(f.version)
        origin: dict[str, object] = {"imported": {"from": f.source, "path": f.path}}
        if env:
            origin["env"] = env
        try:
            added = backend.store_add(Path(f.path), f.tool, f.version, origin=origin,
                                      keep=True)
        except OmgError as exc:  # one bad tree (a dangling link out of it...) is reported
            out.append(Imported(*f, "", False, exc.message))
            continue
        out.append(Imported(*f, added.record.path, added.created, ""))
    return out
