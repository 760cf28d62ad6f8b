"""Profiles and roots through omgd, by real Linux users (invariant 7, issue 6).

User A adds a tool and uses it, user B uses the same tool and gets the same
store path (one copy, by inode); B cannot switch, roll back or delete A's
generations or add a root in A's name (PermissionDenied, exit 9, A's profile
unchanged); B reads A's profile through the filesystem; root's gc through
the daemon keeps both users' roots and frees what neither uses. The daemon
and users come from test_users.py; skipped with the reason when not root.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from store.results import to_plain
from tests.conftest import OmgEnv
from tests.daemon.conftest import Daemon, remote
from tests.daemon.test_users import User, as_user, shared, users  # noqa: F401 (fixtures)

pytestmark = pytest.mark.root


def _tree(root: Path, name: str, version: str) -> Path:
    src = root / f"{name}-{version}"
    (src / "bin").mkdir(parents=True)
    exe = src / "bin" / name
    exe.write_text(f"#!/bin/sh\necho {name} {version}\n")
    os.chmod(exe, 0o755)
    (src / "share").mkdir()
    (src / "share" / "README").write_text(f"{name} {version}\n")
    for d in (src, src / "bin", src / "share"):
        os.chmod(d, 0o755)
    return src


class World:
    """The shared daemon, a world-writable scratch dir for results, and helpers."""

    def __init__(self, daemon: Daemon, a: User, b: User, work: Path) -> None:
        self.daemon, self.a, self.b, self.work = daemon, a, b, work
        self.home = daemon.env.home
        self.env = {"OMG_HOME": str(self.home), "OMG_SOCKET": str(daemon.socket),
                    "HOME": str(work), "XDG_CONFIG_HOME": str(work / "cfg")}
        self.paths: dict[str, str] = {}

    def run(self, user: User | None, fn: Callable[[Any], object]) -> tuple[int, Any]:
        """Call fn(DaemonBackend) as `user` (None: root, in this process); (exit code, result)."""
        out = self.work / "out" / f"{os.urandom(6).hex()}.json"

        def go() -> int:
            from store.errors import OmgError

            store = remote(self.daemon.socket, self.home)
            try:
                result = fn(store)
            except OmgError as exc:
                return exc.exit_code
            finally:
                store.close()
            out.write_text(json.dumps(to_plain(result)))
            return 0

        code = go() if user is None else as_user(user, go, self.env)
        return code, json.loads(out.read_text()) if code == 0 else None

    def ok(self, user: User | None, fn: Callable[[Any], object]) -> Any:
        code, result = self.run(user, fn)
        assert code == 0, f"exit {code}"
        return result

    def snapshot(self, user: User) -> dict[str, str]:
        base = self.home / "profiles" / user.name
        return {e: os.readlink(base / e) if os.path.islink(base / e)
                else (base / e).read_text() if e.endswith(".json") else ""
                for e in sorted(os.listdir(base)) if not e.endswith(".lock")}


@contextlib.contextmanager
def world_over(env: OmgEnv, root: Path, users: tuple[User, User]) -> Iterator[World]:  # noqa: F811
    """A root omgd started on `env` (configured under ``root/d``), its home readable by
    the users, a world-writable ``work/out`` under `root` for results; it must stop cleanly."""
    os.chmod(root / "d", 0o755)
    daemon = Daemon(env, root / "d" / "omgd.sock")
    daemon.start()
    try:
        os.chmod(env.home, 0o755)
        work = root / "work"
        (work / "out").mkdir(parents=True)
        os.chmod(work, 0o755)
        os.chmod(work / "out", 0o777)
        yield World(daemon, *users, work)
    finally:
        assert daemon.stop(signal.SIGTERM) == 0, "\n".join(daemon.log_lines())


@pytest.fixture(scope="module")
def world(shared: Daemon, users: tuple[User, User]) -> Iterator[World]:  # noqa: F811
    a, b = users
    work = Path(tempfile.mkdtemp(prefix="omgd-prof-"))
    os.chmod(work, 0o755)
    (work / "out").mkdir(mode=0o777)
    os.chmod(work / "out", 0o777)
    w = World(shared, a, b, work)
    trees = {k: _tree(work / "src", *k.split("@"))
             for k in ("tool@1.0", "tool@2.0", "keep@1.0", "junk@1.0")}
    os.chmod(work / "src", 0o755)
    # Root (a trusted user: its additions resolve for everyone) adds the shared tools
    # through store.add (the daemon hashes them); A adds junk, which is A's alone.
    def adder(key: str) -> Callable[[Any], object]:
        name, version = key.split("@")
        return lambda s: s.store_add(trees[key], name, version).record.path

    for key in ("tool@1.0", "tool@2.0", "keep@1.0"):
        w.paths[key] = w.ok(None, adder(key))
    w.paths["junk@1.0"] = w.ok(a, adder("junk@1.0"))
    yield w
    shutil.rmtree(work, ignore_errors=True)


def _use(specs: list[str], **kw: Any) -> Callable[[Any], object]:
    return lambda s: rp.use(s, specs, **kw)


class rp:
    """The protocol's profile and root methods, as a client sends them (`user`, which
    only root may name, is a parameter no backend method has)."""

    @staticmethod
    def _call(s: Any, method: str, **params: Any) -> Any:
        return s.call(method, {k: v for k, v in params.items() if v is not None})

    @staticmethod
    def use(s: Any, specs: list[str], **kw: Any) -> Any:
        return rp._call(s, "profile.use", specs=specs, **kw)

    @staticmethod
    def rollback(s: Any, **kw: Any) -> Any:
        return rp._call(s, "profile.rollback", **kw)

    @staticmethod
    def list_generations(s: Any, **kw: Any) -> Any:
        return rp._call(s, "profile.generations", **kw)

    @staticmethod
    def delete_generations(s: Any, numbers: list[int], **kw: Any) -> Any:
        return rp._call(s, "profile.delete", numbers=numbers, **kw)

    @staticmethod
    def add_root(s: Any, name: str, store_path: str, **kw: Any) -> Any:
        return rp._call(s, "roots.add", name=name, store_path=store_path, **kw)

    @staticmethod
    def remove_root(s: Any, name: str, **kw: Any) -> Any:
        return rp._call(s, "roots.remove", name=name, **kw)

    @staticmethod
    def list_roots(s: Any, **kw: Any) -> Any:
        return rp._call(s, "roots.list", **kw)


def test_two_users_use_one_copy(world: World) -> None:
    a, b, home = world.a, world.b, world.home
    ra = world.ok(a, _use(["tool@1.0"], command="omg use tool@1.0"))
    rb = world.ok(b, _use(["tool@1.0"]))
    assert ra["generation"] == rb["generation"] == 1 and not ra["unchanged"]
    assert ra["tools"][0]["store_path"] == rb["tools"][0]["store_path"] == world.paths["tool@1.0"]
    assert ra["env"] == rb["env"]  # the same set of tools is the same env path
    bin_a = home / "profiles" / a.name / "default" / "bin" / "tool"
    bin_b = home / "profiles" / b.name / "default" / "bin" / "tool"
    assert os.stat(bin_a).st_ino == os.stat(bin_b).st_ino  # one copy, not two
    assert os.path.realpath(bin_a).startswith(str(home / "store" / world.paths["tool@1.0"]))
    for d in (home / "profiles", home / "profiles" / a.name):
        st = d.stat()
        assert st.st_uid == 0 and (st.st_mode & 0o777) == 0o755
    rec = json.loads((home / "profiles" / a.name / "default-1.json").read_text())
    assert rec["command"] == "omg use tool@1.0"
    assert (home / "profiles" / a.name / "default-1.json").stat().st_uid == 0


def test_b_reads_a_profile_but_cannot_write_it(world: World) -> None:
    a, b, home = world.a, world.b, world.home
    world.ok(a, _use(["tool@1.0"]))
    a_dir = home / "profiles" / a.name

    def read_and_try() -> int:
        if (a_dir / "default" / "bin" / "tool").read_text() != "#!/bin/sh\necho tool 1.0\n":
            return 1
        try:
            os.symlink("x", a_dir / "evil")
        except PermissionError as exc:
            return 0 if exc.errno == errno.EACCES else 2
        return 3

    assert as_user(b, read_and_try, world.env) == 0


def test_b_cannot_change_a_profile_or_roots(world: World) -> None:

    a, b = world.a, world.b
    world.ok(a, _use(["tool@2.0"]))  # A now has at least two generations
    before = world.snapshot(a)
    gens = [g["number"] for g in world.ok(a, lambda s: rp.list_generations(s))]
    attempts: list[Callable[[Any], object]] = [
        _use(["tool@2.0"], user=a.name),
        lambda s: rp.rollback(s, user=a.name),
        lambda s: rp.rollback(s, user=a.name, to=gens[0]),
        lambda s: rp.delete_generations(s, [gens[0]], user=a.name),
        lambda s: rp.add_root(s, "mine", world.paths["junk@1.0"], user=a.name),
        lambda s: rp.remove_root(s, "mine", user=a.name),
    ]
    for attempt in attempts:
        assert world.run(b, attempt)[0] == 9  # PermissionDenied
    assert world.snapshot(a) == before
    # Reading is allowed: profiles are world-readable on disk anyway.
    assert [g["number"] for g in world.ok(b, lambda s: rp.list_generations(s, user=a.name))] \
        == gens


def test_rollback_and_delete_own_generations(world: World) -> None:

    a = world.a
    first = world.ok(a, _use(["tool@1.0"], profile="work"))["generation"]
    second = world.ok(a, _use(["tool@2.0"], profile="work"))["generation"]
    assert second == first + 1
    back = world.ok(a, lambda s: rp.rollback(s, profile="work"))
    assert (back["previous"], back["generation"], back["tools"]) == (second, first,
                                                                   {"tool": "1.0"})
    gens = world.ok(a, lambda s: rp.list_generations(s, profile="work"))
    assert [(g["number"], g["current"]) for g in gens] == [(first, True), (second, False)]
    # The current generation is never deleted; another one is.
    assert world.run(a, lambda s: rp.delete_generations(s, [first], profile="work"))[0] == 2
    deleted = world.ok(a, lambda s: rp.delete_generations(s, [second], profile="work"))
    assert deleted["deleted"] == [second]
    again = world.ok(a, _use(["tool@2.0"], profile="work"))["generation"]
    assert again == second + 1  # a deleted number is never given again
    assert world.ok(a, lambda s: rp.rollback(s, profile="work", to=first))["generation"] == first


def test_bad_params_are_refused(world: World) -> None:

    a = world.a
    assert world.run(a, _use(["tool@1.0"], profile="../" + world.b.name))[0] == 2
    assert world.run(a, _use(["nosuch@1"]))[0] == 3
    assert world.run(a, lambda s: rp.add_root(s, "../x", world.paths["keep@1.0"]))[0] == 2
    assert world.run(a, lambda s: rp.add_root(s, "projects", world.paths["keep@1.0"]))[0] == 2
    assert world.run(a, lambda s: rp.add_root(s, "x", "/etc/passwd"))[0] == 2
    assert world.run(a, lambda s: rp.add_root(s, "x", "a" * 32 + "-gone-1"))[0] == 3
    assert world.run(a, lambda s: s.call("profile.use", {"specs": ["tool@1.0"],
                                                         "home": "/tmp"}))[0] != 0


def test_gc_keeps_both_users_roots_and_frees_the_rest(world: World) -> None:

    a, b, home = world.a, world.b, world.home
    world.ok(b, _use(["tool@1.0"]))
    root = world.ok(a, lambda s: rp.add_root(s, "pinned", world.paths["keep@1.0"]))
    assert Path(root["root"]) == home / "gcroots" / a.name / "pinned"
    assert world.ok(a, lambda s: rp.list_roots(s))[0]["store_path"] == world.paths["keep@1.0"]
    assert world.run(b, lambda s: s.gc())[0] == 9  # B is not in the gc group
    dead = world.ok(None, lambda s: s.gc())["dead"]
    assert world.paths["junk@1.0"] in dead
    for key in ("tool@1.0", "tool@2.0", "keep@1.0"):
        assert key not in dead and (home / "store" / world.paths[key]).is_dir(), key
    assert not (home / "store" / world.paths["junk@1.0"]).exists()
    assert (home / "profiles" / b.name / "default" / "bin" / "tool").is_file()
    world.ok(a, lambda s: rp.remove_root(s, "pinned"))
    assert world.ok(None, lambda s: s.gc())["dead"] == [world.paths["keep@1.0"]]


def test_parallel_use_never_loses_or_reuses_a_number(world: World) -> None:
    """Invariant 2 through the daemon: 8 connections, one profile, at once."""
    import threading

    made: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        store = remote(world.daemon.socket, world.home)
        try:
            for j in range(4):
                # Root acting for A (only root may name another user).
                spec = ["tool@1.0"] if (k + j) % 2 else ["tool@2.0"]
                r = rp.use(store, spec, profile="race", user=world.a.name)
                if not r["unchanged"]:
                    with lock:
                        made.append(r["generation"])
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(made) == len(set(made))
    gens = world.ok(world.a, lambda s: rp.list_generations(s, profile="race"))
    assert sorted(made) == [g["number"] for g in gens]
