"""`omg install` keeps what it installed (generations/installroots.py), as a user runs
it: real `omg` processes on a local mirror, real `omg gc` processes racing installs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from store.locks import gc_lock
from tests.conftest import OmgEnv


def _cli(omg_env: OmgEnv, mirror_env: dict[str, str]) -> OmgEnv:
    omg_env.env.update(mirror_env)
    return omg_env


def _gc(env: OmgEnv) -> list[str]:
    return [p["name"] for p in json.loads(env.run("gc", "--json", check=True).stdout)["dead"]]


def _root(env: OmgEnv, name: str) -> str:
    user = os.listdir(env.home / "gcroots")[0]
    return f"{env.home}/gcroots/{user}/installs/{name}"


def test_install_gc_uninstall_gc(omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    env = _cli(omg_env, mirror_env)
    [node] = json.loads(env.run("install", "node@22", "--json", check=True).stdout)
    path = os.path.basename(os.readlink(_root(env, f"node@{node['version']}")))
    assert (env.home / "store" / path / "bin" / "node").is_file()
    assert _gc(env) == []  # in no profile, but installed: kept
    listed = env.run("list", "node", check=True).stdout.splitlines()
    assert len(listed) == 1 and listed[0].endswith("  kept") and node["version"] in listed[0]
    out = env.run("uninstall", f"node@{node['version']}", check=True).stdout
    assert out.splitlines() == [
        f"no longer kept: node@{node['version']}",
        "omg gc frees what nothing else holds (older generations keep theirs)"]
    assert not env.run("list", "node", check=True).stdout.rstrip().endswith("kept")
    assert _gc(env) == [path]
    assert env.run("list", "node", check=True).stdout == ""


def test_uninstall_bad_input_is_one_line_and_changes_nothing(omg_env: OmgEnv,
                                                            mirror_env: dict[str, str]) -> None:
    env = _cli(omg_env, mirror_env)
    env.run("install", "node@22", check=True)
    before = sorted(os.listdir(os.path.dirname(_root(env, "x"))))
    for args, code in ((("nosuch",), 3), (("node@18",), 3), (("node@>>1",), 2),
                       (("../x",), 2), ((), 2), (("node", "go"), 3)):
        proc = env.run("uninstall", *args)
        assert proc.returncode == code, (args, proc.stderr)
        if args:
            assert proc.stderr.startswith("error: ") and proc.stdout == "", args
    assert proc.stderr.splitlines()[0] == (
        "error: go is neither installed nor in default (it holds nothing)")
    assert sorted(os.listdir(os.path.dirname(_root(env, "x")))) == before
    assert "no generations yet" in env.run("current", check=True).stdout


def test_install_waits_for_a_running_gc(omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    """A collection in progress (the exclusive gc lock) holds back the install's choice of
    a store path, so it never roots a path gc is deleting; it goes on once gc is done."""
    env = _cli(omg_env, mirror_env)
    [node] = json.loads(env.run("install", "node@22", "--json", check=True).stdout)
    root = _root(env, f"node@{node['version']}")
    kept = os.readlink(root)
    env.run("uninstall", "node", check=True)  # in the store, unrooted: garbage
    with gc_lock(env.home, exclusive=True):
        proc = subprocess.Popen([sys.executable, "-m", "omg", "install", "node@22"],
                                env=env.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            time.sleep(1.0)
            assert proc.poll() is None and not os.path.lexists(root)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert os.path.isdir(os.readlink(root)) and os.readlink(root) == kept


def test_installs_racing_gc_always_leave_a_live_root(omg_env: OmgEnv,
                                                    mirror_env: dict[str, str]) -> None:
    env = _cli(omg_env, mirror_env)
    [node] = json.loads(env.run("install", "node@22", "--json", check=True).stdout)
    root = _root(env, f"node@{node['version']}")
    for _ in range(4):
        env.run("uninstall", "node", check=True)
        procs = [subprocess.Popen([sys.executable, "-m", "omg", *args], env=env.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for args in (("gc",), ("install", "node@22"), ("gc",))]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
        # Whichever ran first, the root ends pointing at a whole store path.
        assert os.path.isfile(os.path.join(os.readlink(root), "bin", "node"))
        assert _gc(env) == []
