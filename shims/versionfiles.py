"""Reading the ecosystem's version files (for `omg use` without arguments and project profiles).

Pure parsing plus a directory walk; the one reader of version files, used by
`omg use` with no arguments, project profiles (`omg use --local`, `omg sync`)
and, through `MARKERS`, the shell's cd hook. In one directory, `mise.toml` wins over
`.tool-versions`, which wins over the per-tool files (as in mise); nearer
directories win over farther ones. Results are `TOOL@SPEC` strings with the
file they came from.
"""

# No `from __future__ import annotations`: NamedTuple would compile() string
# annotations, and this module is on the `omg use --local` fast path (omg/fast.py).
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

#: asdf / mise plugin names -> omg tool names
TOOL_NAMES = {"nodejs": "node", "node": "node", "golang": "go", "go": "go", "python": "python",
              "ruby": "ruby", "java": "java", "rust": "rust", "bun": "bun"}


class VersionRequest(NamedTuple):
    tool: str
    spec: str
    source: Path

    def __str__(self) -> str:
        return f"{self.tool}@{self.spec}"


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            return line.split()[0]
    return ""


def parse_node(text: str) -> str:
    v = _first_line(text).removeprefix("v")
    if v in ("node", "stable", "current", "latest", "*"):
        return "latest"
    if v.lower() in ("lts/*", "lts"):
        return "lts"
    return v.lower() if v.lower().startswith("lts/") else v


def parse_python(text: str) -> str:
    v = _first_line(text)
    return "" if v == "system" else v.removeprefix("python-").removeprefix("cpython-")


def parse_plain(text: str) -> str:
    return _first_line(text).removeprefix("v")


def parse_ruby(text: str) -> str:
    return _first_line(text).removeprefix("ruby-")


def parse_java(text: str) -> str:
    v = _first_line(text)
    for prefix in ("temurin-", "openjdk-", "adoptopenjdk-"):
        v = v.removeprefix(prefix)
    return v


def parse_go_mod(text: str) -> str:
    """`toolchain go1.22.3` wins over `go 1.22`."""
    go = toolchain = ""
    for line in text.splitlines():
        parts = line.split("//", 1)[0].split()
        if len(parts) == 2 and parts[0] == "toolchain" and parts[1].startswith("go"):
            toolchain = parts[1].removeprefix("go")
        elif len(parts) == 2 and parts[0] == "go":
            go = parts[1]
    return toolchain or go


#: What rustup's profiles hold, by the names rust-toolchain.toml uses: a component the
#: profile installs anyway is left out of the spec (which is at most 64 characters).
_RUST_PROFILE_HAS = {
    "minimal": frozenset({"rustc", "cargo", "rust-std"}),
    "default": frozenset({"rustc", "cargo", "rust-std", "rust-docs", "rustfmt", "clippy",
                          "rustfmt-preview", "clippy-preview"}),
}


def parse_rust_toolchain(text: str) -> str:
    """``[toolchain] channel, profile, components, targets`` as the rust provider's spec:
    ``1.78.0+minimal+rust-src+wasm32-unknown-unknown`` (omg.providers.rust)."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return _first_line(text)
    toolchain = data.get("toolchain", {})
    if not isinstance(toolchain, dict) or not toolchain.get("channel"):
        return _first_line(text)
    profile = str(toolchain.get("profile") or "default")
    extras = [] if profile == "default" else [profile]
    has = _RUST_PROFILE_HAS.get(profile, frozenset())
    for key in ("components", "targets"):
        names = toolchain.get(key, [])
        if isinstance(names, list):
            extras += [str(n) for n in names if isinstance(n, str) and n not in has]
    return "+".join([str(toolchain["channel"]), *dict.fromkeys(extras)])


def parse_tool_versions(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 2 and _TOOL_RE.match(parts[0]) and parts[1] != "system":
            tool = TOOL_NAMES.get(parts[0], parts[0])
            out.setdefault(tool, {"java": parse_java, "ruby": parse_ruby,
                                  "python": parse_python}.get(tool, parse_plain)(parts[1]))
    return out


def parse_mise_toml(text: str) -> dict[str, str]:
    import tomllib

    try:
        tools = tomllib.loads(text).get("tools", {})
    except tomllib.TOMLDecodeError:
        return {}
    out: dict[str, str] = {}
    for name, value in tools.items():
        if not _TOOL_RE.match(name):
            continue
        tool = TOOL_NAMES.get(name, name)
        if isinstance(value, list):
            value = value[0] if value else ""
        if isinstance(value, dict):
            value = value.get("version", "")
        if isinstance(value, str) and value:
            out[tool] = parse_java(value) if tool == "java" else value.removeprefix("v")
    return out


#: Per-tool files, lowest precedence within a directory.
SINGLE_FILES: dict[str, tuple[str, Callable[[str], str]]] = {
    ".nvmrc": ("node", parse_node),
    ".node-version": ("node", parse_node),
    ".python-version": ("python", parse_python),
    ".go-version": ("go", parse_plain),
    "go.mod": ("go", parse_go_mod),
    "rust-toolchain.toml": ("rust", parse_rust_toolchain),
    "rust-toolchain": ("rust", parse_rust_toolchain),
    ".ruby-version": ("ruby", parse_ruby),
    ".java-version": ("java", parse_java),
    ".bun-version": ("bun", parse_plain),
}
MULTI_FILES: dict[str, Callable[[str], dict[str, str]]] = {
    "mise.toml": parse_mise_toml,
    ".mise.toml": parse_mise_toml,
    ".tool-versions": parse_tool_versions,
}


#: Every file that can pin a tool, so a directory holding one is a project.
MARKERS = (*MULTI_FILES, *SINGLE_FILES)


def read_directory(directory: Path) -> dict[str, VersionRequest]:
    """What one directory's version files ask for (no walking)."""
    found: dict[str, VersionRequest] = {}
    for name, parse_multi in MULTI_FILES.items():
        path = directory / name
        text = _read(path)
        if text is None:
            continue
        for tool, spec in parse_multi(text).items():
            if spec:
                found.setdefault(tool, VersionRequest(tool, spec, path))
    for name, (tool, parse) in SINGLE_FILES.items():
        if tool in found:
            continue
        path = directory / name
        text = _read(path)
        if text is not None and (spec := parse(text)):
            found[tool] = VersionRequest(tool, spec, path)
    return found


def find_versions(start: Path, *, stop: Path | None = None) -> dict[str, VersionRequest]:
    """Walk from `start` up to `stop` (or /); the nearest file for each tool wins."""
    found: dict[str, VersionRequest] = {}
    directory = start.absolute()
    while True:
        for tool, req in read_directory(directory).items():
            found.setdefault(tool, req)
        if directory == stop or directory.parent == directory:
            return found
        directory = directory.parent


_TOOL_RE = re.compile(r"^[a-z0-9][a-z0-9_.+-]{0,63}$")
_SAFE = re.compile(r"^[A-Za-z0-9._+/*-]{1,64}$")


def _read(path: Path) -> str | None:
    try:
        if path.stat().st_size > 1 << 20:
            return None
        return path.read_text(errors="replace")
    except OSError:
        return None


def is_plausible(spec: str) -> bool:
    return bool(_SAFE.match(spec))
