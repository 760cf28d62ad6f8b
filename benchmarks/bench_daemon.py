"""omgd benchmarks: request latency, store.get through the daemon vs in-process,
8 parallel clients, and profile.use through the daemon vs in-process profiles.use
(in-process round trip and whole process), plus 8 clients of 2 users doing
use/rollback in parallel.

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

from omg.daemon.client import Client
from omg.daemon.protocol import DaemonUnavailable
from omg.remote_store import RemoteStore
from store.layout import Layout
from store.local import LocalStore


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


def bench_profiles(root: Path, sock: Path, remote: RemoteStore, n: int, runs: int,
                   per_client: int) -> None:
    """profile.use through omgd against omg.profiles.use in-process (single-user)."""
    from omg import profiles, remote_profiles
    from omg.profiles import Home

    versions = ["2.0", "2.1"]
    local_home = root / "local"
    local = LocalStore(Layout(local_home))
    for v in versions:
        tree = _tree(root / "trees", v)
        remote.add(tree, "tool", v)
        local.add(tree, "tool", v)
    local.close()
    specs = [[f"tool@{v}"] for v in versions]
    with Client(sock) as c:
        for s in specs:  # warm up: both envs built once
            remote_profiles.use(c, s, profile="bench")
        use_remote = _timed_cycle(lambda i: remote_profiles.use(c, specs[i % 2],
                                                                profile="bench"), n)
        back_remote = _timed_cycle(lambda i: remote_profiles.rollback(c, profile="bench"), n)
    home = Home(Layout(local_home), "bench")
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

    # Whole process: a client process doing one profile.use, against `omg use`
    # single-user (its fast path) on a local home, and `python -c pass`.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMG_")}
    client_code = ("import sys\nfrom omg.daemon.client import Client\n"
                   "Client(sys.argv[1]).call('profile.use', "
                   "{'specs': [sys.argv[2]], 'profile': 'bench'})\n")
    whole_remote: list[float] = []
    whole_local: list[float] = []
    bare: list[float] = []
    for i in range(runs + 1):
        spec = specs[i % 2][0]
        for out, cmd, extra in (
                (whole_remote, [sys.executable, "-c", client_code, str(sock), spec], {}),
                (whole_local, [sys.executable, "-m", "omg", "use", spec, "--profile", "bench"],
                 {"OMG_HOME": str(local_home), "HOME": str(root)}),
                (bare, [sys.executable, "-c", "pass"], {})):
            t0 = time.perf_counter()
            subprocess.run(cmd, env={**env, **extra}, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            if i:  # the first run warms caches
                out.append(time.perf_counter() - t0)
    print(f"profile.use client process (omgd) : {_ms(whole_remote)}")
    print(f"omg use single-user process (base): {_ms(whole_local)}  -> "
          f"{statistics.median(whole_remote) / statistics.median(whole_local):.2f}x")
    print(f"python -c pass (reference)        : {_ms(bare)}")

    # 8 clients, 2 users (root names them: user= is allowed to root only), each
    # on its own profile, alternating use and rollback.
    lat: list[float] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        user, profile = ("bench-a", "bench-b")[k % 2], f"p{k}"
        mine = []
        with Client(sock) as c:
            remote_profiles.use(c, specs[0], profile=profile, user=user)
            have = versions[0]
            for j in range(per_client):
                t0 = time.perf_counter()
                if j % 2:  # back to the generation before (it holds the other version)
                    have = remote_profiles.rollback(c, profile=profile, user=user).tools["tool"]
                else:  # always a change, so always a new generation
                    have = versions[1 - versions.index(have)]
                    remote_profiles.use(c, [f"tool@{have}"], profile=profile, user=user)
                mine.append(time.perf_counter() - t0)
        with lock:
            lat.extend(mine)

    _parallel(client, lat, "8 clients of 2 users (use/rollback")


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
            remote = RemoteStore(sock)
            names = [remote.add(_archive(root / f"t{i}.tar.gz", i), "tool", f"1.{i}").record.path
                     for i in range(5)]
            local = LocalStore(Layout(home))
            name = names[0]
            with Client(sock) as c:
                ping = _timed(lambda: c.call("ping"), n)
            get_remote = _timed(lambda: remote.get(name), n)
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
