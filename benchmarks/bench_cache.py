"""Benchmark: binary caches (issue 15): pull against upstream, delta bytes, push speed.

Plain script: `python benchmarks/bench_cache.py`. One run of each, with real Node
20.18.0 and 20.18.1 (npm registry, repackaged by tests/support/realbin.py into a
local nodejs.org/dist mirror on 127.0.0.1) and real servers (tests/cache/servers.py):

1. push: `omg cache push` of node 20.18.0 (installed from the mirror) to a local
   SeaweedFS; MB/s of file content and of compressed objects, by the command's wall
   time (process start included).
2. pull against upstream: `omg install node@20.18.0` into an empty OMG_HOME with the
   SeaweedFS cache as its only substituter (the upstream mirror set to a closed port,
   so only the cache can answer), against the same command downloading from the
   mirror (download, sha256, unpack, BLAKE3, ingest). Goal: the pull is not slower.
   Both give the identical store path name. Both sides sync before they start.
3. delta: with 20.18.0 pulled, `omg install node@20.18.1` from the same cache served
   by nginx (a pushed directory): the bytes nginx sent (its access log: manifests,
   index, objects), against the size of upstream's 20.18.1 tarball. Node's own
   binary changes in every release and is most of the bytes: it is shown apart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OLD, NEW = "20.18.0", "20.18.1"
OMG = [sys.executable, "-m", "omg"]


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """(seconds, stdout) of `omg ARGS`, after a sync (no earlier writeback in its time)."""
    os.sync()
    t = time.perf_counter()
    proc = subprocess.run([*OMG, *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"omg {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed, proc.stdout


def store_paths(home: Path) -> set[str]:
    return {p.name for p in (home / "store").iterdir() if not p.name.startswith(".")
            and p.is_dir()}


def main() -> int:
    from store.fsutil import force_remove
    from tests.cache.servers import Nginx, SeaweedFS, free_ports, start_nginx, start_seaweedfs
    from tests.support import realbin

    work = Path(tempfile.mkdtemp(prefix="omg-bench-cache-"))
    servers: list[SeaweedFS | Nginx] = []
    try:
        realbin.build_node_dist_mirror(work / "mirror", [OLD, NEW])
        tarballs = {v: work / "mirror" / "dist" / f"v{v}" / f"node-v{v}-linux-x64.tar.xz"
                    for v in (OLD, NEW)}
        weed = start_seaweedfs(work / "seaweedfs")
        servers.append(weed)
        s3 = weed.url(weed.new_bucket())
        pushed = work / "pushed"  # the http cache: a directory nginx serves
        nginx = start_nginx(work / "nginx", pushed, access_log=True)
        servers.append(nginx)
        (pushed / "nginx-ready").unlink()

        with realbin.serve(work / "mirror") as mirror:
            base = {k: v for k, v in os.environ.items()
                    if not k.startswith(("OMG_", "AWS_"))}
            base.update(XDG_CONFIG_HOME=str(work / "config"), HOME=str(work / "home"))

            def env(home: str, **extra: str) -> dict[str, str]:
                return {**base, "OMG_HOME": str(work / home),
                        "OMG_NODE_MIRROR": f"{mirror}/dist", **extra}

            # The pushing machine: both versions from upstream, pushed to S3 and to a
            # directory (the http cache).
            pusher = env("pusher")
            run(["install", f"node@{OLD}", f"node@{NEW}"], pusher)
            secret = work / "cache.secret"
            _, public = run(["cache", "keygen", "bench-1", "--secret-file", str(secret)], pusher)
            t_push, out = run(["cache", "push", s3, f"node@{OLD}", "--secret-file",
                               str(secret), "--json"], pusher)
            doc = json.loads(out)
            for v in (OLD, NEW):
                run(["cache", "push", pushed.as_uri(), f"node@{v}", "--secret-file",
                     str(secret)], pusher)

            # An empty store: from upstream, then from the cache (mirror unreachable).
            t_upstream, _ = run(["install", f"node@{OLD}"], env("upstream"))
            dead = f"http://127.0.0.1:{free_ports(1)[0]}/dist"
            trust = {"OMG_TRUSTED_KEYS": public.strip(), "OMG_NODE_MIRROR": dead}
            t_pull, _ = run(["install", f"node@{OLD}"],
                            env("pulled", OMG_SUBSTITUTERS=s3, **trust))
            same = store_paths(work / "pulled") == store_paths(work / "upstream")

            # The delta: 20.18.0 is in the store (from the cache), 20.18.1 comes over http.
            delta_env = env("delta", OMG_SUBSTITUTERS=f"{nginx.base}", **trust)
            run(["install", f"node@{OLD}"], delta_env)
            before = len(nginx.requests())
            t_delta, _ = run(["install", f"node@{NEW}"], delta_env)
            requests = nginx.requests()[before:]
            sent = sum(r.sent for r in requests if r.status == 200)
            objects = sum(1 for r in requests
                          if r.status == 200 and r.path.startswith("/objects/"))
            biggest = max(r.sent for r in requests)
            full = tarballs[NEW].stat().st_size

        mb = 1e6
        print(f"artifact: node-v{OLD}-linux-x64.tar.xz ({tarballs[OLD].stat().st_size / mb:.1f}"
              f" MB, real, local mirror), one run each")
        print(f"push node@{OLD} to SeaweedFS: {t_push:.2f} s, {doc['objects']} objects; "
              f"{doc['content_bytes'] / mb / t_push:.1f} MB/s of content "
              f"({doc['content_bytes'] / mb:.1f} MB), {doc['object_bytes'] / mb / t_push:.1f}"
              f" MB/s compressed ({doc['object_bytes'] / mb:.1f} MB)")
        print(f"omg install node@{OLD} into an empty store: pull from SeaweedFS "
              f"{t_pull * 1000:.0f} ms; download+ingest from the upstream mirror "
              f"{t_upstream * 1000:.0f} ms; ratio {t_pull / t_upstream:.2f}x (goal <= 1.0x); "
              f"same store path: {'yes' if same else 'NO'}")
        print(f"delta pull node@{NEW} after {OLD} (nginx): {sent / mb:.2f} MB sent in "
              f"{len(requests)} requests ({objects} objects, the largest {biggest / mb:.1f} MB), "
              f"{t_delta * 1000:.0f} ms; upstream tarball {full / mb:.1f} MB (xz -1, as "
              f"realbin repackages it); {100 * sent / full:.1f}% of it; without the largest "
              f"object (bin/node, which every patch release changes) "
              f"{(sent - biggest) / mb:.2f} MB")
    finally:
        for server in servers:
            server.stop()
        force_remove(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
