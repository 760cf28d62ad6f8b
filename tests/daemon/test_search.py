"""`omg search` answered by omgd from its in-memory index (issue 6), and the fallback.

A real daemon over a sync db made by repo-add and the local AUR server of
tests/arch; the shared-mode test runs `omg search` as a real unprivileged user.
"""

from __future__ import annotations

import io
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from omg.arch import daemonsearch, fastconfig, searchindex
from omg.daemon.wire import search_source
from store.index import Index
from tests.arch import fakeaur
from tests.daemon.conftest import Daemon, daemon_env
from tests.support import sysusers

SEARCH_USER = "omgd-ts"
PKGS = {"python": ("3.12.1-1", "the python language"),
        "python-repotool": ("2.0-1", "python tool from repo"),
        "repolib": ("1.0-1", "a library in the repo")}


def make_pkg(dest: Path, name: str, version: str, desc: str) -> Path:
    """A package file as makepkg leaves it, as far as repo-add reads one (.PKGINFO)."""
    info = (f"pkgname = {name}\npkgbase = {name}\npkgver = {version}\npkgdesc = {desc}\n"
            f"url = https://example.org\nbuilddate = 1700000000\npackager = Test\n"
            f"size = 10\narch = any\nlicense = MIT\n").encode()
    path = dest / f"{name}-{version}-any.pkg.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        member = tarfile.TarInfo(".PKGINFO")
        member.size, member.mtime = len(info), 1700000000
        tar.addfile(member, io.BytesIO(info))
    return path


def repo_add(db: Path, pkgs: list[Path]) -> None:
    work = db.parent / "repo-work"
    work.mkdir(exist_ok=True)
    target = work / "testrepo.db.tar.gz"
    for stale in work.glob("testrepo.*"):
        stale.unlink()
    subprocess.run(["repo-add", "-q", str(target), *map(str, pkgs)], check=True,
                   capture_output=True)
    tmp = db.with_name(db.name + ".new")
    shutil.copy(target, tmp)
    os.replace(tmp, db)  # as pacman -Sy does: a new file, so a new stat


@dataclass
class World:
    daemon: Daemon
    env: dict[str, str]
    db: Path
    pkgs: dict[str, Path]
    aur: fakeaur.FakeAur


@pytest.fixture
def world() -> Iterator[World]:
    if shutil.which("repo-add") is None:
        pytest.skip("repo-add is not installed (apt-get install pacman-package-manager)")
    # Not pytest's tmp_path (0700 parents): the shared-mode test's user must get in.
    tmp_path = Path(tempfile.mkdtemp(prefix="omg-search-"))
    os.chmod(tmp_path, 0o755)
    base = tmp_path / "arch"
    (base / "pkgs").mkdir(parents=True)
    pkgs = {n: make_pkg(base / "pkgs", n, v, d) for n, (v, d) in PKGS.items()}
    dbpath = base / "db"
    (dbpath / "sync").mkdir(parents=True)
    (dbpath / "local").mkdir()
    db = dbpath / "sync" / "testrepo.db"
    repo_add(db, list(pkgs.values()))
    conf = base / "pacman.conf"
    conf.write_text(f"[options]\nDBPath = {dbpath}\n\n[testrepo]\nServer = file://{base}\n")
    aur = fakeaur.FakeAur(base / "aur")
    aur.load(fakeaur.Render())  # no session key nor upstream: search needs neither
    server, aur.url = fakeaur.serve(aur)
    env = daemon_env(tmp_path / "d")
    env.env.update({"OMG_PACMAN_CONF": str(conf), "OMG_AUR_URL": aur.url})
    d = Daemon(env, tmp_path / "d" / "omgd.sock")
    d.start()
    for p in (tmp_path / "d", *base.rglob("*"), base):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    try:
        yield World(d, env.env, db, pkgs, aur)
    finally:
        if d.proc is not None and d.proc.poll() is None:
            d.stop()
        server.shutdown()
        server.server_close()
        shutil.rmtree(tmp_path, ignore_errors=True)


def local_search(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "omg", "search", *args], env=env,
                          capture_output=True, text=True)


def ask(w: World, terms: list[str], **params: bool) -> dict[str, object]:
    answer = daemonsearch.call(str(w.daemon.socket), {"terms": terms, **params})
    assert isinstance(answer, dict)
    return answer


def stamp_mtime(w: World) -> int:
    with Index(w.daemon.env.home / "db", readonly=True) as index:
        (stamp,) = searchindex.raw_get(index, searchindex.TABLE, [b"stamp:testrepo"])
    assert stamp is not None
    return int(stamp.split(b"\0")[2])


def test_daemon_answers_as_a_local_search(world: World) -> None:
    for terms, repos_only in ((["python"], False), (["PYTHON", "tool"], False),
                              (["repolib"], True), (["nothing-like-it"], True)):
        args = [*terms, *(["--repo"] if repos_only else [])]
        local = local_search(world.env, *args)
        answer = ask(world, terms, repos_only=repos_only)
        assert answer["text"] == local.stdout and answer["warnings"] == []
        assert (answer["count"] > 0) == (local.returncode == 0)
        as_json = local_search(world.env, *args, "--json")
        hits = ask(world, terms, repos_only=repos_only, hits=True)["hits"]
        assert hits == json.loads(as_json.stdout or "[]")
    settings = fastconfig.from_config(world.daemon.env.settings(), world.env)
    assert ask(world, ["python"])["source"] == search_source(settings)
    text = str(ask(world, ["python"])["text"])
    assert text.splitlines()[0] == "testrepo/python 3.12.1-1"
    assert "aur/python-aurbig" in text


def test_daemon_caches_the_aur_and_reloads_a_changed_db(world: World) -> None:
    ask(world, ["python"])
    requests = len(world.aur.requests)
    assert "testrepo/python " in str(ask(world, ["python"])["text"])
    assert len(world.aur.requests) == requests  # the AUR answer is cached
    # Answers are kept, but never past a change of what they show.
    assert ask(world, ["repolib"])["text"] == ask(world, ["repolib"])["text"]
    (world.db.parent.parent / "local" / "repolib-1.0-1").mkdir()
    assert "testrepo/repolib 1.0-1 [installed]" in str(ask(world, ["repolib"])["text"])
    repo_add(world.db, [world.pkgs["repolib"], world.pkgs["python-repotool"]])
    text = str(ask(world, ["python"])["text"])
    assert "testrepo/python " not in text and "testrepo/python-repotool" in text
    assert stamp_mtime(world) == os.stat(world.db).st_mtime_ns  # stored for other readers


def test_bad_requests_and_other_settings(world: World) -> None:
    with pytest.raises(Exception, match="terms"):
        daemonsearch.call(str(world.daemon.socket), {"terms": ["x"] * 17})
    with pytest.raises(Exception, match="terms"):
        daemonsearch.call(str(world.daemon.socket), {"terms": []})
    mine = fastconfig.from_config(world.daemon.env.settings(), world.env)
    assert daemonsearch.ask(str(world.daemon.socket), mine, ["python"]) is not None
    # patterns: the client's own process runs them (a crafted one may backtrack long)
    with pytest.raises(Exception, match="patterns"):
        daemonsearch.call(str(world.daemon.socket), {"terms": ["(.*)*x"]})
    assert daemonsearch.ask(str(world.daemon.socket), mine, ["^python-"]) is None
    local = local_search(world.env, "^python-", "--repo")
    assert local.stdout.startswith("testrepo/python-repotool ")
    mine.aur_url = "http://127.0.0.1:9"  # another AUR than the daemon's: search locally
    assert daemonsearch.ask(str(world.daemon.socket), mine, ["python"]) is None
    assert daemonsearch.ask(str(world.daemon.socket) + ".none", mine, ["python"]) is None


@pytest.fixture
def search_user() -> pwd.struct_passwd:
    if os.geteuid() != 0:
        pytest.skip("the shared mode needs a user who cannot write OMG_HOME: run as root")
    return sysusers.ensure_user(SEARCH_USER)


def as_user(user: pwd.struct_passwd, env: dict[str, str],
            *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "omg", "search", *args], env=env,
                          capture_output=True, text=True, user=user.pw_uid,
                          group=user.pw_gid, extra_groups=[], cwd="/")


@pytest.mark.root
def test_shared_mode_asks_the_daemon_then_falls_back(world: World,
                                                     search_user: pwd.struct_passwd) -> None:
    expected = local_search(world.env, "python")  # as root: single-user, local
    assert expected.returncode == 0
    os.utime(world.db, ns=(5 * 10**9, 5 * 10**9))  # stale for everyone
    shared = as_user(search_user, world.env, "python")
    assert (shared.returncode, shared.stdout, shared.stderr) == (0, expected.stdout, "")
    # Only the daemon could have stored the rebuild: this user cannot write the index.
    assert stamp_mtime(world) == 5 * 10**9
    as_json = as_user(search_user, world.env, "python", "--json")
    assert as_json.returncode == 0 and as_json.stdout == local_search(
        world.env, "python", "--json").stdout
    world.daemon.stop(signal.SIGKILL)  # its socket file stays behind
    assert world.daemon.socket.exists()
    os.utime(world.db, ns=(6 * 10**9, 6 * 10**9))
    alone = as_user(search_user, world.env, "python")
    assert (alone.returncode, alone.stdout, alone.stderr) == (0, expected.stdout, "")
    assert stamp_mtime(world) == 5 * 10**9  # searched locally, in memory
