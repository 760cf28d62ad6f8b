"""`omg audit` over 50 installed store paths with warm feed caches (goal < 300 ms), and
peak memory with every feed fetched and parsed.

    .venv/bin/python benchmarks/bench_audit.py [--runs N]

The feeds are served on 127.0.0.1 in their mirror layouts. Where the upstream
repositories are mirrored locally (--mirrors DIR or OMG_BENCH_FEED_MIRRORS: a directory
of `<owner>+<name>/repo` git mirrors), they are the
real, whole feeds: security-wg's index.json, every Go vulndb entry for stdlib and
toolchain (with the modules index they list), the PSF database and ruby-advisory-db as
`git archive` tarballs of the whole repositories (ruby-advisory-db's gems included, as
GitHub's tarball has them). The Arch tracker's all.json is not mirrored here: the test
fixture's real groups are repeated under 1,000 package names each (4,000 groups, about
the tracker's size). Without the mirrors, the test fixtures alone are served.

Lines: the cold fetch (`omg audit --refresh`: every feed fetched and parsed) with the
process's peak RSS; then warm runs (the summaries answer, nothing is fetched), median
and spread, and their peak RSS; `omg list` on the same store and `python -c pass`
for scale (on a loaded machine every line moves together).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_profiles import OMG, _env  # noqa: E402
from tests.audit import mirror as M  # noqa: E402

#: 50 store paths: versions some advisories hit, some none.
INSTALLED = ([("node", f"{m}.{n}.0") for m in (18, 20, 22, 24) for n in (1, 5, 9, 12, 20)]
             + [("python", f"3.{m}.{n}") for m in (9, 10, 11, 12, 13) for n in (0, 4)]
             + [("go", f"1.{m}.{n}") for m in (21, 22, 23, 24, 25) for n in (0, 3)]
             + [("ruby", f"{v}") for v in ("2.7.8", "3.0.1", "3.0.6", "3.1.2", "3.2.0",
                                           "3.2.4", "3.3.0", "3.3.5", "3.4.1", "4.0.4")])


def _git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True,
                          capture_output=True).stdout


def build_real(root: Path, mirrors: Path) -> str:
    """The whole feeds from the local mirrors of the upstream repositories."""
    node = mirrors / "nodejs+security-wg/repo"
    (root / "node/vuln/core").mkdir(parents=True)
    (root / "node/vuln/core/index.json").write_bytes(
        _git(node, "show", "HEAD:vuln/core/index.json"))
    go = mirrors / "golang+vulndb/repo"
    (root / "go/ID").mkdir(parents=True)
    (root / "go/index").mkdir(parents=True)
    modules: dict[str, list[dict[str, str]]] = {"stdlib": [], "toolchain": []}
    names = _git(go, "ls-tree", "--name-only", "HEAD", "data/osv/").decode().split()
    for name in names:
        body = _git(go, "show", f"HEAD:{name}")
        entry = json.loads(body)
        hit = {a["package"]["name"] for a in entry.get("affected", [])} & set(modules)
        if hit:
            (root / "go/ID" / Path(name).name).write_bytes(body)
            for m in hit:
                modules[m].append({"id": entry["id"], "modified": entry["modified"]})
    (root / "go/index/modules.json").write_text(json.dumps(
        [{"path": p, "vulns": v} for p, v in modules.items()]))
    for key, prefix in (("python_vulns", "advisory-database-main"),
                        ("ruby_vulns", "ruby-advisory-db-master")):
        repo = mirrors / ("psf+advisory-database/repo" if key == "python_vulns"
                          else "rubysec+ruby-advisory-db/repo")
        tar = _git(repo, "archive", "--format=tar.gz", f"--prefix={prefix}/", "HEAD")
        (root / M.ARCHIVES[key][1]).write_bytes(tar)
    _arch_at_scale(root)
    return (f"real feeds: node {len(json.loads((root / 'node/vuln/core/index.json').read_text()))}"
            f" entries, go {sum(len(v) for v in modules.values())} entries, archives "
            f"{(root / 'psf.tar.gz').stat().st_size // 1024} KiB (PSF) and "
            f"{(root / 'rubysec.tar.gz').stat().st_size // 1024} KiB (ruby-advisory-db), "
            "arch 4,000 groups (fixture repeated)")


def _arch_at_scale(root: Path) -> None:
    groups = json.loads((M.FIXTURES / "arch/all.json").read_text())
    many = [{**g, "name": f"{g['name']}-{i}", "packages": [f"{p}{i}" for p in g["packages"]]}
            for i in range(1000) for g in groups]
    (root / "arch").mkdir(exist_ok=True)
    (root / "arch/all.json").write_text(json.dumps(many))


def _fake(root: Path, tool: str, version: str) -> Path:
    d = root / f"{tool}-{version}"
    (d / "bin").mkdir(parents=True)
    (d / "bin" / tool).write_text(f"#!/bin/sh\necho {version}\n")
    (d / "bin" / tool).chmod(0o755)
    return d


def _store(home: Path, tmp: Path) -> None:
    from omg import config
    from store.claims import ADDED, Claim, process_user
    from store.local import LocalStore

    settings = config.load({"OMG_HOME": str(home)})
    store = LocalStore(settings.layout, limits=settings.limits)
    try:
        for tool, version in INSTALLED:
            store.add(_fake(tmp, tool, version), tool, version,
                      claim=Claim(ADDED, process_user(), trusted=True))
    finally:
        store.close()


def _rss_run(cmd: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """(ms, exit status, peak RSS in KiB) of one run of `cmd`."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
             "stderr=subprocess.DEVNULL); ms = (time.perf_counter() - t) * 1000; "
             "print(ms, p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1]), int(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--mirrors", type=Path,
                        default=Path(os.environ.get("OMG_BENCH_FEED_MIRRORS") or "/nonexistent"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="omg-bench-audit-") as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "mirror"
        root.mkdir()
        try:
            what = build_real(root, args.mirrors)
        except (subprocess.CalledProcessError, FileNotFoundError, KeyError) as exc:
            import shutil

            shutil.rmtree(root)
            M.build(root)
            what = f"test fixtures only (no upstream mirrors: {exc})"
        print(f"feeds: {what}")
        home = tmp / "omg"
        _store(home, tmp / "src")
        with M.serve(root) as served:
            env = {**_env(home), **served.env, "XDG_CACHE_HOME": str(tmp / "cache")}
            ms, code, rss = _rss_run([*OMG, "audit", "--refresh"], env)
            print(f"cold  omg audit --refresh ({len(INSTALLED)} store paths, every feed "
                  f"fetched and parsed): {ms:.0f} ms, exit {code}, peak RSS {rss // 1024} MiB, "
                  f"{len(served.requests)} requests")
            asked = len(served.requests)
            warm = [_rss_run([*OMG, "audit"], env) for _ in range(args.runs)]
            times = sorted(w[0] for w in warm)
            print(f"warm  omg audit ({len(INSTALLED)} store paths, cached feeds): median "
                  f"{statistics.median(times):.0f} ms (min {times[0]:.0f}, max {times[-1]:.0f},"
                  f" {args.runs} runs), peak RSS {max(w[2] for w in warm) // 1024} MiB, "
                  f"{len(served.requests) - asked} requests; goal < 300 ms")
            report = subprocess.run([*OMG, "audit", "--json", "--offline"], env=env,
                                    capture_output=True, text=True).stdout
            data = json.loads(report)
            print(f"      findings: {len(data['findings'])} in {len(data['checked'])} checked")
            listing = sorted(_rss_run([*OMG, "list"], env)[0] for _ in range(5))
            print(f"scale omg list (the same CLI start-up, same store): median "
                  f"{statistics.median(listing):.0f} ms")
        base = sorted(_rss_run([sys.executable, "-c", "pass"], env)[0] for _ in range(5))
        print(f"scale python -c pass: median {statistics.median(base):.0f} ms")


if __name__ == "__main__":
    main()
