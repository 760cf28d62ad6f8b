"""Real components for the Arch tests: a build user, packages built by makepkg, a sync
db made by repo-add, a private pacman root, and a local AUR (RPC v5 + snapshots).

Everything is built once per session; each test gets its own OMG_HOME.
"""

from __future__ import annotations

import http.server
import io
import json
import os
import pwd
import shutil
import subprocess
import tarfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.arch import httpserve
from tests.conftest import OmgEnv, make_env

BUILD_USER = "omg-build"
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
             fail: bool = False, extra: str = "") -> str:
    """`extra`: more shell lines for package() (files beyond the one usr/bin program)."""
    arr = lambda xs: " ".join(f"'{x}'" for x in xs)  # noqa: E731
    body = "echo 'this build fails on purpose' >&2; exit 1" if fail else (
        f'mkdir -p "$pkgdir/usr/bin"; printf "#!/bin/sh\\necho {name} {version}\\n" '
        f'> "$pkgdir/usr/bin/{name}"; chmod 755 "$pkgdir/usr/bin/{name}"{extra}')
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

AUR_PKGS: dict[str, dict[str, Any]] = {
    "aur-app": dict(version="1.0", depends=["aur-lib", "repolib"], desc="app from the AUR",
                    votes=5, pop=0.5),
    "aur-lib": dict(version="1.0", depends=["virtual-lib>=1.0"], makedepends=["aur-tool"],
                    desc="lib from the AUR", votes=3, pop=0.2),
    "aur-tool": dict(version="2.0", desc="build tool from the AUR", votes=1, pop=0.1),
    "python-aurbig": dict(version="1.0", desc="popular python thing", votes=900, pop=9.0),
    "python-aursmall": dict(version="1.0", desc="small python thing", votes=2, pop=0.01),
    "cyc-one": dict(version="1.0", depends=["cyc-two"], desc="cycle"),
    "cyc-two": dict(version="1.0", depends=["cyc-one"], desc="cycle"),
    "needs-ghost": dict(version="1.0", depends=["aur-tool", "ghost-dep"], desc="missing dep"),
    "broken-build": dict(version="1.0", fail=True, desc="fails to build"),
    # Through a profile (tests/arch/test_profiles.py): a program that runs its AUR
    # dependency's program, with a man page and a bash completion.
    "profiles-dep": dict(version="1.0", desc="a dependency with a program"),
    "profiles-hello": dict(version="1.0", depends=["profiles-dep"], desc="hello in a profile",
                           extra=(
        '\n  install -d "$pkgdir/usr/share/man/man1" '
        '"$pkgdir/usr/share/bash-completion/completions"'
        '\n  printf ".TH PROFILES-HELLO 1\\n.SH NAME\\nprofiles-hello\\n" '
        '> "$pkgdir/usr/share/man/man1/profiles-hello.1"'
        '\n  printf "complete -W world profiles-hello\\n" '
        '> "$pkgdir/usr/share/bash-completion/completions/profiles-hello"'
        '\n  printf "#!/bin/sh\\nexec profiles-dep\\n" > "$pkgdir/usr/bin/profiles-hello-dep"'
        '\n  chmod 755 "$pkgdir/usr/bin/profiles-hello-dep"')),
}


@dataclass
class Aur:
    url: str
    pkgs: dict[str, dict[str, Any]]
    snapshots: dict[str, bytes]
    requests: list[str] = field(default_factory=list)
    mode: str = "ok"  # ok | notjson | error | down

    def set_version(self, name: str, version: str) -> None:
        self.pkgs[name]["version"] = version
        self.snapshots[name] = snapshot(name, self.pkgs[name])


def snapshot(name: str, spec: dict[str, Any]) -> bytes:
    files = {"PKGBUILD": pkgbuild(name, spec["version"], depends=spec.get("depends", []),
                                  makedepends=spec.get("makedepends", []),
                                  desc=spec["desc"], fail=spec.get("fail", False),
                                  extra=spec.get("extra", "")),
             ".SRCINFO": f"pkgbase = {name}\n", "notes.txt": "extra file to review\n"}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for fname, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{fname}")
            info.size, info.mtime = len(data), int(EPOCH)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def aur_record(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"Name": name, "PackageBase": name, "Version": f"{spec['version']}-1",
            "Description": spec["desc"], "NumVotes": spec.get("votes", 0),
            "Popularity": spec.get("pop", 0.0), "OutOfDate": None, "Maintainer": "tester",
            "URL": "https://example.org", "Depends": spec.get("depends", []),
            "MakeDepends": spec.get("makedepends", [])}


def serve_aur(aur: Aur) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            aur.requests.append(self.path)
            url = urllib.parse.urlsplit(self.path)
            body: bytes
            ctype = "application/json"
            if aur.mode == "notjson" and url.path.startswith("/rpc"):
                body, ctype = b"<html>maintenance</html>", "text/html"
            elif aur.mode == "error" and url.path.startswith("/rpc"):
                body = json.dumps({"version": 5, "type": "error", "resultcount": 0,
                                   "results": [], "error": "Too many requests"}).encode()
            elif url.path.startswith("/rpc/v5/search/"):
                term = urllib.parse.unquote(url.path.rsplit("/", 1)[1]).lower()
                res = [aur_record(n, s) for n, s in aur.pkgs.items()
                       if term in n or term in s["desc"]]
                body = json.dumps({"version": 5, "type": "search", "resultcount": len(res),
                                   "results": res}).encode()
            elif url.path == "/rpc/v5/info":
                names = urllib.parse.parse_qs(url.query).get("arg[]", [])
                res = [aur_record(n, aur.pkgs[n]) for n in names if n in aur.pkgs]
                body = json.dumps({"version": 5, "type": "multiinfo", "resultcount": len(res),
                                   "results": res}).encode()
            elif url.path.startswith("/cgit/aur.git/snapshot/"):
                base = url.path.rsplit("/", 1)[1].removesuffix(".tar.gz")
                if base not in aur.snapshots:
                    self.send_error(404)
                    return
                body, ctype = aur.snapshots[base], "application/gzip"
            else:
                self.send_error(404)
                return
            httpserve.reply(self, body, ctype)

    return httpserve.start(Handler)


@dataclass
class ArchWorld:
    base: Path
    conf: Path
    root: Path
    dbpath: Path
    repo_dir: Path
    repo_pkgs: dict[str, Path]
    aur: Aur

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
    try:
        pwd.getpwnam(BUILD_USER)
    except KeyError:
        subprocess.run(["useradd", "-r", "-m", "-s", "/usr/sbin/nologin", BUILD_USER],
                       check=True)
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
    conf = base / "pacman.conf"
    conf.write_text(
        f"[options]\nRootDir = {root}\nDBPath = {dbpath}\nCacheDir = {base}/cache\n"
        f"LogFile = {base}/pacman.log\nGPGDir = {base}/gnupg\nHookDir = {base}/hooks\n"
        f"Architecture = x86_64\nSigLevel = Never\n\n[testrepo]\nServer = file://{repo_dir}\n")
    pkgs = {n: dict(s) for n, s in AUR_PKGS.items()}
    aur = Aur("", pkgs, {n: snapshot(n, s) for n, s in pkgs.items()})
    server, aur.url = serve_aur(aur)
    try:
        yield ArchWorld(base, conf, root, dbpath, repo_dir, repo_pkgs, aur)
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def world(arch_world: ArchWorld) -> Iterator[ArchWorld]:
    arch_world.aur.mode = "ok"
    arch_world.aur.requests.clear()
    yield arch_world
    arch_world.aur.mode = "ok"


@pytest.fixture
def aenv(world: ArchWorld, tmp_path: Path) -> OmgEnv:
    return world.env(tmp_path)
