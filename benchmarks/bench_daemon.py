"""omgd benchmarks: request latency, store.get through the daemon vs in-process,
8 parallel clients, and profile.use through the daemon vs in-process profiles.use
(in-process round trip), `omg use`/`omg rollback` run by a real user of the
shared store against single-user `omg` (whole process; needs root to create the
user `omg-bench`), plus 8 clients of 2 users doing use/rollback in parallel.

Run: ``python benchmarks/bench_daemon.py`` (``--quick`` for fewer rounds).
A daemon subprocess serves a temporary OMG_HOME holding a few store paths;
each figure is printed beside its in-process baseline from the same run.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from omg import config
from omg.backends.daemon import DaemonBackend
from omg.daemon.client import Client
from store.claims import process_user
from store.errors import DaemonUnavailable
from store.layout import Layout
from store.local import LocalStore

BENCH_USER = "omg-bench"


def _archive(dest: Path, i: int) -> Path:
    src = dest.parent / f"src{i}" / "tool"
    (src / "bin").mkdir(parents=True)
    (src / "bin" / "tool").write_bytes(b"#!/bin/sh\necho %d\n" % i)
    with tarfile.open(dest, "w:gz") as tar:
        tar.add(src, arcname="tool")
    return dest


def _start(home: Path, sock: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OMG_HOME": str(home), "OMG_CONFIG": str(home.parent / "none.toml")}
    proc = subprocess.Popen([sys.executable, "-m", "omg.daemon", "--socket", str(sock)],
                            env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with Client(sock, connect_timeout=1) as c:
                c.call("ping")
            return proc
        except DaemonUnavailable:
            time.sleep(0.02)
    raise SystemExit("omgd did not start")


def _tree(root: Path, version: str) -> Path:
    src = root / f"tree-{version}"
    (src / "bin").mkdir(parents=True)
    exe = src / "bin" / "tool"
    exe.write_bytes(b"#!/bin/sh\necho %s\n" % version.encode())
    exe.chmod(0o755)
    return src


def _ms(xs: list[float]) -> str:
    return f"median {statistics.median(xs) * 1e3:7.2f} ms, slowest {max(xs) * 1e3:7.2f} ms"


def bench_profiles(root: Path, sock: Path, remote: DaemonBackend, n: int, runs: int,
                   per_client: int) -> None:
    """profile.use through omgd against omg.profiles.use in-process (single-user)."""
    from omg import profiles
    from omg.profiles import Home
    from store.claims import process_user

    versions = ["2.0", "2.1"]
    local_home = root / "local"
    local = LocalStore(Layout(local_home))
    for v in versions:
        tree = _tree(root / "trees", v)
        remote.store_add(tree, "tool", v)
        local.add(tree, "tool", v)
    local.close()
    specs = [[f"tool@{v}"] for v in versions]
    with Client(sock) as c:
        for s in specs:  # warm up: both envs built once
            c.call("profile.use", {"specs": s, "profile": "bench"})
        use_remote = _timed_cycle(lambda i: c.call("profile.use", {"specs": specs[i % 2],
                                                                   "profile": "bench"}), n)
        back_remote = _timed_cycle(lambda i: c.call("profile.rollback", {"profile": "bench"}),
                                   n)
    home = Home(Layout(local_home), process_user())  # the user whose claims `local` made
    for s in specs:
        profiles.use(home, s, profile="bench")
    use_local = _timed_cycle(lambda i: profiles.use(home, specs[i % 2], profile="bench"), n)
    back_local = _timed_cycle(lambda i: profiles.rollback(home, profile="bench"), n)
    home.close()
    print(f"profile.use through omgd          : {_us(use_remote)}")
    print(f"profiles.use in-process (base)    : {_us(use_local)}  -> daemon/in-process "
          f"{statistics.median(use_remote) / statistics.median(use_local):.1f}x")
    print(f"profile.rollback through omgd     : {_us(back_remote)}")
    print(f"profiles.rollback in-process (base): {_us(back_local)}  -> daemon/in-process "
          f"{statistics.median(back_remote) / statistics.median(back_local):.1f}x")

    _whole_process(root, sock, local_home, specs, runs)

    # 8 clients, 2 users (root names them: user= is allowed to root only), each
    # on its own profile, alternating use and rollback.
    lat: list[float] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        user, profile = ("bench-a", "bench-b")[k % 2], f"p{k}"
        mine = []
        with Client(sock) as c:
            c.call("profile.use", {"specs": specs[0], "profile": profile, "user": user})
            have = versions[0]
            for j in range(per_client):
                t0 = time.perf_counter()
                if j % 2:  # back to the generation before (it holds the other version)
                    have = c.call("profile.rollback", {"profile": profile,
                                                       "user": user})["tools"]["tool"]
                else:  # always a change, so always a new generation
                    have = versions[1 - versions.index(have)]
                    c.call("profile.use", {"specs": [f"tool@{have}"], "profile": profile,
                                           "user": user})
                mine.append(time.perf_counter() - t0)
        with lock:
            lat.extend(mine)

    _parallel(client, lat, "8 clients of 2 users (use/rollback")


def _bench_user() -> tuple[int, int] | None:
    """A real unprivileged user (created when missing) for `omg` in the shared mode."""
    import pwd
    import shutil

    if os.geteuid() != 0 or not shutil.which("useradd"):
        return None
    if subprocess.run(["id", BENCH_USER], capture_output=True).returncode:
        subprocess.run(["useradd", "--system", "-M", "-s", "/usr/sbin/nologin", BENCH_USER],
                       check=True)
    pw = pwd.getpwnam(BENCH_USER)
    return pw.pw_uid, pw.pw_gid


def _whole_process(root: Path, sock: Path, local_home: Path, specs: list[list[str]],
                   runs: int) -> None:
    """`omg use`/`omg rollback` whole process: as a user of the shared store (through
    omgd) against single-user `omg` on a home of one's own, and `python -c pass`."""
    ids = _bench_user()
    if ids is None:
        print("omg use through omgd (whole process): skipped (needs root to run as a user)")
        return
    uid, gid = ids
    user_home = root / "user-home"
    user_home.mkdir()
    os.chown(user_home, uid, gid)
    os.chmod(root, 0o755)
    # As a user's shell runs omg: byte code cached, through omg's own launcher.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OMG_") and k != "PYTHONDONTWRITEBYTECODE"}
    shared_env = {**env, "OMG_HOME": str(root / "home"), "OMG_SOCKET": str(sock),
                  "HOME": str(user_home), "XDG_CONFIG_HOME": str(user_home / ".config")}
    local_env = {**env, "OMG_HOME": str(local_home), "HOME": str(root)}
    as_user = {"user": uid, "group": gid}
    launcher = Path(sys.executable).parent / "omg"
    omg = [str(launcher)] if launcher.exists() else [sys.executable, "-m", "omg"]
    cases: dict[str, list[float]] = {k: [] for k in (
        "use-shared", "use-local", "rollback-shared", "rollback-local", "bare")}
    for spec in (specs[1][0], specs[0][0]):  # two generations each, so rollback has one
        for cmd_env, extra in ((shared_env, as_user), (local_env, {})):
            subprocess.run([*omg, "use", spec, "-p", "bench"], env=cmd_env, check=True,
                           stdout=subprocess.DEVNULL, **extra)
    for i in range(runs + 1):
        # The version the profile lacks (rollback returns to the other): a new generation.
        spec = specs[1][0]
        for key, cmd, cmd_env, extra in (
                ("use-shared", [*omg, "use", spec, "-p", "bench"], shared_env, as_user),
                ("use-local", [*omg, "use", spec, "-p", "bench"], local_env, {}),
                ("rollback-shared", [*omg, "rollback", "-p", "bench"], shared_env, as_user),
                ("rollback-local", [*omg, "rollback", "-p", "bench"], local_env, {}),
                ("bare", [sys.executable, "-c", "pass"], env, {})):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, env=cmd_env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, **extra)
            elapsed = time.perf_counter() - t0
            if proc.returncode:
                raise SystemExit(f"{' '.join(cmd[2:])} ({key}) failed: {proc.stderr.strip()}")
            if i:  # the first run warms caches
                cases[key].append(elapsed)
    med = {k: statistics.median(v) for k, v in cases.items()}
    print(f"omg use through omgd, as a user (process) : {_ms(cases['use-shared'])}")
    print(f"omg use single-user (process, base)       : {_ms(cases['use-local'])}  -> "
          f"{med['use-shared'] / med['use-local']:.2f}x")
    print(f"omg rollback through omgd (process)       : {_ms(cases['rollback-shared'])}")
    print(f"omg rollback single-user (process, base)  : {_ms(cases['rollback-local'])}  -> "
          f"{med['rollback-shared'] / med['rollback-local']:.2f}x")
    print(f"python -c pass (reference)                : {_ms(cases['bare'])}")


def _parallel(client: Callable[[int], None], lat: list[float], label: str) -> None:
    """Run ``client(k)`` in 8 threads at once; print throughput and latency of ``lat``."""
    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    print(f"{label}, {len(lat)} requests): "
          f"{len(lat) / wall:,.0f} req/s, median {statistics.median(lat) * 1e3:.2f} ms, "
          f"slowest {max(lat) * 1e3:.2f} ms")


def _timed_cycle(fn: Callable[[int], object], n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t0)
    return out


def _timed(fn: object, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - t0)
    return out


def _us(xs: list[float]) -> str:
    return f"median {statistics.median(xs) * 1e6:8.1f} us, p99 " \
           f"{sorted(xs)[int(len(xs) * 0.99) - 1] * 1e6:8.1f} us"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 300 if args.quick else 2000
    per_client = 150 if args.quick else 1000
    with tempfile.TemporaryDirectory(prefix="bench-omgd-") as tmp:
        root = Path(tmp)
        home, sock = root / "home", root / "omgd.sock"
        proc = _start(home, sock)
        try:
            remote = DaemonBackend(str(sock), str(home), process_user(),
                                   lambda: config.load({"OMG_HOME": str(home)}))
            names = [remote.store_add(_archive(root / f"t{i}.tar.gz", i), "tool",
                                      f"1.{i}").record.path for i in range(5)]
            local = LocalStore(Layout(home))
            name = names[0]
            with Client(sock) as c:
                ping = _timed(lambda: c.call("ping"), n)
            get_remote = _timed(lambda: remote.call("store.get", {"name": name}), n)
            get_local = _timed(lambda: local.get(name), n)
            print(f"ping round trip            : {_us(ping)}")
            print(f"store.get through omgd     : {_us(get_remote)}")
            ratio = statistics.median(get_remote) / statistics.median(get_local)
            print(f"store.get LocalStore (base): {_us(get_local)}  "
                  f"-> daemon/in-process {ratio:.1f}x")

            lat: list[float] = []
            lock = threading.Lock()

            def client(k: int) -> None:
                mine = []
                with Client(sock) as c:
                    for j in range(per_client):
                        t0 = time.perf_counter()
                        if j % 2:
                            c.call("ping")
                        else:
                            c.call("store.get", {"name": names[(k + j) % len(names)]})
                        mine.append(time.perf_counter() - t0)
                with lock:
                    lat.extend(mine)

            _parallel(client, lat, "8 parallel clients (ping/store.get")
            bench_profiles(root, sock, remote, 100 if args.quick else 500,
                           5 if args.quick else 20, 40 if args.quick else 200)
            remote.close()
            local.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
