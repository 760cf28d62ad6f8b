"""The test AUR answers as aurweb and cgit do, and its package directories do not rot.

Reference answers: data/aurweb-search-answer.json is a search answer captured from
aur.archlinux.org (quoted in the README of github.com/surajkareppagol/AURPy);
data/aurweb-info-answer.json is the full `info` record of aurweb's own test
(test/test_rpc.py::test_rpc_singular_info, the fields it leaves out filled in).
"""

from __future__ import annotations

import io
import json
import os
import pwd
import subprocess
import tarfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.arch import fakeaur
from tests.arch.conftest import EPOCH, ArchWorld

PKG_DIRS = sorted(p.name for p in fakeaur.AUR_DIR.iterdir() if p.is_dir())


def get(world: ArchWorld, path: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(world.aur.url + path, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def rpc(world: ArchWorld, path: str) -> dict[str, Any]:
    status, _, body = get(world, path)
    assert status == 200, (path, status)
    data: dict[str, Any] = json.loads(body)
    return data


def info(world: ArchWorld, *names: str) -> dict[str, dict[str, Any]]:
    query = "&".join(f"arg[]={n}" for n in names)
    return {r["Name"]: r for r in rpc(world, f"/rpc/v5/info?{query}")["results"]}


def reference(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((fakeaur.DATA / name).read_text())
    return data


@pytest.mark.parametrize("pkgbase", PKG_DIRS)
def test_committed_srcinfo_is_what_makepkg_prints(arch_world: ArchWorld, pkgbase: str,
                                                  ) -> None:
    pkgdir = fakeaur.AUR_DIR / pkgbase
    assert (pkgdir / ".SRCINFO").read_text() == fakeaur.printsrcinfo(pkgdir), (
        f"stale {pkgdir}/.SRCINFO: run `python -m tests.arch.fakeaur srcinfo {pkgbase}`")


def test_search_records_have_the_keys_of_a_real_answer(world: ArchWorld) -> None:
    real = reference("aurweb-search-answer.json")
    ours = rpc(world, "/rpc/v5/search/fixtures?by=name-desc")
    assert set(ours) == set(real) and ours["type"] == "search"
    assert ours["resultcount"] == len(ours["results"]) > 5
    keys = {frozenset(r) for r in real["results"]}
    assert {frozenset(r) for r in ours["results"]} == keys  # no Submitter, no lists


def test_info_records_have_aurweb_s_keys(world: ArchWorld) -> None:
    full = set(reference("aurweb-info-answer.json")["results"][0])
    lists = {"Depends", "MakeDepends", "CheckDepends", "OptDepends", "Conflicts",
             "Provides", "Replaces", "Groups", "CoMaintainers"}
    always = full - lists
    answer = rpc(world, "/rpc/v5/info?" + "&".join(f"arg[]={n}" for n in world.aur.ids))
    assert answer["type"] == "multiinfo" and answer["resultcount"] == len(world.aur.ids)
    for rec in answer["results"]:
        assert always <= set(rec) <= full, rec["Name"]
        assert all(rec[k] for k in set(rec) & lists), rec  # empty lists are left out
    seen = set().union(*(set(r) for r in answer["results"]))
    assert seen == full  # the fixtures use every field aurweb has


def test_split_package_gives_one_record_per_pkgname(world: ArchWorld) -> None:
    recs = info(world, "fixtures-split-core", "fixtures-split-extra", "fixtures-split")
    assert sorted(recs) == ["fixtures-split-core", "fixtures-split-extra"]  # not the base
    core, extra = recs["fixtures-split-core"], recs["fixtures-split-extra"]
    for rec in (core, extra):
        assert rec["PackageBase"] == "fixtures-split"
        assert rec["URLPath"] == "/cgit/aur.git/snapshot/fixtures-split.tar.gz"
        assert rec["MakeDepends"] == ["aur-tool"] and rec["Version"] == "1.2-1"
    assert core["PackageBaseID"] == extra["PackageBaseID"] and core["ID"] != extra["ID"]
    assert extra["Depends"] == ["fixtures-split-core=1.2-1"]
    assert "Depends" not in core and core["Provides"] == ["fixtures-split-api=1"]
    assert core["License"] == ["MIT"] and extra["License"] == ["CC0-1.0", "MIT"]
    assert extra["Description"] == "split package fixture: extras on top of the core"
    assert extra["OptDepends"] == ["aur-tool"]  # aurweb drops the description
    assert core["Submitter"] == "original" and core["CoMaintainers"] == ["helper-a",
                                                                         "helper-b"]
    assert core["Popularity"] == 1.234568


def test_relations_epoch_and_aurweb_rows(world: ArchWorld) -> None:
    rec = info(world, "fixtures-relations")["fixtures-relations"]
    assert rec["Version"] == "1:2.0-3"
    assert rec["Provides"] == ["fixtures-old", "fixtures-virtual=2.0"]
    assert rec["Conflicts"] == ["fixtures-old<2"] and rec["Replaces"] == ["fixtures-old"]
    assert rec["CheckDepends"] == ["repolib"] and rec["OptDepends"] == ["aur-tool", "python"]
    assert rec["Groups"] == ["fixtures-group"] and rec["Keywords"] == ["fixture", "relations"]
    assert rec["OutOfDate"] == 1701000000 and rec["PendingRequests"] == 1
    orphan = info(world, "fixtures-uses-tool")["fixtures-uses-tool"]
    assert orphan["Maintainer"] is None and orphan["Popularity"] == 0
    assert orphan["OutOfDate"] is None and orphan["License"] == ["MIT"]


def test_search_by_provides_finds_what_info_does_not(world: ArchWorld) -> None:
    assert info(world, "fixtures-virtual") == {}
    found = rpc(world, "/rpc/v5/search/fixtures-virtual?by=provides")["results"]
    assert [r["Name"] for r in found] == ["fixtures-relations"]
    assert "Provides" not in found[0]  # search records are short
    legacy = rpc(world, "/rpc/?v=5&type=info&arg[]=aur-tool&arg[]=aur-lib")
    assert sorted(r["Name"] for r in legacy["results"]) == ["aur-lib", "aur-tool"]


def test_snapshot_is_cgit_s_git_archive(world: ArchWorld) -> None:
    status, _, body = get(world, "/cgit/aur.git/snapshot/fixtures-relations.tar.gz")
    assert status == 200 and body[:2] == b"\x1f\x8b"
    base = world.aur.bases["fixtures-relations"]
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        assert tar.pax_headers == {"comment": base.commit}
        members = tar.getmembers()
        assert members[0].name == "fixtures-relations" and members[0].isdir()
        names = {m.name.removeprefix("fixtures-relations/"): m for m in members[1:]}
        assert set(names) == {".SRCINFO", "PKGBUILD", "fixtures-relations.install"}
        assert all(m.isfile() and m.mtime == base.meta["LastModified"] and m.mode & 0o644
                   == 0o644 and m.uname == "root" for m in names.values())
        assert tar.extractfile(names[".SRCINFO"]).read() == (  # type: ignore[union-attr]
            fakeaur.AUR_DIR / "fixtures-relations" / ".SRCINFO").read_bytes()
    assert get(world, "/cgit/aur.git/snapshot/no-such-base.tar.gz")[0] == 404
    # a pkgname that is not a pkgbase has no snapshot either (split packages)
    assert get(world, "/cgit/aur.git/snapshot/fixtures-split-core.tar.gz")[0] == 404


def test_every_local_source_is_in_the_snapshot(world: ArchWorld) -> None:
    """aurweb's update hook refuses a push whose local sources are missing."""
    for name, base in world.aur.bases.items():
        body = world.aur.snapshot(name)
        assert body is not None
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
            files = {m.name.removeprefix(f"{name}/") for m in tar.getmembers()}
        assert set(fakeaur.local_sources(base.srcinfo)) <= files, name


def test_rate_limit_then_recovery_and_errors(world: ArchWorld) -> None:
    world.aur.fail_next(2, "ratelimit", retry_after=3)
    for _ in range(2):
        status, headers, body = get(world, "/rpc/v5/info?arg[]=aur-tool")
        assert status == 429 and headers["Retry-After"] == "3"
        assert json.loads(body) == fakeaur.rpc_error(5, "Rate limit reached")
    assert info(world, "aur-tool")["aur-tool"]["Version"] == "2.0-1"  # recovered
    world.aur.fail_next(1, "unavailable")
    status, headers, _ = get(world, "/rpc/v5/search/aur?by=name-desc")
    assert status == 503 and "Retry-After" in headers
    for path, message in [
        ("/rpc/v5/search/a?by=name-desc", "Query arg too small."),
        ("/rpc/v5/search/aur?by=colour", "Incorrect by field specified."),
        ("/rpc/v5/info", "No request type/data specified."),
        ("/rpc/?v=4&type=info&arg=aur-tool", "Invalid version specified."),
        ("/rpc/?v=5&type=nope&arg=aur-tool", "Incorrect request type specified."),
    ]:
        assert rpc(world, path)["error"] == message, path
    status, headers, body = get(world, "/rpc/v5/info?arg[]=aur-tool")
    again = urllib.request.Request(world.aur.url + "/rpc/v5/info?arg[]=aur-tool",
                                   headers={"If-None-Match": headers["ETag"]})
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(again, timeout=10)
    assert not_modified.value.code == 304


def test_set_version_pushes_a_commit(world: ArchWorld) -> None:
    before = world.aur.bases["aur-tool"].commit
    modified = info(world, "aur-tool")["aur-tool"]["LastModified"]
    world.aur.set_version("aur-tool", "2.5")
    try:
        rec = info(world, "aur-tool")["aur-tool"]
        assert rec["Version"] == "2.5-1" and rec["LastModified"] == modified + 1
        _, _, body = get(world, "/cgit/aur.git/snapshot/aur-tool.tar.gz")
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
            srcinfo = tar.extractfile("aur-tool/.SRCINFO").read()  # type: ignore[union-attr]
            assert tar.pax_headers["comment"] != before
        assert b"pkgver = 2.5" in srcinfo
    finally:
        world.aur.set_version("aur-tool", "2.0")


def test_signed_source_verifies_with_the_session_key(world: ArchWorld,
                                                     tmp_path: Path) -> None:
    body = world.aur.snapshot("fixtures-signed")
    assert body is not None
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        tar.extractall(tmp_path)  # our own snapshot (3.11.2 has no filter=)
    pkg = tmp_path / "fixtures-signed"
    srcinfo = fakeaur.parse_srcinfo((pkg / ".SRCINFO").read_text())
    assert srcinfo.base["validpgpkeys"] == [world.signer.fingerprint]
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    try:
        subprocess.run(["gpg", "--batch", "--import", str(world.signer.public_key)], env=env,
                       check=True, capture_output=True)
        ok = subprocess.run(["gpg", "--batch", "--verify", "fixtures-signed-1.0.txt.sig",
                             "fixtures-signed-1.0.txt"], cwd=pkg, env=env,
                            capture_output=True, text=True)
        assert ok.returncode == 0, ok.stderr
        (pkg / "fixtures-signed-1.0.txt").write_text("tampered\n")
        bad = subprocess.run(["gpg", "--batch", "--verify", "fixtures-signed-1.0.txt.sig",
                              "fixtures-signed-1.0.txt"], cwd=pkg, env=env,
                             capture_output=True)
        assert bad.returncode != 0
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False)


def test_upstream_git_is_cloneable_by_the_build_user(world: ArchWorld, tmp_path: Path,
                                                     ) -> None:
    src = world.aur.bases["fixtures-upstream-git"].srcinfo.base["source"][0]
    assert src == f"fixtures-upstream::git+file://{world.upstream}"
    user = pwd.getpwnam(fakeaur.BUILD_USER)
    dest = world.base / "clones" / tmp_path.name  # the build user cannot enter tmp_path
    dest.mkdir(parents=True)
    os.chown(dest, user.pw_uid, user.pw_gid)

    def clone(name: str) -> Path:
        proc = subprocess.run(["runuser", "-u", fakeaur.BUILD_USER, "--", "git", "clone",
                               "-q", f"file://{world.upstream}", str(dest / name)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return dest / name

    first = clone("one")
    assert (first / "fixtures-upstream").read_text() == fakeaur.UPSTREAM_SCRIPT
    head = fakeaur.upstream_commit(world.upstream, "upstream moved on")
    rev = ["runuser", "-u", fakeaur.BUILD_USER, "--", "git", "rev-parse", "HEAD"]
    assert subprocess.run(rev, cwd=clone("two"), capture_output=True, text=True,
                          check=True).stdout.strip() == head


@pytest.fixture(scope="module")
def makepkg_env(arch_world: ArchWorld) -> Iterator[tuple[Path, dict[str, str]]]:
    """A place the build user owns, its keyring holding the session's signing key, and
    aur-tool (built from the test AUR) on PATH: what an AUR helper would provide."""
    user = pwd.getpwnam(fakeaur.BUILD_USER)
    top = arch_world.base / "fixture-builds"
    top.mkdir()
    os.chown(top, user.pw_uid, user.pw_gid)
    gnupg = top / "gnupg"
    gnupg.mkdir(mode=0o700)
    os.chown(gnupg, user.pw_uid, user.pw_gid)
    env = {"GNUPGHOME": str(gnupg), "PKGEXT": ".pkg.tar.zst", "SOURCE_DATE_EPOCH": EPOCH}
    as_user = ["runuser", "-u", fakeaur.BUILD_USER, "--", "env", *(
        f"{k}={v}" for k, v in env.items())]
    subprocess.run([*as_user, "gpg", "--batch", "--quiet", "--import",
                    str(arch_world.signer.public_key)], check=True, capture_output=True)
    try:
        (tool,) = makepkg(arch_world, top, "aur-tool", env)
        root = top / "tool-root"
        root.mkdir()
        subprocess.run(["bsdtar", "-xf", str(tool), "-C", str(root)], check=True)
        env["PATH"] = f"{root}/usr/bin:{os.environ['PATH']}"
        yield top, env
    finally:
        subprocess.run([*as_user, "gpgconf", "--kill", "all"], check=False)


def makepkg(world: ArchWorld, top: Path, pkgbase: str, env: dict[str, str]) -> list[Path]:
    """makepkg (as the build user, no dependency checks) on the served snapshot."""
    body = world.aur.snapshot(pkgbase)
    assert body is not None
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        tar.extractall(top)  # our own snapshot (3.11.2 has no filter=)
    work = top / pkgbase
    user = pwd.getpwnam(fakeaur.BUILD_USER)
    for p in [work, *work.rglob("*")]:
        os.lchown(p, user.pw_uid, user.pw_gid)
    proc = subprocess.run(["runuser", "-u", fakeaur.BUILD_USER, "--", "env",
                           *(f"{k}={v}" for k, v in env.items()), "makepkg", "-f",
                           "--nodeps", "--noprogressbar"], cwd=work, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return sorted(work.glob("*.pkg.tar.zst"))


@pytest.mark.slow
@pytest.mark.parametrize(("pkgbase", "built"), [
    ("fixtures-split", ["fixtures-split-core-1.2-1-any", "fixtures-split-extra-1.2-1-any"]),
    ("fixtures-relations", ["fixtures-relations-1:2.0-3-any"]),
    ("fixtures-sources", ["fixtures-sources-1.0-1-any"]),
    ("fixtures-signed", ["fixtures-signed-1.0-1-any"]),
    ("fixtures-upstream-git", ["fixtures-upstream-git-r{count}.{short}-1-any"]),
    ("fixtures-uses-tool", ["fixtures-uses-tool-1.0-1-any"]),
    ("fixtures-needs-virtual", ["fixtures-needs-virtual-1.0-1-any"]),
])
def test_the_fixture_packages_build(world: ArchWorld, makepkg_env: tuple[Path, dict[str, str]],
                                    pkgbase: str, built: list[str]) -> None:
    """Each fixture builds with plain makepkg from its snapshot: checksums, the signature
    (validpgpkeys), the git clone and the makedepend's program all work."""
    top, env = makepkg_env
    head = ["-c", "safe.directory=*", "rev-list", "HEAD"]
    revs = fakeaur.git(world.upstream, *head).decode().split()  # pkgver() follows upstream
    pkgs = makepkg(world, top, pkgbase, env)
    assert [p.name.removesuffix(".pkg.tar.zst") for p in pkgs] == [
        b.format(count=len(revs), short=revs[0][:7]) for b in built]
    if pkgbase == "fixtures-uses-tool":
        listing = subprocess.run(["bsdtar", "-xOf", str(pkgs[0]),
                                  "usr/share/fixtures-uses-tool/tool-version.txt"],
                                 capture_output=True, text=True, check=True)
        assert listing.stdout == "aur-tool 2.0\n"
