"""Build and install one AUR package: `omg aur build --system` (sandboxed) beside the
same by hand, `makepkg` then `pacman -U`, into the same private pacman root.

Run as root: ``python benchmarks/bench_aur_build.py [-n RUNS]``. The package is the
tests' kind (a local AUR on 127.0.0.1 serves its snapshot; its PKGBUILD downloads
one source file from that server and installs a script). Each round runs every case
once (interleaved, so a change of load slows all alike) and removes the package from
the root afterwards. Cases: omg with the sandbox (bubblewrap: two makepkg steps),
omg with ``[arch] sandbox = false`` (one makepkg, as before), and the hand-made
baseline (`runuser -u omg-build -- makepkg -f --nodeps`, then `pacman -U`). omg's
figure includes what the baseline does not: resolving against the AUR RPC, the
snapshot download and unpack, and the store ingest.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.arch import fakeaur, httpserve  # noqa: E402
from tests.arch.conftest import BUILD_USER  # noqa: E402

PKG = "bench-tool"
SOURCE = b"#!/bin/sh\necho bench-tool\n"


def pkgbuild(url: str) -> str:
    return (f"pkgname={PKG}\npkgver=1.0\npkgrel=1\npkgdesc='benchmark tool'\narch=('any')\n"
            f"license=('MIT')\nsource=(\"{url}/{PKG}.sh\")\n"
            f"sha256sums=('{hashlib.sha256(SOURCE).hexdigest()}')\n"
            f"package() {{\n  install -Dm755 {PKG}.sh \"$pkgdir/usr/bin/{PKG}\"\n}}\n")


def serve_source() -> tuple[http.server.ThreadingHTTPServer, str]:
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_GET(self) -> None:
            httpserve.reply(self, SOURCE, "text/plain")

    return httpserve.start(H)


def run(cmd: list[str], **kw: Any) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", "--runs", type=int, default=5)
    runs = ap.parse_args().runs
    if os.geteuid() != 0:
        raise SystemExit("run as root (makepkg runs as the build user, pacman -U into a root)")
    for tool in ("makepkg", "pacman", "bwrap"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    try:
        user = pwd.getpwnam(BUILD_USER)
    except KeyError:
        run(["useradd", "-r", "-m", "-s", "/usr/sbin/nologin", BUILD_USER])
        user = pwd.getpwnam(BUILD_USER)
    Path("/var/lib/pacman/local").mkdir(parents=True, exist_ok=True)
    source_server, source_url = serve_source()
    base = Path(tempfile.mkdtemp(prefix="omg-bench-aur-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    pkgdir = base / PKG
    pkgdir.mkdir()
    (pkgdir / "PKGBUILD").write_text(pkgbuild(source_url))
    (pkgdir / ".SRCINFO").write_text(fakeaur.printsrcinfo(pkgdir))
    aur = fakeaur.FakeAur(base / "aur")
    aur.load(fakeaur.Render(), {pkgdir: {}})  # the test AUR's packages, and this one
    aur_server, aur.url = fakeaur.serve(aur)
    try:
        root, dbpath = base / "root", base / "db"
        for d in (root, dbpath / "local", dbpath / "sync"):
            d.mkdir(parents=True)
        conf = base / "pacman.conf"
        conf.write_text(f"[options]\nRootDir = {root}\nDBPath = {dbpath}\n"
                        f"CacheDir = {base}/cache\nLogFile = {base}/pacman.log\n"
                        f"GPGDir = {base}/gnupg\nHookDir = {base}/hooks\n"
                        "Architecture = x86_64\nSigLevel = Never\n")
        pacman = ["pacman", "--config", str(conf), "--noconfirm"]
        counter = iter(range(10**6))

        def omg_case(sandbox: bool) -> Callable[[], None]:
            def once() -> None:
                home = base / f"omg-{next(counter)}"
                (home / "config" / "omg").mkdir(parents=True)
                (home / "config" / "omg" / "config.toml").write_text(
                    f"[arch]\nsandbox = {'true' if sandbox else 'false'}\n")
                env = {**{k: v for k, v in os.environ.items() if not k.startswith("OMG_")},
                       "OMG_HOME": str(home / "omg"), "XDG_CONFIG_HOME": str(home / "config"),
                       "XDG_CACHE_HOME": str(home / "cache"), "OMG_PACMAN_CONF": str(conf),
                       "OMG_AUR_URL": aur.url, "OMG_BUILD_USER": BUILD_USER,
                       "OMG_BUILD_DIR": str(base / "builds")}
                run([sys.executable, "-m", "omg", "aur", "build", PKG, "--system",
                     "--noconfirm"], env=env)
            return once

        def by_hand() -> None:
            work = base / f"hand-{next(counter)}"
            work.mkdir()
            (work / "PKGBUILD").write_text(pkgbuild(source_url))
            os.chown(work, user.pw_uid, user.pw_gid)
            os.chown(work / "PKGBUILD", user.pw_uid, user.pw_gid)
            run(["runuser", "-u", BUILD_USER, "--", "env", "PKGEXT=.pkg.tar.zst", "makepkg",
                 "-f", "--nodeps", "--noconfirm", "--noprogressbar"], cwd=work)
            (pkg,) = work.glob(f"{PKG}-*.pkg.tar.zst")
            run([*pacman, "-U", str(pkg)])

        cases = {"omg aur build --system (sandboxed)": omg_case(True),
                 "omg aur build --system (sandbox off)": omg_case(False),
                 "makepkg + pacman -U by hand": by_hand}
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):
            for name, once in cases.items():
                start = time.perf_counter()
                once()
                times[name].append(time.perf_counter() - start)
                if not (root / "usr" / "bin" / PKG).exists():
                    raise SystemExit(f"{name}: {PKG} was not installed")
                run([*pacman, "-R", PKG])
        print(f"build and install {PKG} (one source download) into a private root, "
              f"median (min) of {runs} interleaved rounds:")
        for name, got in times.items():
            print(f"  {name:38} {statistics.median(got):6.2f} s  ({min(got):.2f} s)")
    finally:
        for server in (aur_server, source_server):
            server.shutdown()
            server.server_close()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
