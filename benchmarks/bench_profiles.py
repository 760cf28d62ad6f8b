"""Profiles, shims and gc: each figure (README, "Benchmarks") printed beside its baseline.

    .venv/bin/python benchmarks/bench_profiles.py [--runs N] [--quick]

- `omg use` between two installed versions and `omg rollback`, whole process,
  against `python -c pass` (goal <= 2x), beside `mise use -g` between two versions
  mise has installed (npm `@jdxcode/mise-linux-x64`) and `nix-env
  --switch-generation` (Debian's nix-bin) between two generations, each against
  python in a series of its own; the swap alone in microseconds;
- shim overhead: `node --version` (a real Node from the npm registry) through
  the profile's bin against the store binary (goal ratio <= 1.05);
- shell start-up added by `omg init bash --static` (goal < 2 ms; the pasted lines
  beside it) and the hook's cost per prompt, outside and inside a project whose
  version files did not change (goal < 0.2 ms), and after a cd (goal < 200 µs);
- `omg gc` over 100, 1,000 and 10,000 store paths, half dead (goal < 1 s at 1,000).

Subprocesses run with bytecode writing allowed (as an installed omg has its
.pyc files); one warm-up run precedes each measured series.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

VENV_BIN = Path(sys.executable).parent
OMG = [str(VENV_BIN / "omg")] if (VENV_BIN / "omg").exists() else [sys.executable, "-m", "omg"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OMG_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["OMG_HOME"] = str(home)
    env["XDG_DATA_HOME"] = str(home.parent / "data")
    env["XDG_CONFIG_HOME"] = str(home.parent / "config")
    # The user's own version and support caches would make `use` warn of newer
    # releases (and load the policy's modules) for the fake versions measured here.
    env["XDG_CACHE_HOME"] = str(home.parent / "cache")
    return env


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = (time.perf_counter() - t) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()}")
    return took


def interleaved(series: dict[str, list[str]], env: dict[str, str], runs: int
                ) -> dict[str, float]:
    """Median wall time in ms of each command, run in turn (one warm-up round first).

    Interleaving puts the baseline and omg under the same load: on a shared
    machine, series run one after the other drift apart by more than the figure.
    """
    times: dict[str, list[float]] = {name: [] for name in series}
    for i in range(runs + 1):
        for name, cmd in series.items():
            took = _timed(cmd, env)
            if i:
                times[name].append(took)
    return {name: statistics.median(t) for name, t in times.items()}


def fake_runtime(root: Path, version: str) -> Path:
    d = root / f"node-{version}"
    (d / "bin").mkdir(parents=True)
    (d / "lib" / "node_modules").mkdir(parents=True)
    (d / "bin" / "node").write_text(f"#!/bin/sh\necho v{version}\n")
    (d / "bin" / "node").chmod(0o755)
    return d


def bench_use(tmp: Path, runs: int) -> None:
    home = tmp / "use" / "omg"
    env = _env(home)
    for v in ("20.1.0", "20.2.0"):
        src = fake_runtime(tmp / "use", v)
        subprocess.run([*OMG, "store", "add", str(src), "--name", "node", "--version", v],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*OMG, "use", "node@20.1.0"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*OMG, "use", "node@20.2.0"], env=env, check=True, stdout=subprocess.DEVNULL)
    # Each round: a new generation (20.2.0 -> 20.1.0), then a real switch back to 2.
    series = {"base": [sys.executable, "-c", "pass"],
              "use": [*OMG, "use", "node@20.1.0"],
              "rollback": [*OMG, "rollback", "--to", "2"],
              "current": [*OMG, "current"]}
    got = interleaved(series, env, runs)
    base, use, rb, cur = got["base"], got["use"], got["rollback"], got["current"]
    than = "mise use -g 18 ms = 2.0x where python took 9 ms"
    mise = _mise(tmp)
    if mise is not None:
        # The same switch with mise, between versions it has installed; a series of its
        # own, so that its 80-100 ms runs do not disturb the one above.
        mise_env = {**env, **_mise_home(tmp / "mise-use", ("20.1.0", "20.2.0"))}
        alone = interleaved({"base": series["base"],
                             "a": [mise, "use", "-g", "node@20.1.0"],
                             "b": [mise, "use", "-g", "node@20.2.0"]}, mise_env, runs)
        m = (alone["a"] + alone["b"]) / 2
        than = (f"mise use -g {m:.1f} ms = {m / alone['base']:.2f}x python, "
                f"mise {_mise_version(mise)}")
    print(f"python -c pass (baseline)      {base:7.1f} ms")
    print(f"omg use (installed versions)   {use:7.1f} ms  = {use / base:.2f}x python "
          f"(goal <= 2x; {than})")
    nix = _nix_switch(tmp / "nix-use", env, runs)
    print(f"omg rollback                   {rb:7.1f} ms  = {rb / base:.2f}x python "
          f"(goal <= 2x; {nix})")
    print(f"omg current                    {cur:7.1f} ms  = {cur / base:.2f}x python "
          f"(goal <= 2x)")
    print(f"  (through {OMG[0]}: omg's own launcher, scripts/omg)")
    subprocess.run([*OMG, "rollback", "--to", "1"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    for args in (["use", "node@20.2.0"], ["rollback"]):  # as timed: 1 -> 20.2.0, then back
        print(f"omg {args[0]:<9} modules imported beyond python's own: {_imports(args, env)}")

    from generations import profile as gp
    from store.fsutil import atomic_symlink

    ref = gp.ProfileRef.user_profile(str(home), os.environ.get("USER") or _user(), "bench")
    os.makedirs(ref.directory, exist_ok=True)
    for n in (1, 2):
        os.symlink("../../store/x", ref.gen_link(n))
    samples = []
    for i in range(2000):
        t = time.perf_counter_ns()
        gp.switch(ref, 1 + i % 2)
        samples.append(time.perf_counter_ns() - t)
    swap = statistics.median(samples) / 1000
    print(f"the swap, rename(2) + fsync of the profile dir {swap:7.1f} µs")
    bare = []
    for i in range(2000):
        t = time.perf_counter_ns()
        atomic_symlink(os.path.basename(ref.gen_link(1 + i % 2)), ref.link)
        bare.append(time.perf_counter_ns() - t)
    print(f"the swap alone (symlink + rename(2))         {statistics.median(bare) / 1000:7.1f} µs")


#: Runs omg's main() and prints the modules it imported and which tier answered.
_PROBE = """
import sys
before = set(sys.modules)
from omg.entry import main
rc = main(sys.argv[1:])
new = set(sys.modules) - before
heavy = {"re", "json", "typing", "pathlib", "lmdb", "store.local", "typer"} & new
print(len(new), "(the catalogue's answer)" if not heavy
      else "(planned: " + ", ".join(sorted(heavy)) + ")", file=sys.stderr)
sys.exit(rc)
"""


def _imports(args: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "?"


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def bench_shim(tmp: Path, runs: int) -> None:
    try:
        _tests_on_path()
        from support.realbin import node_tree  # type: ignore[import-not-found]

        src = tmp / "realnode"
        node_tree("20.10.0", src, with_npm=False)
    except Exception as exc:  # no network, no cache
        print(f"shim overhead: skipped (no real Node: {exc})")
        return
    home = tmp / "shim" / "omg"
    env = _env(home)
    subprocess.run([*OMG, "store", "add", str(src), "--name", "node", "--version", "20.10.0"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*OMG, "use", "node@20.10.0"], env=env, check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run([*OMG, "which", "node"], env=env, check=True, capture_output=True,
                         text=True).stdout.strip()
    direct = out
    via = str(home / "profiles" / _user() / "default" / "bin" / "node")
    n = max(runs, 30)
    # Interleave so load changes hit both series alike.
    a: list[float] = []
    b: list[float] = []
    for _ in range(n):
        for cmd, acc in (([direct, "--version"], a), ([via, "--version"], b)):
            t = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
            acc.append((time.perf_counter() - t) * 1000)
    da, db = statistics.median(a), statistics.median(b)
    print(f"node --version, store binary   {da:7.1f} ms")
    print(f"node --version, profile bin    {db:7.1f} ms  ratio {db / da:.3f} "
          f"(goal <= 1.05; {_mise_shim(tmp, runs)}, pyenv's shim +54 ms as reported)")


def _mise_shim(tmp: Path, runs: int) -> str:
    """What mise's shim adds to a program it starts (`mise reshim`: a link to mise)."""
    mise = _mise(tmp)
    if mise is None:
        return "mise's shim +9 ms as reported"
    env = {**os.environ, **_mise_home(tmp / "mise-shim", ("20.1.0",))}
    subprocess.run([mise, "use", "-g", "node@20.1.0"], env=env, check=True,
                   capture_output=True)
    subprocess.run([mise, "reshim"], env=env, check=True, capture_output=True)
    data = Path(env["MISE_DATA_DIR"])
    got = interleaved({"direct": [str(data / "installs/node/20.1.0/bin/node"), "--version"],
                       "shim": [str(data / "shims/node"), "--version"]}, env, max(runs, 30))
    return f"mise {_mise_version(mise)}'s shim {got['shim'] - got['direct']:+.1f} ms"


def bench_shell(tmp: Path, runs: int) -> None:
    home = tmp / "shell" / "omg"
    env = _env(home)
    init = subprocess.run([*OMG, "init", "bash"], env=env, check=True, capture_output=True,
                          text=True).stdout
    rc_plain = tmp / "rc-plain"
    rc_plain.write_text("")
    rc_omg = tmp / "rc-omg"
    rc_omg.write_text(init)
    rc_static = tmp / "rc-static"
    rc_static.write_text(subprocess.run([*OMG, "init", "bash", "--static"], env=env, check=True,
                                        capture_output=True, text=True).stdout)
    n = max(runs, 40)
    rcs = {"plain": rc_plain, "pasted": rc_omg, "static": rc_static}
    mise = _mise(tmp)
    if mise is not None:  # mise's own rc line, as its docs give it
        env = {**env, "MISE_DATA_DIR": str(tmp / "mise-data"),
               "MISE_CONFIG_DIR": str(tmp / "mise-config"),
               "MISE_CACHE_DIR": str(tmp / "mise-cache"), "MISE_STATE_DIR": str(tmp / "mise-st")}
        rc_mise = tmp / "rc-mise"
        rc_mise.write_text(f'eval "$({mise} activate bash)"\n')
        rcs["mise"] = rc_mise
    took: dict[str, list[float]] = {name: [] for name in rcs}
    for _ in range(n):  # interleaved: the three under the same load
        for name, rc in rcs.items():
            t = time.perf_counter()
            subprocess.run(["bash", "--rcfile", str(rc), "-i", "-c", "exit"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            took[name].append((time.perf_counter() - t) * 1000)
    da, db, dc = (statistics.median(took[name]) for name in ("plain", "pasted", "static"))
    print(f"bash -i -c exit, plain         {da:7.2f} ms")
    print(f"bash -i -c exit, omg init      {db:7.2f} ms  adds {db - da:+.2f} ms "
          f"(the lines pasted in the rc file)")
    print(f"bash -i -c exit, init --static {dc:7.2f} ms  adds {dc - da:+.2f} ms (goal < 2 ms)")
    if mise is not None:
        dm = statistics.median(took["mise"])
        print(f"bash -i -c exit, mise activate {dm:7.2f} ms  adds {dm - da:+.2f} ms "
              f"(mise {_mise_version(mise)}, npm @jdxcode/mise-linux-x64)")
    deep = tmp / "shell" / "a" / "b" / "c" / "d" / "e"
    deep.mkdir(parents=True)
    # A project with its profile and stamp: each prompt there stats its version files.
    proj = tmp / "shell" / "proj"
    proj.mkdir()
    src = fake_runtime(tmp / "shell", "20.1.0")
    for args in (["store", "add", str(src), "--name", "node", "--version", "20.1.0"],
                 ["use", "--local", "node@20.1.0"], ["sync"]):
        subprocess.run([*OMG, *args], env=env, cwd=proj, check=True, stdout=subprocess.DEVNULL)
    script = f"""
{init}
n=20000
s=$EPOCHREALTIME; for ((i=0;i<n;i++)); do __omg_hook; done; e=$EPOCHREALTIME
same=$(( (${{e/./}} - ${{s/./}}) ))
s=$EPOCHREALTIME; for ((i=0;i<n;i++)); do :; done; e=$EPOCHREALTIME
empty=$(( (${{e/./}} - ${{s/./}}) ))
m=2000
s=$EPOCHREALTIME
for ((i=0;i<m;i++)); do if ((i%2)); then cd {deep}; else cd {tmp}; fi; __omg_hook; done
e=$EPOCHREALTIME
moved=$(( (${{e/./}} - ${{s/./}}) ))
s=$EPOCHREALTIME
for ((i=0;i<m;i++)); do if ((i%2)); then cd {deep}; else cd {tmp}; fi; done
e=$EPOCHREALTIME
cdonly=$(( (${{e/./}} - ${{s/./}}) ))
cd {proj}; __omg_hook
[[ -n "$__omg_stamp" ]] || exit 1
s=$EPOCHREALTIME; for ((i=0;i<n;i++)); do __omg_hook; done; e=$EPOCHREALTIME
inproj=$(( (${{e/./}} - ${{s/./}}) ))
echo "$same $empty $n $moved $cdonly $m $inproj"
"""
    out = subprocess.run(["bash", "--norc", "-c", script], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    same, empty, nn, moved, cdonly, m, inproj = map(int, out)
    per_prompt = (same - empty) / nn
    per_cd = (moved - cdonly) / m
    print(f"cd hook per prompt, same dir   {per_prompt:7.2f} µs  (goal < 200 µs)")
    if mise is not None:
        print(f"mise hook per prompt, same dir {_mise_prompt(mise, env, tmp):7.2f} µs  "
              "(its PROMPT_COMMAND runs `mise hook-env`, a process, each time)")
    print(f"per prompt in a project        {(inproj - empty) / nn:7.2f} µs  (version files "
          f"unchanged: [[ -nt ]] against the stamp; goal < 200 µs)")
    print(f"cd hook after a cd (6 levels)  {per_cd:7.2f} µs  (walk up, [[ -e ]] only)")


MISE_VERSION = "2026.9.15"


def _mise(tmp: Path) -> str | None:
    """mise from the npm registry (cached like the real Node), or None without it."""
    if (tmp / "mise" / "bin" / "mise").exists():  # unpacked by an earlier figure
        return str(tmp / "mise" / "bin" / "mise")
    try:
        _tests_on_path()
        from support.realbin import (
            _safe_extract_package,
            npm_tarball,
        )

        dest = tmp / "mise"
        _safe_extract_package(npm_tarball("@jdxcode/mise-linux-x64", MISE_VERSION), dest)
    except Exception as exc:  # no network, no cache
        print(f"mise: skipped ({exc})")
        return None
    binary = dest / "bin" / "mise"
    binary.chmod(0o755)
    return str(binary)


def _nix_switch(root: Path, env: dict[str, str], runs: int) -> str:
    """`nix-env --switch-generation` between two generations of a profile of its own (a
    chroot store: ``--store local?root=``), against python in a series of its own."""
    if shutil.which("nix-env") is None:
        return "nix-env --switch-generation 20 ms = 2.2x where python took 9 ms (no Nix here)"
    (root / "conf").mkdir(parents=True)
    (root / "conf" / "nix.conf").write_text("build-users-group =\n")
    env = {**env, "NIX_CONF_DIR": str(root / "conf")}
    store = f"local?root={root / 'root'}"
    profile = root / "profiles" / "profile"
    profile.parent.mkdir()
    for v in ("20.1.0", "20.2.0"):
        src = fake_runtime(root / "src", v)
        path = subprocess.run(["nix-store", "--store", store, "--add", str(src)], env=env,
                              check=True, capture_output=True, text=True).stdout.strip()
        subprocess.run(["nix-env", "--store", store, "-p", str(profile), "--set", path],
                       env=env, check=True, capture_output=True)
    switch = ["nix-env", "--store", store, "-p", str(profile), "--switch-generation"]
    got = interleaved({"base": [sys.executable, "-c", "pass"], "a": [*switch, "1"],
                       "b": [*switch, "2"]}, env, runs)
    n = (got["a"] + got["b"]) / 2
    return f"nix-env --switch-generation {n:.1f} ms = {n / got['base']:.2f}x python"


def _tests_on_path() -> None:
    """tests/ last on sys.path, for `support.realbin`: first, its `generations` test
    package would hide omg's own."""
    if str(REPO / "tests") not in sys.path:
        sys.path.append(str(REPO / "tests"))


def _mise_home(root: Path, versions: tuple[str, ...]) -> dict[str, str]:
    """mise's directories under `root`, with node `versions` installed as `mise install`
    lays them out (so `mise use` switches offline: ``MISE_OFFLINE``)."""
    for v in versions:
        node = root / "data" / "installs" / "node" / v / "bin" / "node"
        node.parent.mkdir(parents=True)
        node.write_text(f"#!/bin/sh\necho v{v}\n")
        node.chmod(0o755)
    return {"MISE_DATA_DIR": str(root / "data"), "MISE_CONFIG_DIR": str(root / "config"),
            "MISE_CACHE_DIR": str(root / "cache"), "MISE_STATE_DIR": str(root / "state"),
            "MISE_OFFLINE": "1"}


def _mise_version(mise: str) -> str:
    return subprocess.run([mise, "--version"], capture_output=True, text=True).stdout.split()[0]


def _mise_prompt(mise: str, env: dict[str, str], tmp: Path) -> float:
    """µs per prompt of mise's hook in an unchanged directory (bash)."""
    m = 100
    script = f"""
eval "$({mise} activate bash)"
cd {tmp}; _mise_hook
s=$EPOCHREALTIME; for ((i=0;i<{m};i++)); do _mise_hook; done; e=$EPOCHREALTIME
echo $(( (${{e/./}} - ${{s/./}}) ))
"""
    out = subprocess.run(["bash", "--norc", "-c", script], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[-1]) / m


def bench_gc(tmp: Path, sizes: list[int]) -> None:
    from store.layout import Layout
    from store.local import LocalStore

    last = None
    for size in sizes:
        home = tmp / f"gc{size}" / "omg"
        layout = Layout(home)
        store = LocalStore(layout)
        src = tmp / f"gc{size}" / "src"
        roots = layout.gcroots / "bench"
        roots.mkdir(parents=True)
        t0 = time.perf_counter()
        for i in range(size):
            d = src / str(i)
            d.mkdir(parents=True)
            (d / "f").write_text(f"content {i}\n")
            rec = store.add(d, "pkg", f"1.{i}").record
            if i % 2 == 0:
                os.symlink(str(layout.store_path(rec.path)), roots / rec.path)
        store.close()
        setup = time.perf_counter() - t0
        env = _env(home)
        t = time.perf_counter()
        proc = subprocess.run([*OMG, "gc"], env=env, capture_output=True, text=True)
        took = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        left = len(LocalStore(layout).names())
        growth = f"  x{took / last[1]:.1f} for x{size / last[0]:.0f} paths" if last else ""
        print(f"omg gc, {size:>6} paths, half dead {took * 1000:8.0f} ms  ({left} kept; "
              f"setup {setup:.0f} s){growth}" + ("  (goal < 1 s)" if size == 1000 else ""))
        last = (size, took)
        shutil.rmtree(home.parent, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--quick", action="store_true", help="gc at 100 and 1,000 paths only")
    ap.add_argument("--only", choices=["use", "shim", "shell", "gc"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="omg-bench-") as d:
        tmp = Path(d)
        if args.only in (None, "use"):
            bench_use(tmp, args.runs)
        if args.only in (None, "shim"):
            bench_shim(tmp, args.runs)
        if args.only in (None, "shell"):
            bench_shell(tmp, args.runs)
        if args.only in (None, "gc"):
            bench_gc(tmp, [100, 1000] if args.quick else [100, 1000, 10000])
        # Store paths are read-only directories: make them removable.
        subprocess.run(["chmod", "-R", "u+w", d], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
