"""Real components for the Arch tests: a build user, packages built by makepkg, a sync
db made by repo-add, a private pacman root, and the test AUR (tests/arch/fakeaur.py:
aurweb RPC v5 records and cgit snapshots of the package directories in data/aur).

Everything is built once per session; each test gets its own OMG_HOME.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.arch import fakeaur
from tests.conftest import OmgEnv, make_env
from tests.support import sysusers

BUILD_USER = fakeaur.BUILD_USER
EPOCH = "1700000000"


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create the unprivileged makepkg build user"
    try:
        import pyalpm  # noqa: F401
    except ImportError:
        return "pyalpm is not installed (pip install pyalpm; needs libalpm-dev)"
    for tool in ("makepkg", "repo-add", "pacman", "bsdtar", "fakeroot"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install pacman-package-manager makepkg " \
                   "libarchive-tools fakeroot)"
    return None


def pkgbuild(name: str, version: str = "1.0", rel: str = "1", *, depends: list[str] = (),
             makedepends: list[str] = (), provides: list[str] = (), desc: str = "",
             fail: bool = False) -> str:
    arr = lambda xs: " ".join(f"'{x}'" for x in xs)  # noqa: E731
    body = "echo 'this build fails on purpose' >&2; exit 1" if fail else (
        f'mkdir -p "$pkgdir/usr/bin"; printf "#!/bin/sh\\necho {name} {version}\\n" '
        f'> "$pkgdir/usr/bin/{name}"; chmod 755 "$pkgdir/usr/bin/{name}"')
    return (f"pkgname={name}\npkgver={version}\npkgrel={rel}\npkgdesc='{desc or name}'\n"
            f"url='https://example.org'\narch=('any')\nlicense=('MIT')\ndepends=({arr(depends)})\n"
            f"makedepends=({arr(makedepends)})\nprovides=({arr(provides)})\n"
            f"package() {{\n  {body}\n}}\n")


def build_as_user(srcdir: Path) -> list[Path]:
    user = pwd.getpwnam(BUILD_USER)
    for dirpath, dirnames, filenames in os.walk(srcdir):
        for n in [*dirnames, *filenames, ""]:
            os.lchown(os.path.join(dirpath, n) if n else dirpath, user.pw_uid, user.pw_gid)
    subprocess.run(["runuser", "-u", BUILD_USER, "--", "env", "PKGEXT=.pkg.tar.zst",
                    f"SOURCE_DATE_EPOCH={EPOCH}", "makepkg", "-f", "--nodeps",
                    "--noprogressbar"], cwd=srcdir, check=True, capture_output=True)
    return sorted(srcdir.glob("*.pkg.tar.zst"))


REPO_PKGS = {
    "repolib": dict(version="1.0", provides=["virtual-lib=1.0"], desc="a library in the repo"),
    "python-repotool": dict(version="2.0", depends=["repolib"], desc="python tool from repo"),
    "python": dict(version="3.12.1", desc="the python language"),
}

#: AUR packages generated from `pkgbuild` at session start, for quick additions; the
#: test AUR's own packages are the directories of tests/arch/data/aur (see fakeaur).
#: Entry: name -> pkgbuild() arguments plus optional "votes" and "pop".
AUR_PKGS: dict[str, dict[str, Any]] = {}


def generated_aur(base: Path) -> dict[Path, dict[str, Any]]:
    """AUR_PKGS as package directories (PKGBUILD + .SRCINFO) with their aurweb rows."""
    out = {}
    for name, spec in AUR_PKGS.items():
        args = {k: v for k, v in spec.items() if k not in ("votes", "pop")}
        pkgdir = base / "generated-aur" / name
        pkgdir.mkdir(parents=True)
        (pkgdir / "PKGBUILD").write_text(pkgbuild(name, **args))
        (pkgdir / ".SRCINFO").write_text(fakeaur.printsrcinfo(pkgdir))
        out[pkgdir] = {"NumVotes": spec.get("votes", 0), "Popularity": spec.get("pop", 0)}
    return out


@dataclass
class ArchWorld:
    base: Path
    conf: Path
    root: Path
    dbpath: Path
    repo_dir: Path
    repo_pkgs: dict[str, Path]
    aur: fakeaur.FakeAur
    #: The throwaway key that signed fixtures-signed's source (armored: signer.public_key).
    signer: fakeaur.Signer
    #: fixtures-upstream-git's upstream: a bare repository the build user can read
    #: (file://); `fakeaur.upstream_commit(world.upstream, "msg")` moves it on.
    upstream: Path

    def env(self, tmp: Path) -> OmgEnv:
        e = make_env(tmp / "omg-env")
        build_dir = self.base / "builds" / tmp.name
        e.env.update({"OMG_PACMAN_CONF": str(self.conf), "OMG_AUR_URL": self.aur.url,
                      "OMG_BUILD_USER": BUILD_USER, "OMG_BUILD_DIR": str(build_dir),
                      "SOURCE_DATE_EPOCH": EPOCH})
        return e


@pytest.fixture(scope="session")
def arch_world() -> Iterator[ArchWorld]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    sysusers.ensure_user(BUILD_USER, home=True)
    Path("/var/lib/pacman/local").mkdir(parents=True, exist_ok=True)
    base = Path(f"/var/tmp/omg-arch-tests-{os.getpid()}")
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    os.chmod(base, 0o755)
    repo_dir = base / "repo"
    repo_dir.mkdir()
    repo_pkgs = {}
    for name, spec in REPO_PKGS.items():
        src = base / "src" / name
        src.mkdir(parents=True)
        (src / "PKGBUILD").write_text(pkgbuild(name, **spec))
        (pkg,) = build_as_user(src)
        shutil.copy(pkg, repo_dir / pkg.name)
        repo_pkgs[name] = repo_dir / pkg.name
    subprocess.run(["repo-add", "-q", str(repo_dir / "testrepo.db.tar.gz"),
                    *map(str, repo_pkgs.values())], check=True, capture_output=True)
    root, dbpath = base / "root", base / "db"
    (dbpath / "sync").mkdir(parents=True)
    (dbpath / "local").mkdir()
    root.mkdir()
    shutil.copy(repo_dir / "testrepo.db.tar.gz", dbpath / "sync" / "testrepo.db")
    shutil.copy(repo_dir / "testrepo.files.tar.gz", dbpath / "sync" / "testrepo.files")
    conf = base / "pacman.conf"
    conf.write_text(
        f"[options]\nRootDir = {root}\nDBPath = {dbpath}\nCacheDir = {base}/cache\n"
        f"LogFile = {base}/pacman.log\nGPGDir = {base}/gnupg\nHookDir = {base}/hooks\n"
        f"Architecture = x86_64\nSigLevel = Never\n\n[testrepo]\nServer = file://{repo_dir}\n")
    upstream = base / "upstream" / "fixtures-upstream.git"
    signer = fakeaur.Signer(base / "gnupg-signer")
    try:
        fakeaur.make_upstream(upstream)
        aur = fakeaur.FakeAur(base / "aur")
        aur.load(fakeaur.Render(upstream.parent, signer.fingerprint, signer.sign),
                 generated_aur(base))
        server, aur.url = fakeaur.serve(aur)
        try:
            yield ArchWorld(base, conf, root, dbpath, repo_dir, repo_pkgs, aur, signer,
                            upstream)
        finally:
            server.shutdown()
            server.server_close()
    finally:
        signer.close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def world(arch_world: ArchWorld) -> Iterator[ArchWorld]:
    arch_world.aur.reset()
    yield arch_world
    arch_world.aur.reset()


@pytest.fixture
def aenv(world: ArchWorld, tmp_path: Path) -> OmgEnv:
    return world.env(tmp_path)
