"""Reading the ecosystem's version files (for `omg use` without arguments and project profiles).

Pure parsing plus a directory walk; the one reader of version files, used by
`omg use` with no arguments, project profiles (`omg use --local`, `omg sync`)
and, through `MARKERS`, the shell's cd hook. Precedence (docs/profiles.md):
nearer directories win over farther ones; in one directory `mise.toml` wins over
`.tool-versions` (as in mise), which wins over the one-tool files (`.nvmrc`,
`rust-toolchain.toml`, ...), which win over the manifests that pin a tool among
other things (package.json, the Gemfile). Within package.json, `volta` wins over
`devEngines`, then `packageManager`, then `engines` (what a project uses to develop
beats what it accepts from its consumers). Results are `TOOL@SPEC` strings with
the file they came from; a spec may be a range (`^20`, `~> 3.2`), which `omg.spec`
reads in the tool's own notation.
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


#: package.json keys worth parsing for: a file without any is not decoded at all.
_PACKAGE_KEYS = ('"volta"', '"devEngines"', '"packageManager"', '"engines"')
#: The package.json runtimes omg manages (npm, pnpm and yarn are not tools here).
_PACKAGE_TOOLS = ("node", "bun")


def parse_package_json(text: str, directory: Path | None = None) -> dict[str, str]:
    """node and bun from `volta`, `devEngines` (runtime and packageManager, an object
    or a list whose first entry naming the tool counts), `packageManager`
    (``bun@1.1.0+sha512...``) and `engines`, in that order of precedence."""
    if not any(key in text for key in _PACKAGE_KEYS):
        return {}
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, str] = {}

    def put(tool: str, value: object) -> None:
        if tool in _PACKAGE_TOOLS and isinstance(value, str) and value.strip():
            out.setdefault(tool, _npm_version(value))

    for tool, value in _dict(data.get("volta")).items():
        put(tool, value)
    dev = _dict(data.get("devEngines"))
    for key in ("runtime", "packageManager"):
        entries = dev.get(key)
        for entry in entries if isinstance(entries, list) else [entries]:
            entry = _dict(entry)
            if entry.get("name") not in out:
                put(str(entry.get("name")), entry.get("version"))
    manager = data.get("packageManager")
    if isinstance(manager, str):
        name, _, version = manager.partition("@")
        put(name, version.partition("+")[0])  # "+sha512.<hash>" is corepack's checksum
    for tool, value in _dict(data.get("engines")).items():
        put(tool, value)
    return out


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _npm_version(value: str) -> str:
    value = " ".join(value.split())
    return value[1:] if value[:1] == "v" and value[1:2].isdigit() else value


_GEM_STRING = re.compile(r"""^\s*(?:"([^"\\#]*)"|'([^'\\]*)')\s*(,)?""")
_GEM_FILE = re.compile(r"""(?:\bfile:|:file\s*=>)\s*(?:"([^"]+)"|'([^']+)')""")
_GEM_ENGINE = re.compile(r"""(?:\bengine:|:engine\s*=>)\s*(?:"([^"]*)"|'([^']*)')""")
_GEM_READ = re.compile(r"""\bFile\.read\b[^"']*(?:"([^"]+)"|'([^']+)')""")


def parse_gemfile(text: str, directory: Path | None = None) -> dict[str, str]:
    """Bundler's ``ruby`` directive: ``ruby "3.3.0"``, ``ruby "~> 3.2"``, ``ruby ">= 3.1",
    "< 3.4"``, ``ruby file: ".ruby-version"`` and the older
    ``ruby File.read(".ruby-version").strip`` (the file read beside the Gemfile).
    An engine other than MRI (``engine: "jruby"``) pins no ruby omg provides."""
    for line in text.splitlines():
        words = line.strip()
        if not (words.startswith("ruby ") or words.startswith("ruby(")):
            continue
        args = words[5:].strip()
        engine = _GEM_ENGINE.search(args)
        if engine and (engine.group(1) or engine.group(2)) != "ruby":
            return {}
        named = _GEM_FILE.search(args) or (_GEM_READ.search(args) if "File.read" in args
                                           else None)
        if named:
            return _ruby_from_file(directory, named.group(1) or named.group(2))
        versions = []
        while m := _GEM_STRING.match(args):
            versions.append(" ".join((m.group(1) or m.group(2) or "").split()))
            args = args[m.end():]
            if not m.group(3):
                break
        spec = ", ".join(v for v in versions if v)
        return {"ruby": spec.removeprefix("ruby-")} if spec else {}
    return {}


def _ruby_from_file(directory: Path | None, name: str) -> dict[str, str]:
    """The version in the file a Gemfile names, relative to the Gemfile (never outside)."""
    rel = Path(name)
    if directory is None or rel.is_absolute() or ".." in rel.parts:
        return {}
    text = _read(directory / rel)
    if text is None:
        return {}
    spec = (parse_tool_versions(text).get("ruby", "") if rel.name == ".tool-versions"
            else parse_ruby(text))
    return {"ruby": spec} if spec else {}


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
    ".rust-version": ("rust", parse_plain),
}
MULTI_FILES: dict[str, Callable[[str], dict[str, str]]] = {
    "mise.toml": parse_mise_toml,
    ".mise.toml": parse_mise_toml,
    ".tool-versions": parse_tool_versions,
}
#: Files that pin a tool among other things, below every version file of their directory.
MANIFESTS: dict[str, Callable[[str, Path], dict[str, str]]] = {
    "package.json": parse_package_json,
    "Gemfile": parse_gemfile,
    "gems.rb": parse_gemfile,
}


#: The files the shell's cd hook tests for its "run omg sync" hint: one `[[ -e ]]`
#: per name and directory, so the list stays as it was (the hook's cost must not grow).
MARKERS = tuple(n for n in (*MULTI_FILES, *SINGLE_FILES) if n != ".rust-version")


def read_directory(directory: Path) -> dict[str, VersionRequest]:
    """What one directory's version files ask for (no walking)."""
    found = _read_pin_files(directory)
    for name, parse_manifest in MANIFESTS.items():
        path = directory / name
        text = _read(path)
        if text is None:
            continue
        for tool, spec in parse_manifest(text, directory).items():
            if spec:
                found.setdefault(tool, VersionRequest(tool, spec, path))
    return found


def pins_something(directory: Path) -> bool:
    """Does `directory` hold a file that pins a tool (a manifest only if it does pin)?"""
    if any((directory / m).is_file() for m in (*MULTI_FILES, *SINGLE_FILES)):
        return True
    return any((directory / m).is_file() for m in MANIFESTS) and bool(read_directory(directory))


def _read_pin_files(directory: Path) -> dict[str, VersionRequest]:
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


def _read(path: Path) -> str | None:
    try:
        if path.stat().st_size > 1 << 20:
            return None
        return path.read_text(errors="replace")
    except OSError:
        return None
