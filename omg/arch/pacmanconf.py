"""pacman.conf parsing (pure): the options omg needs and the repositories in order.

Only what search, info and delegation need: RootDir, DBPath, Architecture and
each repository's name, servers and SigLevel (following `Include` files). Light to import
(no pathlib: the `omg search` fast path parses pacman.conf on every call).
"""

from __future__ import annotations

import os

from store.errors import NotFound, UsageError


# Plain classes, not dataclasses: importing dataclasses costs the search fast path ~5 ms.
class Repo:
    __slots__ = ("name", "servers", "siglevel")

    def __init__(self, name: str, servers: tuple[str, ...] = (), siglevel: str = "") -> None:
        self.name, self.servers, self.siglevel = name, servers, siglevel


class PacmanConf:
    __slots__ = ("arch", "dbpath", "options", "path", "repos", "root")

    def __init__(self, path: str | os.PathLike[str] | None, root: str = "/",
                 dbpath: str = "/var/lib/pacman/", arch: str = "x86_64",
                 repos: tuple[Repo, ...] = (), options: dict[str, str] | None = None) -> None:
        self.path, self.root, self.dbpath, self.arch = path, root, dbpath, arch
        self.repos, self.options = repos, options or {}


def _lines(path: str | os.PathLike[str], depth: int = 0) -> list[str]:
    if depth > 5:
        raise UsageError(f"{path}: Include nested too deep")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except FileNotFoundError as exc:
        raise NotFound(f"pacman config {path} not found",
                       hint="pass --config or set [arch] pacman_conf") from exc


def _includes(value: str) -> list[str]:
    if "*" not in value:
        return [value]
    from pathlib import Path  # globs are rare; pathlib costs the fast path milliseconds

    return [str(p) for p in sorted(Path("/").glob(value.lstrip("/")))]


def parse(path: str | os.PathLike[str] | None, text: str | None = None) -> PacmanConf:
    lines = text.splitlines() if text is not None else (_lines(path) if path else [])
    section: str | None = None
    options: dict[str, str] = {}
    repos: dict[str, list[str]] = {}
    siglevels: dict[str, str] = {}

    def feed(lines: list[str], depth: int) -> None:
        nonlocal section
        for raw in lines:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1].strip()
                if section != "options":
                    repos.setdefault(section, [])
                continue
            key, _, value = (p.strip() for p in line.partition("="))
            if key == "Include":
                for inc in _includes(value):
                    if os.path.exists(inc):
                        feed(_lines(inc, depth + 1), depth + 1)
            elif section == "options":
                options[key] = value
            elif section is not None and key == "Server":
                repos[section].append(value)
            elif section is not None and key == "SigLevel":
                siglevels[section] = value

    feed(lines, 0)
    arch = options.get("Architecture", "x86_64").split()[0]
    if arch == "auto":
        import platform

        arch = platform.machine()
    return PacmanConf(
        path=path,
        root=options.get("RootDir", "/"),
        dbpath=options.get("DBPath", "/var/lib/pacman/"),
        arch=arch,
        repos=tuple(Repo(n, tuple(s.replace("$repo", n).replace("$arch", arch) for s in v),
                         siglevels.get(n, "")) for n, v in repos.items()),
        options=options,
    )
