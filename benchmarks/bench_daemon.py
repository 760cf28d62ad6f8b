"""omgd benchmarks: request latency, store.get through the daemon vs in-process,
and 8 parallel clients.

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

            threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            print(f"8 parallel clients (ping/store.get, {len(lat)} requests): "
                  f"{len(lat) / wall:,.0f} req/s, median {statistics.median(lat) * 1e3:.2f} ms, "
                  f"slowest {max(lat) * 1e3:.2f} ms")
            remote.close()
            local.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
