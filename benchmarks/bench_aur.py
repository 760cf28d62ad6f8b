"""AUR dependency resolution with cached RPC answers, and the skipped rebuild.

Run: ``python benchmarks/bench_aur.py [-n RUNS]``.

1. Resolving a 20-package AUR dependency tree (`omg.arch.resolve.resolve` with
   `omg.arch.aur.info` over the index cache and a real libalpm handle as the repo
   satisfier), the RPC answers cached by one first resolve: goal < 100 ms.
2. `omg aur build` of an unchanged package (same pkgbase, version and dependency
   store paths already built by this user): no makepkg run. Timed as whole processes
   beside the first build (real makepkg as the build user; needs root).

The test AUR (tests/arch/fakeaur.py: RPC v5 and cgit snapshots on 127.0.0.1) answers.
Needs root (the build user, and makepkg --printsrcinfo for the packages' .SRCINFO).
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.arch import fakeaur  # noqa: E402
from tests.arch.conftest import BUILD_USER, pkgbuild  # noqa: E402

GOAL_MS = 100.0
TREE = 20


def tree_pkgs(base: Path) -> dict[Path, dict[str, Any]]:
    """bench-0 .. bench-19, each depending on the next two (a binary tree), as package
    directories (PKGBUILD, .SRCINFO from makepkg) with their aurweb rows."""
    out: dict[Path, dict[str, Any]] = {}
    for i in range(TREE):
        deps = [f"bench-{j}" for j in (2 * i + 1, 2 * i + 2) if j < TREE]
        pkgdir = base / "aur-src" / f"bench-{i}"
        pkgdir.mkdir(parents=True)
        (pkgdir / "PKGBUILD").write_text(pkgbuild(f"bench-{i}", depends=deps[:1],
                                                  makedepends=deps[1:],
                                                  desc=f"benchmark package {i}"))
        (pkgdir / ".SRCINFO").write_text(fakeaur.printsrcinfo(pkgdir))
        out[pkgdir] = {"NumVotes": i}
    return out


def write_conf(base: Path) -> Path:
    root, db = base / "root", base / "db"
    (db / "local").mkdir(parents=True)
    (db / "sync").mkdir()
    root.mkdir()
    conf = base / "pacman.conf"
    conf.write_text(f"[options]\nRootDir = {root}\nDBPath = {db}\nCacheDir = {base}/cache\n"
                    f"LogFile = {base}/pacman.log\nArchitecture = x86_64\nSigLevel = Never\n")
    return conf


def bench_resolve(base: Path, aur: fakeaur.FakeAur, conf: Path, runs: int) -> None:
    from omg.arch import aur as aurmod
    from omg.arch.alpm import Alpm
    from omg.arch.install import provides
    from omg.arch.resolve import resolve
    from omg.arch.settings import ArchSettings
    from store.layout import Layout
    from store.local import LocalStore

    store = LocalStore(Layout(base / "omg"))
    arch = ArchSettings(base / "omg", pacman_conf=conf, aur_url=aur.url)
    alpm = Alpm(arch)

    def once() -> float:
        start = time.perf_counter()
        plan = resolve(["bench-0"], repo_satisfier=lambda d: alpm.satisfier(d) is not None,
                       aur_info=lambda ns: aurmod.info(aur.url, ns, index=store.index),
                       aur_provides=lambda n: provides(aur.url, n), vercmp=alpm.vercmp)
        elapsed = (time.perf_counter() - start) * 1000
        assert len(plan.order) == TREE
        return elapsed

    cold = once()
    requests = len(aur.requests)
    times = [once() for _ in range(runs)]
    assert len(aur.requests) == requests, "a cached resolve asked the AUR"
    med = statistics.median(times)
    print(f"resolve {TREE}-package AUR tree, RPC answers cached: median {med:.1f} ms, "
          f"min {min(times):.1f} ms over {runs} runs (first, uncached: {cold:.1f} ms; "
          f"goal < {GOAL_MS:.0f} ms) {'OK' if med < GOAL_MS else 'OVER'}")
    store.close()


def omg(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "omg", *args], env=env, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise SystemExit(f"omg {' '.join(args)} failed: {proc.stderr}")
    return (time.perf_counter() - start) * 1000


def bench_rebuild(base: Path, aur: fakeaur.FakeAur, conf: Path, runs: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMG_")}
    env.update({"OMG_HOME": str(base / "omg"), "XDG_CACHE_HOME": str(base / "cache-home"),
                "OMG_PACMAN_CONF": str(conf), "OMG_AUR_URL": aur.url,
                "OMG_BUILD_USER": BUILD_USER, "OMG_BUILD_DIR": str(base / "builds"),
                "SOURCE_DATE_EPOCH": "1700000000"})
    target = f"bench-{TREE - 1}"  # a leaf: one makepkg run
    first = omg(env, "aur", "build", target, "--noconfirm")
    skipped = [omg(env, "aur", "build", target, "--noconfirm") for _ in range(runs)]
    forced = omg(env, "aur", "build", target, "--noconfirm", "--rebuild")
    print(f"omg aur build of an unchanged package (skipped, no makepkg): median "
          f"{statistics.median(skipped):.0f} ms over {runs} runs; first build "
          f"{first:.0f} ms; --rebuild {forced:.0f} ms")


def ensure_build_user() -> None:
    try:
        pwd.getpwnam(BUILD_USER)
    except KeyError:
        subprocess.run(["useradd", "-r", "-m", "-s", "/usr/sbin/nologin", BUILD_USER],
                       check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=20)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="omg-bench-aur-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    if shutil.which("makepkg") is None or os.geteuid() != 0:
        raise SystemExit("needs root and makepkg (.SRCINFO is made by makepkg --printsrcinfo "
                         "as the build user)")
    ensure_build_user()
    aur = fakeaur.FakeAur(base / "aur")
    aur.load(fakeaur.Render(), tree_pkgs(base))
    server, aur.url = fakeaur.serve(aur)
    try:
        conf = write_conf(base)
        bench_resolve(base, aur, conf, args.runs)
        bench_rebuild(base, aur, conf, max(3, args.runs // 4))
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
