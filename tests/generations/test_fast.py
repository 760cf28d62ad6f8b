"""The hot commands' door (omg/fast.py) and the catalogue's answers inside the use cases.

`omg use`, `rollback` and `current` go through omg/fast.py to the same use cases
the typer CLI runs; what makes them cheap is the catalogue, consulted inside
`omg.profiles.use`. These tests hold the door to the typer CLI (the same lines,
the same files, byte for byte), check that an answer from the catalogue imports
nothing heavy (no pathlib/typing/re/json/LMDB, no planner, no typer), that a
stale answer is never used (a new version in the store, an env collected by
gc), and that the door takes the same locks.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generations import links
from generations import profile as gp
from generations.catalogue import Catalogue
from omg import config, fast
from omg import profiles as P
from tests.conftest import OmgEnv

from .helpers import USER, World, cli_add

#: Runs the console script's main() and says on stderr whether the catalogue answered
#: ("hit": nothing heavy was imported) or the use case planned ("miss").
TIERED = """
import sys
before = set(sys.modules)
from omg.entry import main
rc = main(sys.argv[1:])
heavy = sorted({'pathlib', 'typing', 're', 'json', 'shlex', 'lmdb', 'omg.config',
                'store.layout', 'store.local', 'store.index', 'generations.envstore',
                'omg.daemon.client', 'socket', 'typer', 'rich', 'generations.env',
                'omg.exports'}
               & (set(sys.modules) - before))
print('TIER', 'hit' if not heavy else 'miss', heavy, file=sys.stderr)
sys.exit(rc)
"""
TYPER = "import sys; from omg.cli import run; sys.exit(run(sys.argv[1:]))"


def run(env: OmgEnv, *args: str, script: str = TIERED) -> tuple[str, str]:
    """(stdout, tier) of one `omg ARGS`; tier is "hit", "miss" or "" (typer CLI)."""
    proc = subprocess.run([sys.executable, "-c", script, *args], env=env.env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    tier = next((line.split()[1] for line in proc.stderr.splitlines()
                 if line.startswith("TIER ")), "")
    return proc.stdout, tier


def profile_dir(env: OmgEnv) -> Path:
    return env.home / "profiles" / config.current_user()


def picture(directory: Path) -> dict[str, object]:
    """Links and records of a profile directory; a record's time is left out."""
    out: dict[str, object] = {}
    for name in sorted(os.listdir(directory)):
        path = directory / name
        if name.endswith(".lock") or name.startswith("."):
            continue
        if path.is_symlink():
            out[name] = os.readlink(path)
        elif name.endswith(".json"):
            out[name] = {k: v for k, v in json.loads(path.read_text()).items() if k != "time"}
        else:
            out[name] = path.read_text()
    return out


ROUND = [["rollback", "--to", "1"], ["use", "python"], ["current"], ["use", "node@20"],
         ["rollback"], ["use", "node@18"], ["use", "python", "node@20.10.0"],
         ["use", "node@20.10.0"], ["rollback", "--to", "2"], ["current"],
         ["current", "--profile", "default"]]


def test_the_door_answers_as_the_typer_cli(env: OmgEnv) -> None:
    run(env, "use", "node@18")
    for args in ROUND:  # the first round plans, and teaches the catalogue
        run(env, *args, script=TYPER)
    twin = make_twin(env)
    door_out, typer_out = [], []
    for args in ROUND:
        out, tier = run(env, *args)
        assert tier == "hit", args
        door_out.append(out)
        typer_out.append(run(twin, *args, script=TYPER)[0])
    assert door_out == typer_out
    assert picture(profile_dir(env)) == picture(profile_dir(twin))
    # The records are json.dumps(record, sort_keys=True) byte for byte.
    for rec in profile_dir(env).glob("default-*.json"):
        raw = rec.read_bytes()
        assert raw == json.dumps(json.loads(raw), sort_keys=True).encode() + b"\n"
    assert gp.check(env.layout) == []


def make_twin(env: OmgEnv) -> OmgEnv:
    """A copy of `env`'s OMG_HOME under another root (links are relative: it works)."""
    from tests.conftest import make_env

    twin = make_env(env.root.parent / "twin")
    shutil.copytree(env.home, twin.home, symlinks=True)
    return twin


def test_an_answer_from_the_catalogue_imports_nothing_heavy(env: OmgEnv) -> None:
    run(env, "use", "node@18")
    run(env, "use", "node@20")
    run(env, "use", "node@18")  # now every answer is known
    for args in (["use", "node@20"], ["rollback"], ["rollback", "--to", "2"],
                 ["use", "node@18.19.0"], ["current"], ["current", "-p", "default"]):
        assert run(env, *args)[1] == "hit", args


def test_the_door_runs_without_the_collector_and_restores_it(
        env: OmgEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cyclic collector is off while a door answers (omg/entry.py), and on again
    after, for a caller that lives on (omgd's tests, this one)."""
    import gc

    from omg import fast
    from omg.entry import main

    during: list[bool] = []
    door = fast.run
    monkeypatch.setattr(fast, "run", lambda args: during.append(gc.isenabled()) or door(args))
    for key, value in env.env.items():
        if key.startswith(("OMG_", "XDG_")):
            monkeypatch.setenv(key, value)
    assert main(["current"]) == 0
    assert during == [False]
    assert gc.isenabled()


def test_a_new_version_in_the_store_is_never_missed(env: OmgEnv) -> None:
    run(env, "use", "node@18")
    run(env, "use", "node@20")
    assert run(env, "use", "node@18") == ("default: generation 3: node 18.19.0\n", "miss")
    run(env, "use", "node@20")
    assert run(env, "use", "node@18")[1] == "hit"
    cli_add(env, "node", "18.20.0")
    # The store has a path the catalogue does not know: the use case looks at the store.
    assert run(env, "use", "node@18") == ("default: generation 6: node 18.20.0\n", "miss")
    for _ in range(2):  # the second time from this env is known too
        out, tier = run(env, "use", "node@18")
        assert out == "default: node 18.20.0 already current (generation 6)\n"
    assert tier == "hit"


def test_an_env_collected_by_gc_is_built_again(env: OmgEnv) -> None:
    run(env, "use", "node@18", "python", "--profile", "keep")  # roots the tools, not the envs
    for spec in ("node@18", "node@20", "node@18", "node@20"):
        run(env, "use", spec)
    env.run("generations", "delete", "1", "3", check=True)
    assert " deleted, " in env.run("gc", check=True).stdout
    # The catalogue remembers (node 20 env, node@18) -> an env gc has just deleted.
    out, tier = run(env, "use", "node@18")
    assert (out, tier) == ("default: generation 5: node 18.19.0\n", "miss")
    node = profile_dir(env) / "default" / "bin" / "node"
    assert subprocess.run([node], capture_output=True, text=True).stdout.strip() == \
        "node node 18.19.0"
    assert gp.check(env.layout) == []


def test_the_doors_errors_are_the_typer_clis(env: OmgEnv) -> None:
    run(env, "use", "node@18")
    for args in (["rollback"], ["rollback", "--to", "7"]):
        proc = subprocess.run([sys.executable, "-c", TIERED, *args], env=env.env,
                              capture_output=True, text=True)
        typer = subprocess.run([sys.executable, "-c", TYPER, *args], env=env.env,
                               capture_output=True, text=True)
        assert proc.returncode == typer.returncode == 3
        assert proc.stderr.split("TIER")[0] == typer.stderr


def test_rollback_reads_links_not_records(tmp_path: Path) -> None:
    """A damaged record of some generation does not block a rollback."""
    w = World(tmp_path)
    try:
        w.add("node", "1.0.0")
        w.add("node", "2.0.0")
        for spec in ("node@1", "node@2", "node@1"):
            P.use(w.home, [spec])
        ref = w.home.ref()
        Path(ref.gen_record(1)).write_text("{not json")
        assert P.rollback(w.home).generation == 2
        assert P.rollback(w.home, to=1)[1:] == (2, 1, {"node": "1.0.0"})
        assert gp.current_number(ref) == 1
    finally:
        w.close()


DEBRIS = [".default.tmp-1", ".default.seq.tmp-22", ".default-7-link.tmp-3",
          ".default-12.json.tmp-4", ".defaultx.tmp-1", ".default-x-link.tmp-1",
          ".default-3-linkx.tmp-1", ".default.lock.tmp-1", ".work-1-link.tmp-1", "default-1-link"]


def test_debris_of_this_profile_only_is_cleaned(tmp_path: Path) -> None:
    """What a killed use/rollback of `default` leaves goes; look-alikes stay."""
    from generations import links

    d = tmp_path / "profiles" / USER
    d.mkdir(parents=True)
    for name in DEBRIS:
        (d / name).write_text("")
    links.clean_debris(str(d), "default")
    assert sorted(os.listdir(d)) == sorted([
        ".defaultx.tmp-1", ".default-x-link.tmp-1", ".default-3-linkx.tmp-1",
        ".default.lock.tmp-1", ".work-1-link.tmp-1", "default-1-link"])


@pytest.mark.parametrize(("target", "number"), [
    ("default-3-link", 3), ("default-03-link", 3), ("default--3-link", None),
    ("default-3", None), ("other-3-link", None), ("x/default-3-link", None),
    ("default-a-b-3-link", None), ("default-\u0663-link", None), ("-3-link", None),
    ("default-3-link/", None), ("default-\u00b2-link", None)])
def test_current_number_reads_only_our_links(tmp_path: Path, target: str,
                                             number: int | None) -> None:
    ref = gp.ProfileRef.user_profile(str(tmp_path), USER)
    os.makedirs(ref.directory)
    os.symlink(target, ref.link)
    assert gp.current_number(ref) == number
    assert links.current_number(ref.directory, "default") == number


ALPHABET = st.sampled_from(list("aZ09+_.-~@/*' \n$x\u0663é"))


@given(st.lists(st.text(ALPHABET, max_size=12), max_size=4))
def test_the_recorded_command_line_is_shlex_join(words: list[str]) -> None:
    """`command_line` is `shlex.join` without importing re on the hot path."""
    assert P.command_line(words) == shlex.join(words)


@pytest.mark.parametrize("omg_home", ["", "rel/omg", "/abs/omg/", "/abs/./x"])
@pytest.mark.parametrize("xdg", [True, False])
def test_settings_agree_with_config_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         omg_home: str, xdg: bool) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    environ = {"HOME": str(tmp_path / "h")}
    if omg_home:
        environ["OMG_HOME"] = omg_home
    if xdg:
        environ["XDG_DATA_HOME"] = str(tmp_path / "data")
        environ["XDG_CONFIG_HOME"] = str(tmp_path / "cfg")
    got = fast.lean_settings(environ)
    assert got is not None
    want = config.load(environ)
    assert Path(got[0]) == want.home and got[1] == want.user
    # With a config file the lean tier asks omg.config (it parses TOML).
    cfg = tmp_path / "omg.toml"
    cfg.write_text('home = "/from/config"\n')
    environ["OMG_CONFIG"] = str(cfg)
    got = fast.lean_settings(environ)
    assert got is not None and Path(got[0]) == config.load(environ).home
    cfg.write_text("home = [")
    assert fast.lean_settings(environ) is None  # the full CLI reports the bad file


def test_a_change_of_the_planner_code_drops_the_answers(env: OmgEnv,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Cached answers are the code's as much as the data's: new code, new answers."""
    from generations import catalogue

    for spec in ("node@18", "node@20", "node@18"):
        run(env, "use", spec)
    user = env.settings().user
    assert _catalogue(env, user).used("", []) is None
    cat = _catalogue(env, user)
    tool = cat.resolved("node", "20")
    assert tool is not None and cat.used(_cur_env(env), [tool]) is not None
    monkeypatch.setattr(catalogue, "code_stamp", lambda _sources: "another build")
    cat = _catalogue(env, user)
    assert cat.resolved("node", "20") is None  # the exact-version rule is not cached
    assert cat.resolved("node", "20.10.0") == tool and cat.used(_cur_env(env), [tool]) is None


def test_two_installations_keep_their_own_answers(env: OmgEnv,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Two omg installations (two code stamps) sharing one OMG_HOME: each saving its
    answers never drops the other's, so neither is knocked off the fast path."""
    from generations import catalogue

    for spec in ("node@18", "node@20", "node@18"):
        run(env, "use", spec)
    user = env.settings().user
    mine = _catalogue(env, user).resolved("node", "20")
    assert mine is not None
    monkeypatch.setattr(catalogue, "code_stamp",
                        lambda _sources: "the other installation")
    other = _catalogue(env, user)
    assert other.resolved("node", "20") is None
    other.remember_spec("node", "20", [mine[2]], mine[2])
    other.save()
    monkeypatch.undo()
    assert _catalogue(env, user).resolved("node", "20") == mine


def _catalogue(env: OmgEnv, user: str) -> Catalogue:
    """The catalogue as `omg use` opens it: with the use case's sources to stamp."""
    return Catalogue(str(env.home), user, sources=P.catalogue_sources())


def _cur_env(env: OmgEnv) -> str:
    ref = gp.ProfileRef.user_profile(str(env.home), config.current_user())
    n = gp.current_number(ref)
    assert n is not None
    return gp.env_of(ref, n)


def _uses(data: dict[str, Any]) -> dict[str, Any]:
    return next(iter(data["answers"].values()))["uses"]  # type: ignore[no-any-return]


def _specs(data: dict[str, Any]) -> dict[str, Any]:
    return next(iter(data["answers"].values()))["specs"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("damage", [
    lambda d: d["paths"].update({k: ["node", 20, {}] for k in d["paths"]}),
    lambda d: d["paths"].update({k: ["node", "20", []] for k in d["paths"]}),
    lambda d: _uses(d).update({k: [v[0], [["bin/x", "a"]]] for k, v in _uses(d).items()}),
    lambda d: _uses(d).update({k: [v[0], "x"] for k, v in _uses(d).items()}),
    lambda d: _uses(d).update({k: [7, []] for k in _uses(d)}),
    lambda d: _specs(d).update({k: [["x"], v[1]] for k, v in _specs(d).items()}),
    lambda d: d["answers"].update({k: {"uses": [], "specs": "x"} for k in d["answers"]}),
    lambda d: d.update(answers=[], paths=None),
])
def test_a_damaged_catalogue_only_costs_time(env: OmgEnv, damage: object) -> None:
    for spec in ("node@18", "node@20", "node@18"):
        run(env, "use", spec)
    cat = env.home / "profiles" / ".catalogue.json"
    data = json.loads(cat.read_text())
    damage(data)  # type: ignore[operator]
    cat.write_text(json.dumps(data))
    assert run(env, "use", "node@20")[0] == "default: generation 4: node 20.10.0\n"
    assert gp.check(env.layout) == []


@pytest.mark.parametrize("args, lock", [(["use", "node@18"], "gc"),
                                        (["use", "node@18"], "profile"),
                                        (["rollback"], "profile")])
def test_the_door_waits_for_the_locks(env: OmgEnv, args: list[str], lock: str) -> None:
    """Invariants 2 and 3: a `use` holds the profile lock and the gc lock shared,
    so it waits while gc (exclusive) or another use/rollback holds them."""
    import fcntl
    import time

    for spec in ("node@18", "node@20", "node@18", "node@20"):
        run(env, "use", spec)
    path = (env.home / "locks" / "gc.lock" if lock == "gc"
            else env.home / "locks" / "profiles" / config.current_user() / "default.lock")
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        before = picture(profile_dir(env))
        proc = subprocess.Popen([sys.executable, "-c", TIERED, *args], env=env.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert proc.poll() is None, "it did not wait for the lock"
        assert picture(profile_dir(env)) == before
    finally:
        os.close(fd)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "TIER hit" in err, err
    assert out.startswith("default: ")
