"""CPython from python-build-standalone ``install_only`` builds.

Release tags (dates) are listed from the GitHub API (OMG_PYTHON_API_MIRROR);
each tag directory under OMG_PYTHON_MIRROR holds ``SHA256SUMS`` and
``cpython-<ver>+<tag>-<triple>-install_only.tar.gz``. The newest tags are
read first, so ``3.12`` resolves to the newest 3.12.x build; an exact older
version walks back through older tags.

The store is read-only and sets every mtime to 1, so before the tree is hashed
(`prepare`: what it adds is content like the rest) the build's own interpreter
compiles its byte-code with unchecked-hash invalidation, as distributions and
Nix do: timestamp-based ``.pyc`` files would be stale at every start (each user
recompiles; root rewrites them inside the store). A PEP 668
``EXTERNALLY-MANAGED`` marker beside the stdlib makes ``pip install`` outside a
virtual environment refuse, with a hint, instead of writing into the store.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import ClassVar

from omg.provenance import GITHUB_ACTIONS, Identity, github_attestations
from omg.providers.base import PREFIX, Artifact, Context, Provider, Release, parse_shasums
from omg.providers.github import list_releases
from omg.spec import is_prerelease, version_key
from store.errors import BuildFailed, NotFound

_NAME = re.compile(r"^cpython-(?P<ver>[0-9][0-9a-z.]*)\+(?P<tag>\d+)-(?P<triple>[a-z0-9_]+-"
                   r"unknown-linux-(?:gnu|musl))-install_only\.tar\.gz$")
#: Tags whose SHA256SUMS are read when listing (each is one small request, cached).
TAGS_READ = 4
#: PEP 668's marker, in the stdlib directory (sysconfig's "stdlib" path).
EXTERNALLY_MANAGED = """\
[externally-managed]
Error=This Python is in omg's store, which is read-only and shared: packages are
 not installed into it. Make a virtual environment instead:
 omg venv create NAME (then omg venv activate NAME), or python3 -m venv DIR.
"""
#: Byte-code for each optimization level (plain, -O, -OO): a missing level would be
#: written into the store by the first root that runs with it.
COMPILE_LEVELS = ("0", "1", "2")


class PythonProvider(Provider):
    name = "python"
    default_mirror = "https://github.com/astral-sh/python-build-standalone/releases/download"
    default_api = "https://api.github.com/repos/astral-sh/python-build-standalone"
    #: Weekly-ish tags, five documents per listing, and GitHub's API allows 60 requests
    #: an hour without a token: keep them six hours.
    index_ttl = 6 * 3600.0
    #: Each build is attested by the release workflow (since January 2025:
    #: python-build-standalone#481), with the Sigstore public-good instance.
    provenance = Identity(GITHUB_ACTIONS, repository="astral-sh/python-build-standalone")
    #: pip falls back to a user install when the store is read-only: give it the prefix.
    env_vars: ClassVar[dict[str, str]] = {"PYTHONUSERBASE": f"{PREFIX}/python"}

    def _triple(self, ctx: Context) -> str:
        arch = "aarch64" if ctx.platform.arch == "arm64" else "x86_64"
        return f"{arch}-unknown-linux-{ctx.platform.libc}"

    def _tags(self, ctx: Context) -> list[str]:
        tags = [str(r["tag_name"])
                for r in list_releases(ctx, self.name, self.default_api, ttl=self.index_ttl)]
        return sorted(tags, reverse=True)

    def _tag_releases(self, ctx: Context, tag: str) -> list[Release]:
        url = f"{self.mirror(ctx)}/{tag}/SHA256SUMS"
        sums = parse_shasums(self.fetch_text(ctx, url))
        triple = self._triple(ctx)
        out = []
        for fname, sha in sums.items():
            m = _NAME.match(fname)
            if m and m["triple"] == triple:
                out.append(Release(m["ver"], tag, prerelease=is_prerelease(m["ver"]),
                                   extra={"url": f"{self.mirror(ctx)}/{tag}/{fname}",
                                          "sha256": sha, "filename": fname}))
        return out

    def releases(self, ctx: Context) -> list[Release]:
        seen: dict[str, Release] = {}
        for tag in self._tags(ctx)[:TAGS_READ]:
            for r in self._tag_releases(ctx, tag):
                seen.setdefault(r.version, r)  # newest tag's build of a version wins
        return sorted(seen.values(), key=lambda r: version_key(r.version), reverse=True)

    def lookup(self, ctx: Context, spec: str) -> tuple[Release, list[Release]]:
        """Walk back through older tags when the recent ones lack the version."""
        spec = self.normalize(spec)
        recent = self.releases(ctx)
        found = self.select(spec, recent)
        if found is not None:
            return found, recent
        for tag in self._tags(ctx)[TAGS_READ:]:
            found = self.select(spec, self._tag_releases(ctx, tag))
            if found is not None:
                return found, recent
        return self.resolve(spec, recent), recent

    def artifacts(self, ctx: Context, release: Release) -> list[Artifact]:
        e = release.extra
        if not e:
            raise NotFound(f"python {release.version}: no build for {self._triple(ctx)}")
        url, sha = str(e["url"]), str(e["sha256"])
        # GitHub keeps the builds' attestations (actions/attest-build-provenance) behind
        # its API; a mirror may carry a bundle beside the asset instead.
        api = ctx.mirror_of(f"{self.name}_api", self.default_api)
        return [Artifact(url, sha, str(e["filename"]), attestations=(
            f"{url}.sigstore.json", github_attestations(api, sha)))]

    def prepare(self, root: Path) -> list[str]:
        stdlibs = sorted(p.parent for p in root.glob("lib/python3*/os.py"))
        if not stdlibs:
            return [f"python: no standard library under {root.name}/lib: not compiled"]
        for lib in stdlibs:
            (lib / "EXTERNALLY-MANAGED").write_text(EXTERNALLY_MANAGED)
        compile_bytecode(root, stdlibs)
        return []


def compile_bytecode(root: Path, dirs: list[Path]) -> None:
    """Compile `dirs` with the tree's own interpreter (byte-code is per version),
    unchecked-hash, replacing any timestamp-based ``.pyc`` the archive carries.

    A file that does not compile (the stdlib's deliberately broken test data) is
    left as it is: compileall says 1 then. An interpreter that cannot run is an
    error; it says 1 too when it cannot find its own stdlib, so then ``os`` has no
    byte-code.
    """
    exe = next((root / "bin" / n for n in (dirs[-1].name, "python3")
                if (root / "bin" / n).is_file()), None)
    if exe is None:
        raise BuildFailed(f"python: no interpreter bin/{dirs[-1].name} in the build")
    levels = [a for level in COMPILE_LEVELS for a in ("-o", level)]
    cmd = [str(exe), "-I", "-m", "compileall", "-q", "-f", "-j", "0",
           "--invalidation-mode", "unchecked-hash", *levels, *map(str, dirs)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=root,
                              env={"PATH": os.defpath, "LC_ALL": "C.UTF-8"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildFailed(f"python: cannot compile the byte-code: {exc}") from exc
    # PEP 552 flags 0b01 (unchecked hash): written by this run, not shipped in the archive.
    started = proc.returncode == 0 or any(
        pyc.read_bytes()[4:8] == b"\x01\0\0\0"
        for lib in dirs for pyc in (lib / "__pycache__").glob("os.*.pyc"))
    if proc.returncode not in (0, 1) or not started:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise BuildFailed(f"python: compiling the byte-code failed "
                          f"(exit {proc.returncode}): {last}")
