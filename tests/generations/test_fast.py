"""The lean tier of omg/fast.py against the use cases of omg/profiles.py.

The lean tier writes generations itself, on strings, so that `omg use` and
`omg rollback` import next to nothing. These tests hold it to the full path:
it imports no pathlib/typing/re/json, leaves the same files with the same
bytes, prints the same lines, never answers from a stale cache (a new version
in the store, an env collected by gc), and cleans the same debris.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generations import profile as gp
from omg import config, fast
from omg import profiles as P
from omg.spec import parse_tool_spec
from store.errors import OmgError
from tests.conftest import OmgEnv

from .helpers import USER, World, cli_add

#: Runs the console script's main() and says which tier answered on stderr.
TIERED = """
import sys
before = set(sys.modules)
from omg.entry import main
rc = main(sys.argv[1:])
heavy = sorted({'pathlib', 'typing', 're', 'json', 'shlex', 'omg.profiles', 'omg.config',
                'generations.profile', 'store.layout', 'omg.daemon.client', 'socket'}
               & (set(sys.modules) - before))
print('TIER', 'lean' if not heavy else 'full', heavy, file=sys.stderr)
sys.exit(rc)
"""
TYPER = "import sys; from omg.cli import run; sys.exit(run(sys.argv[1:]))"


def run(env: OmgEnv, *args: str, script: str = TIERED) -> tuple[str, str]:
    """(stdout, tier) of one `omg ARGS`; tier is "lean", "full" or "" (typer CLI)."""
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
         ["current", "--profile", "none-yet"]]


def test_lean_tier_matches_the_full_path(env: OmgEnv) -> None:
    run(env, "use", "node@18")
    for args in ROUND:  # the full path answers once and teaches the catalogue
        run(env, *args, script=TYPER)
    twin = make_twin(env)
    lean_out, full_out = [], []
    for args in ROUND:
        out, tier = run(env, *args)
        assert tier == "lean", args
        lean_out.append(out)
        full_out.append(run(twin, *args, script=TYPER)[0])
    assert lean_out == full_out
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


def test_lean_tier_imports_nothing_heavy(env: OmgEnv) -> None:
    run(env, "use", "node@18")
    run(env, "use", "node@20")
    run(env, "use", "node@18")  # now every answer is known
    for args in (["use", "node@20"], ["rollback"], ["rollback", "--to", "2"],
                 ["use", "node@18.19.0"], ["current"], ["current", "-p", "other"]):
        assert run(env, *args)[1] == "lean", args


def test_a_new_version_in_the_store_is_never_missed(env: OmgEnv) -> None:
    run(env, "use", "node@18")
    run(env, "use", "node@20")
    assert run(env, "use", "node@18") == ("default: generation 3: node 18.19.0\n", "full")
    run(env, "use", "node@20")
    assert run(env, "use", "node@18")[1] == "lean"
    cli_add(env, "node", "18.20.0")
    # The store has a path the catalogue does not know: the full path looks.
    assert run(env, "use", "node@18") == ("default: generation 6: node 18.20.0\n", "full")
    for _ in range(2):  # the second time from this env is known too
        out, tier = run(env, "use", "node@18")
        assert out == "default: node 18.20.0 already current (generation 6)\n"
    assert tier == "lean"


def test_an_env_collected_by_gc_is_built_again(env: OmgEnv) -> None:
    run(env, "use", "node@18", "python", "--profile", "keep")  # roots the tools, not the envs
    for spec in ("node@18", "node@20", "node@18", "node@20"):
        run(env, "use", spec)
    env.run("generations", "delete", "1", "3", check=True)
    assert "store paths deleted" in env.run("gc", check=True).stdout
    # The catalogue remembers (node 20 env, node@18) -> an env gc has just deleted.
    out, tier = run(env, "use", "node@18")
    assert (out, tier) == ("default: generation 5: node 18.19.0\n", "full")
    node = profile_dir(env) / "default" / "bin" / "node"
    assert subprocess.run([node], capture_output=True, text=True).stdout.strip() == \
        "node node 18.19.0"
    assert gp.check(env.layout) == []


def test_lean_rollback_errors_come_from_the_full_path(env: OmgEnv) -> None:
    run(env, "use", "node@18")
    for args in (["rollback"], ["rollback", "--to", "7"]):
        proc = subprocess.run([sys.executable, "-c", TIERED, *args], env=env.env,
                              capture_output=True, text=True)
        typer = subprocess.run([sys.executable, "-c", TYPER, *args], env=env.env,
                               capture_output=True, text=True)
        assert proc.returncode == typer.returncode == 3
        assert proc.stderr.split("TIER")[0] == typer.stderr


def test_rollback_reads_links_not_records(tmp_path: Path) -> None:
    """A damaged record of some generation does not block a rollback (either tier)."""
    w = World(tmp_path)
    try:
        w.add("node", "1.0.0")
        w.add("node", "2.0.0")
        for spec in ("node@1", "node@2", "node@1"):
            P.use(w.home, [spec])
        ref = w.home.ref()
        ref.gen_record(1).write_text("{not json")
        assert P.rollback(w.home).generation == 2
        assert fast.lean_rollback(str(w.layout.home), USER, to=1) == (2, 1, {"node": "1.0.0"})
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
    from store.layout import Layout

    ref = gp.ProfileRef.user_profile(Layout(tmp_path), USER)
    ref.directory.mkdir(parents=True)
    os.symlink(target, ref.link)
    assert gp.current_number(ref) == number
    assert fast._Profile(str(tmp_path), USER, "default").current() == number


ALPHABET = st.sampled_from(list("aZ09+_.-~@/*' \n$x\u0663é"))


@given(st.text(ALPHABET, max_size=12))
def test_spec_parsing_is_never_looser(text: str) -> None:
    """The lean parser accepts a subset of omg.spec's specs, and reads them the same."""
    lean = fast._spec(text)
    try:
        full = tuple(parse_tool_spec(text))
    except OmgError:
        assert lean is None
        return
    assert lean is None or lean == full


@given(st.text(ALPHABET, max_size=12))
def test_quote_is_shlex_quote(text: str) -> None:
    assert fast._quote(text) == shlex.quote(text)


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
    got = fast._settings(environ)
    assert got is not None
    want = config.load(environ)
    assert Path(got[0]) == want.home and got[1] == want.user
    # With a config file the lean tier asks omg.config (it parses TOML).
    cfg = tmp_path / "omg.toml"
    cfg.write_text('home = "/from/config"\n')
    environ["OMG_CONFIG"] = str(cfg)
    got = fast._settings(environ)
    assert got is not None and Path(got[0]) == config.load(environ).home
    cfg.write_text("home = [")
    assert fast._settings(environ) is None  # the full CLI reports the bad file


def test_a_change_of_the_planner_code_drops_the_answers(env: OmgEnv,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Cached answers are the code's as much as the data's: new code, new answers."""
    from generations import catalogue

    for spec in ("node@18", "node@20", "node@18"):
        run(env, "use", spec)
    assert catalogue.Quick(str(env.home), env.settings().user).use("", []) is None
    quick = catalogue.Quick(str(env.home), env.settings().user)
    tool = quick.resolve("node", "20")
    assert tool is not None and quick.use(_cur_env(env), [tool]) is not None
    monkeypatch.setattr(catalogue, "code_stamp", lambda: "another build")
    quick = catalogue.Quick(str(env.home), env.settings().user)
    assert quick.resolve("node", "20") is None  # the exact-version rule is not cached
    assert quick.resolve("node", "20.10.0") == tool and quick.use(_cur_env(env), [tool]) is None


def _cur_env(env: OmgEnv) -> str:
    ref = fast._Profile(str(env.home), config.current_user(), "default")
    n = ref.current()
    assert n is not None
    return ref.env_of(n)


@pytest.mark.parametrize("damage", [
    lambda d: d["paths"].update({k: ["node", 20, {}] for k in d["paths"]}),
    lambda d: d["paths"].update({k: ["node", "20", []] for k in d["paths"]}),
    lambda d: d["uses"].update({k: [v[0], [["bin/x", "a"]]] for k, v in d["uses"].items()}),
    lambda d: d["uses"].update({k: [v[0], "x"] for k, v in d["uses"].items()}),
    lambda d: d["uses"].update({k: [7, []] for k in d["uses"]}),
    lambda d: d["specs"].update({k: [["x"], v[1]] for k, v in d["specs"].items()}),
    lambda d: d.update(uses=[], specs="x", paths=None),
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
def test_lean_tier_waits_for_the_locks(env: OmgEnv, args: list[str], lock: str) -> None:
    """Invariants 2 and 3: a lean use holds the profile lock and the gc lock shared,
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
    assert proc.returncode == 0 and "TIER lean" in err, err
    assert out.startswith("default: ")


def test_the_lean_tier_reads_the_manifest_format_env_writes() -> None:
    from generations.env import MANIFEST_FORMAT

    assert fast.MANIFEST_FORMAT == MANIFEST_FORMAT
