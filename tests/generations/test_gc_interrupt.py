"""gc interrupted at any point: every store path stays whole or goes (invariants 1, 3).

Real `omg gc` processes are killed with SIGKILL, or sent SIGINT or SIGTERM, at
random points of a sweep over thousands of files; after each, `omg store
verify` passes, nothing a root reaches is gone, `omg use` links live tools,
and the next gc empties the trash.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store.layout import Layout
from store.local import LocalStore
from tests.conftest import OmgEnv, sigint_as_from_a_terminal

from .helpers import cli_add


def _dead_paths(layout: Layout, root: Path, tag: str, count: int = 40,
                files: int = 150) -> list[str]:
    """`count` unrooted store paths of `files` files each (in two directories)."""
    store = LocalStore(layout)
    try:
        out = []
        for i in range(count):
            src = root / f"dead-{tag}-{i}"
            for sub in ("a", "b/c"):
                (src / sub).mkdir(parents=True)
                for j in range(files // 2):
                    (src / sub / f"f{j}").write_text(f"{tag} {i} {sub} {j}\n")
            out.append(store.add(src, "junk", f"{tag}.{i}").record.path)
            shutil.rmtree(src)  # only the store's copy matters; tmp_path teardown stays quick
        return out
    finally:
        store.close()


def _start_gc(env: OmgEnv) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "omg", "gc"], env=env.env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=sigint_as_from_a_terminal)


def _store_ls(env: OmgEnv) -> set[str]:
    return {r["store_path"]["name"] for r in json.loads(env.run("store", "ls", "--json",
                                                  check=True).stdout)}


def _pool_garbage(layout: Layout) -> list[str]:
    return [e.name for e in os.scandir(layout.links) if e.stat().st_nlink == 1]


@pytest.mark.slow
def test_gc_killed_or_interrupted_at_random_points(omg_env: OmgEnv) -> None:
    env, layout = omg_env, omg_env.layout
    cli_add(env, "node", "1.0.0")
    cli_add(env, "node", "2.0.0")
    env.run("use", "node@1.0.0", check=True)
    env.run("use", "node@2.0.0", check=True)
    live = set(env.store().names())
    rng = random.Random(7)
    signals = [signal.SIGKILL, signal.SIGINT, signal.SIGTERM] * 4
    interrupted = 0
    made: set[str] = set()
    for round_no, sig in enumerate(signals):
        made.update(_dead_paths(layout, env.root / "src", str(round_no)))
        before = set(env.store().names())
        proc = _start_gc(env)
        time.sleep(rng.uniform(0.05, 0.9))
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        if proc.returncode == -sig and sig != signal.SIGKILL:
            # No handler at the time: Python was still starting (nothing collected), or
            # the collection had finished and the handler was gone (all collected).
            assert set(env.store().names()) in (before, live), err
        elif sig == signal.SIGKILL:
            assert proc.returncode in (0, -signal.SIGKILL), err
        else:
            assert proc.returncode in (0, 130), (sig, proc.returncode, err)
            if proc.returncode == 130:
                interrupted += 1
                lines = err.strip().splitlines()
                assert len(lines) == 1 and lines[0].startswith("error: "), err
                assert "interrupted" in lines[0]
        verify = env.run("store", "verify")
        assert verify.returncode == 0, (sig, verify.stderr)
        on_disk = set(env.store().names())
        assert live <= on_disk
        assert _store_ls(env) == on_disk
        assert on_disk - live <= made  # garbage goes, or stays whole for the next gc
        version = "1.0.0" if round_no % 2 else "2.0.0"
        used = env.run("use", f"node@{version}", check=True)
        assert f"node {version}" in used.stdout
        assert env.run("which", "node", check=True).stdout.strip().startswith(
            str(layout.store))
    assert interrupted, "no SIGINT or SIGTERM landed during a collection"
    final = env.run("gc", check=True)
    assert " deleted, " in final.stdout
    trash = layout.store / ".trash"
    assert not trash.exists() or os.listdir(trash) == []
    assert _pool_garbage(layout) == []
    assert sorted(n for n in os.listdir(layout.store) if n.endswith(".meta")) == \
        sorted(n + ".meta" for n in env.store().names())
    assert env.run("store", "verify").returncode == 0
    assert env.run("doctor").returncode == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_sweep_stops_it_with_exit_130(omg_env: OmgEnv,
                                                          sig: signal.Signals) -> None:
    """The signal is caught in the sweep (the trash exists): 130, one line, and the
    store whole; old code either died of SIGTERM or exited 0 on SIGINT."""
    env, layout = omg_env, omg_env.layout
    _dead_paths(layout, env.root / "src", "x", count=60, files=200)
    proc = _start_gc(env)
    trash = layout.store / ".trash"
    deadline = time.monotonic() + 60
    while not trash.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.startswith("error: gc interrupted: ") and err.count("\n") == 1, err
    assert env.run("store", "verify").returncode == 0
    env.run("gc", check=True)
    assert os.listdir(trash) == []
    assert env.store().names() == []
