"""`omg update` (pacman -Syu with --system, AUR rebuilds, --devel, the summary),
`omg remove` (pacman's list, --recursive, --cache), against a private pacman root with
its own local repository (a copy of the session's, so a bump here is seen nowhere else).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.arch.conftest import BUILD_USER, ArchWorld, build_as_user, pkgbuild
from tests.conftest import OmgEnv
from tests.schema import check


@dataclass
class Private:
    base: Path
    conf: Path
    repo: Path
    dbpath: Path
    cache: Path

    def pacman(self, *args: str, check: bool = True) -> str:
        return subprocess.run(["pacman", "--config", str(self.conf), *args], check=check,
                              capture_output=True, text=True).stdout

    def local(self) -> dict[str, str]:
        """name -> version installed (pacman -Q exits 1 when that is nothing)."""
        return dict(line.split() for line in self.pacman("-Q", check=False).splitlines())

    def bump(self, name: str, version: str) -> None:
        """A new version of a repository package, as a packager would publish it."""
        src = self.base / "src" / f"{name}-{version}"
        src.mkdir(parents=True)
        (src / "PKGBUILD").write_text(pkgbuild(name, version))
        (pkg,) = build_as_user(src)
        shutil.copy(pkg, self.repo / pkg.name)
        subprocess.run(["repo-add", "-q", str(self.repo / "testrepo.db.tar.gz"),
                        str(self.repo / pkg.name)], check=True, capture_output=True)


@pytest.fixture
def private(world: ArchWorld, tmp_path: Path) -> Iterator[Private]:
    base = world.base / "private" / tmp_path.name
    repo, root, dbpath, cache = base / "repo", base / "root", base / "db", base / "cache"
    shutil.copytree(world.repo_dir, repo)
    for d in (root, dbpath / "local", dbpath / "sync", cache):
        d.mkdir(parents=True)
    os.chmod(world.base / "private", 0o755)
    os.chmod(base, 0o755)
    conf = base / "pacman.conf"
    conf.write_text(
        f"[options]\nRootDir = {root}\nDBPath = {dbpath}\nCacheDir = {cache}\n"
        f"LogFile = {base}/pacman.log\nGPGDir = {base}/gnupg\nHookDir = {base}/hooks\n"
        f"Architecture = x86_64\nSigLevel = Never\n\n[testrepo]\nServer = file://{repo}\n")
    p = Private(base, conf, repo, dbpath, cache)
    p.pacman("-Sy", "--noconfirm", "python-repotool")  # and repolib, as its dependency
    yield p
    shutil.rmtree(base, ignore_errors=True)


def _env(aenv: OmgEnv, p: Private) -> dict[str, str]:
    return {"OMG_PACMAN_CONF": str(p.conf)}


@pytest.mark.slow
def test_update_system_syncs_and_upgrades_the_repository_packages(
        world: ArchWorld, aenv: OmgEnv, private: Private) -> None:
    assert private.local() == {"python-repotool": "2.0-1", "repolib": "1.0-1"}
    private.bump("repolib", "1.1")
    # without --system: the databases are not synced, and omg says so
    plain = aenv.run("update", "--noconfirm", "--json", extra_env=_env(aenv, private))
    assert plain.returncode == 0, plain.stderr
    data = check("update", plain.stdout)
    assert (data["synced"], data["repo_upgraded"]) == (False, [])
    assert "not synced" in data["notes"][0] and "--system" in data["notes"][0]
    assert private.local()["repolib"] == "1.0-1"
    # with it: pacman -Syu
    proc = aenv.run("update", "--system", "--noconfirm", "--json",
                    extra_env=_env(aenv, private))
    assert proc.returncode == 0, proc.stderr
    data = check("update", proc.stdout)
    assert data["synced"] is True
    assert data["repo_upgraded"] == [{"name": "repolib", "old": "1.0-1", "new": "1.1-1"}]
    assert private.local()["repolib"] == "1.1-1"
    text = aenv.run("update", "--system", "--noconfirm", extra_env=_env(aenv, private))
    assert text.returncode == 0, text.stderr
    assert "summary: 0 repository package(s) upgraded, 0 AUR package(s) rebuilt" in text.stdout


def test_remove_shows_pacmans_list_and_asks(world: ArchWorld, aenv: OmgEnv,
                                            private: Private) -> None:
    env = _env(aenv, private)
    declined = aenv.run("remove", "python-repotool", "--recursive", input="n\n", extra_env=env)
    assert declined.returncode == 130, declined.stderr
    assert "Packages to remove (2): python-repotool-2.0-1  repolib-1.0-1" in declined.stdout
    assert "Remove 2 packages? [y/N] n" in declined.stderr
    assert set(private.local()) == {"python-repotool", "repolib"}
    # without --recursive only the package itself (its dependency stays)
    one = aenv.run("remove", "python-repotool", input="y\n", extra_env=env)
    assert one.returncode == 0, one.stderr
    assert "Packages to remove (1): python-repotool-2.0-1\n" in one.stdout
    assert set(private.local()) == {"repolib"}
    missing = aenv.run("remove", "not-installed", "--noconfirm", extra_env=env)
    assert missing.returncode != 0 and "error: pacman -R failed: target not found: " \
        "not-installed" in missing.stderr


def test_remove_recursive_takes_the_orphaned_dependency(world: ArchWorld, aenv: OmgEnv,
                                                        private: Private) -> None:
    proc = aenv.run("remove", "python-repotool", "--recursive", input="y\n",
                    extra_env=_env(aenv, private))
    assert proc.returncode == 0, proc.stderr
    assert private.local() == {}


def test_remove_cache_cleans_what_is_not_installed(world: ArchWorld, aenv: OmgEnv,
                                                   private: Private) -> None:
    cached = sorted(f.name for f in private.cache.iterdir())
    assert len(cached) == 2  # both downloaded by -S
    private.pacman("-R", "--noconfirm", "python-repotool")
    proc = aenv.run("remove", "--cache", "--noconfirm", extra_env=_env(aenv, private))
    assert proc.returncode == 0, proc.stderr
    assert [f.name for f in private.cache.iterdir()] == [n for n in cached
                                                         if n.startswith("repolib-")]
    bad = aenv.run("remove", "--cache", "repolib", extra_env=_env(aenv, private))
    assert bad.returncode == 2 and "error: --cache takes no package names" in bad.stderr


# --- devel packages -------------------------------------------------------------------

def _git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    env = {**os.environ, **env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


def _commit(work: Path, text: str, env: dict[str, str]) -> str:
    (work / "hello").write_text(f"#!/bin/sh\necho {text}\n")
    _git("add", "hello", cwd=work, env=env)
    _git("commit", "-qm", text, cwd=work, env=env)
    _git("push", "-q", "origin", "HEAD:master", cwd=work, env=env)
    return _git("rev-parse", "HEAD", cwd=work, env=env)


@pytest.mark.slow
def test_devel_rebuilds_on_a_new_commit_only(world: ArchWorld, aenv: OmgEnv,
                                             tmp_path: Path) -> None:
    # The build user owns the repository (makepkg clones it as that user); root (these
    # commits, omg's ls-remote) trusts it through a global config of its own.
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[safe]\n\tdirectory = *\n")
    git_env = {"GIT_CONFIG_GLOBAL": str(gitconfig)}
    bare = world.base / "git" / tmp_path.name / "upgrade-devel.git"
    bare.parent.mkdir(parents=True)
    os.chmod(bare.parent.parent, 0o755)
    os.chmod(bare.parent, 0o755)
    _git("init", "-q", "--bare", "-b", "master", str(bare), cwd=tmp_path, env=git_env)
    subprocess.run(["chown", "-R", BUILD_USER, str(bare)], check=True)
    work = tmp_path / "work"
    _git("clone", "-q", str(bare), str(work), cwd=tmp_path, env=git_env)
    first = _commit(work, "one", git_env)
    world.aur.publish("upgrade-devel-git", {"@REPO@": str(bare)})
    built = aenv.run("aur", "build", "upgrade-devel-git", "--noconfirm", "--json",
                     extra_env=git_env)
    assert built.returncode == 0, built.stderr
    assert [b["version"] for b in check("aur-build", built.stdout)["built"]] == \
        ["1.0.r1-1"]
    db = json.loads((Path(aenv.env["OMG_HOME"]) / "arch" / "devel.json").read_text())
    assert db == {"upgrade-devel-git": {f"file://{bare}#HEAD": first}}
    # the AUR's pkgver says nothing about a devel package, newer or older
    world.aur.set_version("upgrade-devel-git", "1.0.r9")
    same = check("update", aenv.run("update", "--noconfirm", "--json", extra_env=git_env,
                                    check=True).stdout)
    assert same["built"] == [] and same["outdated"] == []
    assert same["left"] == [{"name": "upgrade-devel-git", "current": "1.0.r1-1",
                             "where": "store",
                             "why": "devel package: --devel checks its sources"}]
    # no new commit: --devel finds nothing (no loop)
    still = check("update", aenv.run("update", "--devel", "--noconfirm", "--json",
                                     extra_env=git_env, check=True).stdout)
    assert still["built"] == [] and still["outdated"] == [] and still["left"] == []
    second = _commit(work, "two", git_env)
    moved = aenv.run("update", "--devel", "--noconfirm", "--json", extra_env=git_env)
    assert moved.returncode == 0, moved.stderr
    data = check("update", moved.stdout)
    assert [(o["name"], o["current"], o["latest"]) for o in data["outdated"]] == [
        ("upgrade-devel-git", "1.0.r1-1", f"git {second[:12]}")]
    assert [b["version"] for b in data["built"]] == ["1.0.r2-1"]
    again = check("update", aenv.run("update", "--devel", "--noconfirm", "--json",
                                     extra_env=git_env, check=True).stdout)
    assert again["built"] == [] and again["outdated"] == []
