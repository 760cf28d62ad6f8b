"""Devel packages (`-git`): outdated by their sources, as yay's devel database does.

After a build, each git source of the package (from the snapshot's .SRCINFO, never
by sourcing the PKGBUILD) that follows a branch or HEAD (not a `#commit=` or `#tag=`)
is remembered with its remote commit (`git ls-remote`), in
``OMG_HOME/arch/devel.json``. `omg update --devel` asks `git ls-remote` again: a
changed commit means a rebuild, and a rebuild remembers the new commit, so an
unchanged source never loops. The AUR's pkgver of such a package is ignored (it is
whatever the maintainer last pushed, usually older than what makepkg's pkgver() made).

Only git: -hg/-svn sources are not tracked (their packages are then checked by version).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from store.errors import NetworkError

#: Protocols git may use for these URLs (they come from an AUR package): no `ext::`.
GIT_PROTOCOLS = "file:git:http:https"
TIMEOUT = 60.0


@dataclass(frozen=True)
class GitSource:
    url: str  # without the `git+` and the fragment
    ref: str  # HEAD or refs/heads/BRANCH

    @property
    def key(self) -> str:
        return f"{self.url}#{self.ref}"


def git_sources(srcinfo: str) -> list[GitSource]:
    """The tracked git sources of a .SRCINFO (`source` and `source_<arch>` lines)."""
    out: list[GitSource] = []
    for line in srcinfo.splitlines():
        m = re.match(r"\s*source(?:_\w+)? = (.*)$", line)
        if not m:
            continue
        src = m.group(1).split("::", 1)[-1]
        if not src.startswith("git+"):
            continue
        url, _, fragment = src[4:].partition("#")
        url = url.split("?", 1)[0]  # ?signed
        kind, _, value = fragment.partition("=")
        if kind in ("commit", "tag") or url.startswith("-"):
            continue
        out.append(GitSource(url, f"refs/heads/{value}" if kind == "branch" else "HEAD"))
    return out


def remote_commit(source: GitSource) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ALLOW_PROTOCOL": GIT_PROTOCOLS}
    try:
        proc = subprocess.run(["git", "ls-remote", source.url, source.ref],
                              capture_output=True, text=True, env=env, timeout=TIMEOUT,
                              check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetworkError(f"git ls-remote {source.url}: {exc}") from exc
    first = proc.stdout.split()
    if proc.returncode != 0 or not first:
        why = (proc.stderr.strip().splitlines() or ["no such ref"])[-1]
        raise NetworkError(f"git ls-remote {source.url} {source.ref}: {why}")
    return first[0]


def _db(home: Path) -> Path:
    return home / "arch" / "devel.json"


def load(home: Path) -> dict[str, dict[str, str]]:
    """pkgbase -> {source key: commit}; a damaged file is an empty database."""
    try:
        data = json.loads(_db(home).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in data.items()
            if isinstance(v, dict)}


def _save(home: Path, data: dict[str, dict[str, str]]) -> None:
    path = _db(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".devel.json.{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def remember(home: Path, pkgbase: str, srcdir: Path) -> None:
    """After a build of `pkgbase` from `srcdir`: its sources' commits now."""
    try:
        srcinfo = (srcdir / ".SRCINFO").read_text(errors="replace")
    except OSError:
        return
    sources = git_sources(srcinfo)
    data = load(home)
    if not sources:
        if data.pop(pkgbase, None) is not None:
            _save(home, data)
        return
    # The commit a moment after makepkg fetched: a push in between is seen by the next
    # --devel only if another follows (yay's devel database has the same window).
    try:
        data[pkgbase] = {s.key: remote_commit(s) for s in sources}
    except NetworkError as exc:
        import sys

        sys.stderr.write(f"warning: {pkgbase}: its sources are not tracked for --devel: "
                         f"{exc}\n")
        data.pop(pkgbase, None)
    _save(home, data)


def changed(home: Path, pkgbases: Iterable[str]) -> dict[str, list[str]]:
    """The devel packages among `pkgbases` whose sources moved: pkgbase -> new commits."""
    data = load(home)
    out: dict[str, list[str]] = {}
    for base in pkgbases:
        for key, commit in data.get(base, {}).items():
            url, _, ref = key.rpartition("#")
            now = remote_commit(GitSource(url, ref))
            if now != commit:
                out.setdefault(base, []).append(now)
    return out


def tracked(home: Path) -> set[str]:
    return set(load(home))
