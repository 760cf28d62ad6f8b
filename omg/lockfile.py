"""The `omg.lock` format (docs/lock-files.md): pure, read with tomllib, written as text.

A lock pins what a project's version files ask for to one exact version per tool and,
for every platform upstream offers it on, the artifacts (URL, sha256; every component
of a multi-component runtime) and, where known, the store path name they give. AUR
packages of the project profile add their version and store path name.

Writing is plain text in one fixed order (tools, platforms sorted; artifacts in the
provider's order, which is the install's), so the same lock is the same bytes on every
machine: a diff of two locks is a diff of what they pin, and `omg fingerprint` may
hash it. `format` is versioned; a newer one is refused, never misread.
"""

from __future__ import annotations

import json
import re

from store.errors import FormatTooNew, UsageError
from store.results import SHAPES, Result, many, shaped

FORMAT = 1
FILENAME = "omg.lock"
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SHA256 = re.compile(r"[0-9a-f]{64}")
HEADER = ("# omg.lock: the exact tools of this project for every platform "
          "(docs/lock-files.md).\n"
          "# Written by `omg lock`; change the version files, then run it again.\n")


class Artifact(Result):
    url: str
    sha256: str
    component: str = ""


class Target(Result):
    """One platform's artifacts (``linux-x64-gnu``) and, if known, the store path name."""

    platform: str
    artifacts: list[Artifact]
    store_path: str = ""


class Tool(Result):
    tool: str
    spec: str  # what the version file asks for
    file: str  # which file asks (its name, relative to the project)
    version: str
    targets: list[Target]

    def target(self, platform: str) -> Target | None:
        return next((t for t in self.targets if t.platform == platform), None)


class Package(Result):
    """An AUR package of the project profile."""

    name: str
    version: str
    store_path: str
    commit: str = ""  # the AUR snapshot's commit, when the build recorded one


class Lock(Result):
    tools: list[Tool]
    packages: list[Package] = []  # noqa: RUF012 (a Result field's default, never mutated)

    def tool(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.tool == name), None)


SHAPES[Target] = {"artifacts": many(shaped(Artifact))}
SHAPES[Tool] = {"targets": many(shaped(Target))}
SHAPES[Lock] = {"tools": many(shaped(Tool)), "packages": many(shaped(Package))}


def normalized(lock: Lock) -> Lock:
    """The lock in its one written order (tools, platforms and packages sorted)."""
    tools = [t._replace(targets=sorted(t.targets, key=lambda x: x.platform))
             for t in sorted(lock.tools, key=lambda t: t.tool)]
    return Lock(tools, sorted(lock.packages, key=lambda p: p.name))


# Writing ------------------------------------------------------------------------------


def dumps(lock: Lock) -> str:
    """The lock's text: the same lock always gives the same bytes."""
    lock = normalized(lock)
    out = [HEADER, f"format = {FORMAT}\n"]
    for t in lock.tools:
        out.append(f"\n[tools.{_key(t.tool)}]\n")
        out += [f"{k} = {_str(v)}\n" for k, v in (("spec", t.spec), ("file", t.file),
                                                  ("version", t.version))]
        for target in t.targets:
            out.append(f"\n[tools.{_key(t.tool)}.platforms.{_key(target.platform)}]\n")
            if target.store_path:
                out.append(f"store_path = {_str(target.store_path)}\n")
            out.append("artifacts = [\n")
            out += [f"  {_artifact(a)},\n" for a in target.artifacts]
            out.append("]\n")
    for p in lock.packages:
        out.append(f"\n[aur.{_key(p.name)}]\n")
        out += [f"{k} = {_str(v)}\n" for k, v in (("version", p.version),
                                                  ("store_path", p.store_path),
                                                  ("commit", p.commit)) if v or k != "commit"]
    return "".join(out)


def _artifact(a: Artifact) -> str:
    parts = [f"url = {_str(a.url)}", f"sha256 = {_str(a.sha256)}"]
    if a.component:
        parts.append(f"component = {_str(a.component)}")
    return "{ " + ", ".join(parts) + " }"


def _key(text: str) -> str:
    return text if _BARE.fullmatch(text) else _str(text)


def _str(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but for DEL, which TOML escapes."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


# Reading ------------------------------------------------------------------------------


def loads(text: str, where: str = FILENAME) -> Lock:
    """The lock in `text`; a malformed one is a UsageError naming `where`, a newer
    format `FormatTooNew`."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{where}: not a valid lock file: {exc}",
                         hint="run `omg lock` to write it again") from None
    fmt = data.get("format")
    if not isinstance(fmt, int) or isinstance(fmt, bool):
        raise _bad(where, "no `format = 1`")
    if fmt > FORMAT:
        raise FormatTooNew(f"{where}: lock format {fmt} is newer than this omg reads "
                           f"({FORMAT})", hint="upgrade omg")
    if fmt < 1:
        raise _bad(where, f"unknown format {fmt}")
    tools = [_tool(where, name, body) for name, body in _table(where, data, "tools").items()]
    packages = [_package(where, name, body)
                for name, body in _table(where, data, "aur").items()]
    return normalized(Lock(tools, packages))


def _bad(where: str, why: str) -> UsageError:
    return UsageError(f"{where}: not a valid lock file: {why}",
                      hint="run `omg lock` to write it again")


def _table(where: str, data: dict[str, object], key: str) -> dict[str, object]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise _bad(where, f"`{key}` is not a table")
    return value


def _text(where: str, data: dict[str, object], key: str, what: str, *,
          required: bool = True) -> str:
    value = data.get(key, None if required else "")
    if not isinstance(value, str):
        raise _bad(where, f"{what}: `{key}` is missing or not a string")
    return value


def _tool(where: str, name: str, body: object) -> Tool:
    if not isinstance(body, dict):
        raise _bad(where, f"tools.{name} is not a table")
    targets = []
    for platform, tbody in _table(where, body, "platforms").items():
        if not isinstance(tbody, dict):
            raise _bad(where, f"tools.{name}.platforms.{platform} is not a table")
        what = f"tools.{name}.platforms.{platform}"
        arts = tbody.get("artifacts")
        if not isinstance(arts, list) or not arts:
            raise _bad(where, f"{what}: no artifacts")
        targets.append(Target(platform, [_artifact_of(where, what, a) for a in arts],
                              _text(where, tbody, "store_path", what, required=False)))
    what = f"tools.{name}"
    return Tool(name, _text(where, body, "spec", what), _text(where, body, "file", what),
                _text(where, body, "version", what), targets)


def _artifact_of(where: str, what: str, body: object) -> Artifact:
    if not isinstance(body, dict):
        raise _bad(where, f"{what}: an artifact is not a table")
    sha = _text(where, body, "sha256", what)
    if not _SHA256.fullmatch(sha):
        raise _bad(where, f"{what}: {sha!r} is not a sha256 (64 lowercase hex digits)")
    return Artifact(_text(where, body, "url", what), sha,
                    _text(where, body, "component", what, required=False))


def _package(where: str, name: str, body: object) -> Package:
    if not isinstance(body, dict):
        raise _bad(where, f"aur.{name} is not a table")
    what = f"aur.{name}"
    return Package(name, _text(where, body, "version", what),
                   _text(where, body, "store_path", what),
                   _text(where, body, "commit", what, required=False))


# The fingerprint ------------------------------------------------------------------------


def fingerprint_rows(lock: Lock, platform: str) -> list[str]:
    """What `omg fingerprint` hashes for `platform`: one line per tool, sorted: tool,
    version, platform and the store path name (or, unknown, the artifacts' sha256s);
    one per AUR package. A tool the lock has no artifacts for on `platform` says so."""
    rows = []
    for t in lock.tools:
        target = t.target(platform)
        what = ("-" if target is None else target.store_path
                or ",".join(a.sha256 for a in target.artifacts))
        rows.append(f"tool\t{t.tool}\t{t.version}\t{platform}\t{what}")
    rows += [f"aur\t{p.name}\t{p.version}\t{platform}\t{p.store_path}" for p in lock.packages]
    return sorted(rows)


def fingerprint(lock: Lock, platform: str) -> str:
    """BLAKE3 hex of `fingerprint_rows`: equal on every machine with the same lock."""
    from blake3 import blake3

    text = f"omg-fingerprint-v1\n{platform}\n" + "".join(
        f"{r}\n" for r in fingerprint_rows(lock, platform))
    return blake3(text.encode()).hexdigest()
