"""`omg pkg fetch` (omg/arch/fetch.py): repository packages into the store, each checked
per SigLevel against a private pacman keyring.

The repository is made by repo-add from the session's real packages: repolib signed
(a `.sig` next to it), python-repotool unsigned, python with a bad signature that only
the db's PGPSIG carries. The session's throwaway key (world.signer) signs;
`<GPGDir>/pubring.gpg` holds it.
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from omg.arch.fetch import package_siglevel
from omg.signatures import dearmor
from tests.arch import httpserve
from tests.arch.conftest import ArchWorld
from tests.conftest import OmgEnv


@pytest.mark.parametrize(("options", "repo", "level"), [
    (None, None, "optional"),  # pacman's built-in Optional TrustedOnly
    ("Required DatabaseOptional", None, "required"),
    ("Required", "Optional", "optional"),  # the repository's over [options]'s
    ("Never", "DatabaseRequired", "never"),  # a Database token leaves packages alone
    ("Optional TrustAll", "PackageRequired", "required"),
    ("Required", "Never PackageOptional", "optional"),  # left to right
])
def test_package_siglevel(options: str | None, repo: str | None, level: str) -> None:
    assert package_siglevel(options, repo) == level


@dataclass
class SignedRepo:
    conf: Path


@pytest.fixture(scope="module")
def signed_repo(arch_world: ArchWorld) -> Iterator[SignedRepo]:
    base = arch_world.base / "signed"
    repo_dir = base / "repo"
    repo_dir.mkdir(parents=True)
    pkgs = {n: Path(shutil.copy(p, repo_dir)) for n, p in arch_world.repo_pkgs.items()}
    arch_world.signer.sign(pkgs["repolib"])
    other = base / "some-other-file"
    other.write_bytes(b"not the package")
    arch_world.signer.sign(other)
    bad = repo_dir / f"{pkgs['python'].name}.sig"
    Path(f"{other}.sig").rename(bad)
    subprocess.run(["repo-add", "-q", str(repo_dir / "sigrepo.db.tar.gz"),
                    *map(str, pkgs.values())], check=True, capture_output=True)
    bad.unlink()  # python's (bad) signature is only in the db now
    gpgdir, dbpath = base / "gnupg", base / "db"
    gpgdir.mkdir()
    (gpgdir / "pubring.gpg").write_bytes(dearmor(arch_world.signer.public_key.read_bytes()))
    (dbpath / "sync").mkdir(parents=True)
    (base / "root").mkdir()
    for repo in ("sigrepo", "optrepo"):
        shutil.copy(repo_dir / "sigrepo.db.tar.gz", dbpath / "sync" / f"{repo}.db")
    shutil.copy(repo_dir / "sigrepo.db.tar.gz", dbpath / "sync" / "httprepo.db")

    class Files(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(repo_dir), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server, url = httpserve.start(Files)
    conf = base / "pacman.conf"
    conf.write_text(f"[options]\nRootDir = {base}/root\nDBPath = {dbpath}\nGPGDir = {gpgdir}\n"
                    f"Architecture = x86_64\nSigLevel = Required DatabaseOptional\n\n"
                    f"[sigrepo]\nServer = file://{repo_dir}\n\n"
                    f"[optrepo]\nSigLevel = PackageOptional\nServer = file://{repo_dir}\n\n"
                    f"[httprepo]\nServer = {url}\n")
    try:
        yield SignedRepo(conf)
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def fenv(signed_repo: SignedRepo, aenv: OmgEnv) -> OmgEnv:
    aenv.env["OMG_PACMAN_CONF"] = str(signed_repo.conf)
    return aenv


@pytest.mark.parametrize("repo", ["sigrepo", "httprepo"])
def test_a_signed_package_is_verified_and_kept(world: ArchWorld, fenv: OmgEnv,
                                               repo: str) -> None:
    fpr = world.signer.fingerprint
    proc = fenv.run("pkg", "fetch", f"{repo}/repolib")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{repo}/repolib 1.0-1 -> ")
    assert proc.stdout.rstrip().endswith(f"(signature: verified by {fpr})")
    (rec,) = fenv.store().find("repolib")
    assert rec.origin is not None and rec.origin["repo"] == repo
    assert rec.origin["signature"] == f"verified by {fpr}"
    roots = Path(fenv.env["OMG_HOME"]) / "gcroots"
    assert [p.name for p in roots.glob("*/installs/*")] == ["repolib@1.0-1"]  # kept
    # and usable through a profile, as an AUR build is: its usr/bin on the profile's PATH
    fenv.run("use", f"{repo}/repolib", check=True)
    assert rec.path in fenv.run("which", "repolib", check=True).stdout
    current = json.loads(fenv.run("current", "--json", check=True).stdout)
    ran = subprocess.run(["bash", "-c", "repolib"], capture_output=True, text=True,
                         env={"PATH": f"{current['bin']}:/usr/bin:/bin"})
    assert (ran.returncode, ran.stdout) == (0, "repolib 1.0\n"), ran.stderr


def test_unsigned_under_required_is_refused(fenv: OmgEnv) -> None:
    proc = fenv.run("pkg", "fetch", "sigrepo/python-repotool")
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.splitlines()[0] == ("error: sigrepo/python-repotool is not signed, "
                                           "and its SigLevel requires a signature")
    assert fenv.store().names() == []


def test_the_repository_s_siglevel_wins(fenv: OmgEnv) -> None:
    proc = fenv.run("pkg", "fetch", "optrepo/python-repotool")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("(signature: unsigned)")


@pytest.mark.parametrize("repo", ["sigrepo", "optrepo", "httprepo"])
def test_a_bad_signature_is_refused_and_nothing_is_added(fenv: OmgEnv, repo: str) -> None:
    """Even under Optional; and a good package named with it is not added either."""
    proc = fenv.run("pkg", "fetch", f"{repo}/repolib", f"{repo}/python")
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.splitlines()[0] == f"error: {repo}/python: bad signature"
    assert fenv.store().names() == []
