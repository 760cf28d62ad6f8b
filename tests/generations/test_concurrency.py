"""Invariants 2 and 3 under contention: use/rollback/store add against a looping gc.

Several processes loop `use`/`rollback` on one profile (some as omg/fast.py runs
them, without the index's copy of generation records), one installs new versions
through a resolver (as a provider would: inside `use`, under the shared gc lock)
and adds unrooted paths, while others loop `gc`. Afterwards every generation's
closure is in the store, the profile points at a complete generation, and the
generation numbers handed out are exactly 1..N: none lost, none reused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generations import profile as gp
from omg import profiles as P

from .helpers import USER, World

WORKER = r"""
import json, random, sys
from pathlib import Path
from omg import profiles as P
from store.errors import NotFound, Busy
from store.layout import Layout
from store.local import LocalStore
from tests.generations.helpers import USER, add_tool

role, root, seed = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
layout = Layout(root / "omg")
store = LocalStore(layout, user=USER)
home = P.Home(layout, USER, index=store.index)
door = P.Home(layout, USER, index=store.index, mirror=False)  # as omg/fast.py runs it
made = []
for i in range(25):
    if role == "gc":
        P.gc(layout, store=store)
        continue
    if role in ("user", "door"):
        h = door if role == "door" else home
        spec = rng.choice(["node@1", "node@2", "python@3", "node@latest"])
        try:
            r = P.use(h, [spec])
            if not r.unchanged:
                made.append(r.generation)
        except NotFound:
            pass
        if rng.random() < 0.4:
            try:
                P.rollback(h)
            except NotFound:
                pass
    if role == "installer":
        version = f"9.{seed}.{i}"
        def install(spec, version=version):
            name = add_tool(store, root / f"w{seed}", "ruby", version)
            return P.ResolvedTool("ruby", version, name)
        r = P.use(home, [f"ruby@{version}"], resolver=install)
        made.append(r.generation)
        add_tool(store, root / f"w{seed}", "junk", f"{seed}.{i}")  # unrooted: fair game
home.close()
print(json.dumps(made))
"""


@pytest.mark.slow
def test_use_rollback_add_against_gc(tmp_path: Path) -> None:
    w = World(tmp_path)
    for tool, version in (("node", "1.0.0"), ("node", "2.0.0"), ("python", "3.12.0")):
        w.add(tool, version)
    P.use(w.home, ["node@1", "python@3"])
    w.close()
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    roles = ["user", "door", "door", "installer", "gc", "gc"]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, role, str(tmp_path), str(i)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for i, role in enumerate(roles)]
    made: list[int] = [1]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        made += json.loads(out.strip().splitlines()[-1])
    print("generations made:", len(made))
    # numbers: none reused, none lost
    assert len(made) == len(set(made))
    assert sorted(made) == list(range(1, len(made) + 1))
    w = World(tmp_path)
    try:
        ref = w.home.ref()
        assert [g.number for g in gp.generations(ref)] == sorted(made)
        names = set(w.store.names())
        for g in gp.generations(ref):
            assert w.store.closure([g.env]) <= names, f"generation {g.number} lost a path"
        cur = gp.current_number(ref)
        assert cur in made
        link = w.layout.profiles / USER / "default"
        for entry in (link / "bin").iterdir():
            assert entry.exists(), f"dangling {entry}"
        assert gp.check(w.layout) == []
        # every installed ruby is still there: each is in some generation
        rubies = {v for v, _, _ in P.installed_tools(w.home).get("ruby", [])}
        assert len(rubies) == 25
    finally:
        w.close()


LOOPER = r"""
import sys
from pathlib import Path
from omg import profiles as P
from store.layout import Layout
from tests.generations.helpers import USER

home = P.Home(Layout(Path(sys.argv[1]) / "omg"), USER)
specs = (["node@1"], ["node@2"], ["python@3"])
P.use(home, specs[0])  # a generation exists before any kill: "none yet" is not a fault
i = 1
print("ready", flush=True)
while True:
    P.use(home, specs[i % 3])
    i += 1
"""


@pytest.mark.slow
def test_kill_9_during_use_leaves_a_complete_generation(tmp_path: Path) -> None:
    """Fault injection for invariant 2: SIGKILL at random points of a `use` loop."""
    import random
    import signal
    import time

    w = World(tmp_path)
    for tool, version in (("node", "1.0.0"), ("node", "2.0.0"), ("python", "3.12.0")):
        w.add(tool, version, [tool, "shared"])
    w.close()
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    rng = random.Random(7)
    for _ in range(8):
        p = subprocess.Popen([sys.executable, "-c", LOOPER, str(tmp_path)], env=env,
                             stdout=subprocess.PIPE, text=True)
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.01, 0.3))
        p.send_signal(signal.SIGKILL)
        p.wait()
        w = World(tmp_path)
        try:
            ref = w.home.ref()
            cur = gp.current_number(ref)
            assert cur is not None
            link = w.layout.profiles / USER / "default"
            assert (link / "manifest.json").is_file()
            assert all(e.exists() for e in (link / "bin").iterdir())
            assert gp.check(w.layout) == []
            before = [g.number for g in gp.generations(ref)]
            assert before == sorted(set(before))
            r = P.use(w.home, ["python@3"])  # the next use still works
            # (a use killed after taking its number skips it: numbers are never reused)
            assert (r.unchanged and r.generation == cur) or r.generation > max(before)
        finally:
            w.close()
