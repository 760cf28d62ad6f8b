"""validpgpkeys (omg/arch/pgp.py): shown in review, imported only when the user allows.

Real gpg, a throwaway signing key, a local HKP keyserver and source server on
127.0.0.1, a build user of its own (a fresh keyring each test), real makepkg in bwrap
verifying the signed source.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import pwd
import shutil
import subprocess
import tarfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from omg.arch import pgp
from tests.arch import httpserve
from tests.arch.conftest import EPOCH, ArchWorld
from tests.arch.pgpkeys import Signer, signer_fixture  # noqa: F401 (a fixture)
from tests.conftest import OmgEnv

pytestmark = pytest.mark.slow

PGP_USER = "omg-sbx-pgp"
PKG = "sbx-signed"
SOURCE = b"a signed source\n"


def test_review_lines_show_the_keys() -> None:
    fpr = "24D10A1C8785D9F702BA24B9A0CAC6FDBECC6E89"
    srcinfo = (f"pkgbase = x\n\tvalidpgpkeys = {fpr.lower()}\n\tvalidpgpkeys = ABCD1234\n\n"
               f"pkgname = x\n\tvalidpgpkeys = {fpr}\n")
    assert pgp.validpgpkeys(srcinfo) == [fpr, "ABCD1234"]
    assert pgp.review_lines(srcinfo) == [
        "==> PGP keys the sources must be signed with (validpgpkeys):", f"    {fpr}",
        "    ABCD1234  (not a full fingerprint: makepkg will reject it)"]
    assert pgp.review_lines("pkgbase = x\n") == []


def test_keyserver_urls() -> None:
    f = "0" * 40
    assert pgp.lookup_url("hkps://keys.openpgp.org", f) == \
        f"https://keys.openpgp.org/pks/lookup?op=get&options=mr&search=0x{f}"
    assert pgp.lookup_url("hkp://127.0.0.1", f).startswith("http://127.0.0.1:11371/pks/")
    assert pgp.lookup_url("hkp://127.0.0.1:8080/", f).startswith("http://127.0.0.1:8080/pks/")


@dataclass
class Servers:
    url: str
    files: dict[str, bytes]
    keys: dict[str, bytes]
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def servers(signer: Signer) -> Iterator[Servers]:
    """One 127.0.0.1 server: the sources makepkg downloads and an HKP keyserver."""
    state = Servers("", {"/src.txt": SOURCE, "/src.txt.sig": signer.sign(SOURCE)},
                    {signer.fpr: signer.key_file.read_bytes()})

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            state.requests.append(self.path)
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path == "/pks/lookup" and query.get("op") == ["get"]:
                body = state.keys.get(query.get("search", [""])[0].removeprefix("0x").upper())
                ctype = "application/pgp-keys"
            else:
                body, ctype = state.files.get(url.path), "application/octet-stream"
            if body is None:
                self.send_error(404)
                return
            httpserve.reply(self, body, ctype)

    server, state.url = httpserve.start(Handler)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _pkgbuild(url: str, fpr: str) -> str:
    return (f"pkgname={PKG}\npkgver=1.0\npkgrel=1\npkgdesc='signed source'\narch=('any')\n"
            f"license=('MIT')\nsource=(\"{url}/src.txt\" \"{url}/src.txt.sig\")\n"
            f"sha256sums=('{hashlib.sha256(SOURCE).hexdigest()}' 'SKIP')\n"
            f"validpgpkeys=('{fpr}')\n"
            f"package() {{\n  install -Dm644 src.txt \"$pkgdir/usr/share/{PKG}/src.txt\"\n}}\n")


def _srcinfo(url: str, fpr: str) -> str:
    return (f"pkgbase = {PKG}\n\tpkgdesc = signed source\n\tpkgver = 1.0\n\tpkgrel = 1\n"
            f"\tarch = any\n\tlicense = MIT\n\tsource = {url}/src.txt\n"
            f"\tsource = {url}/src.txt.sig\n\tvalidpgpkeys = {fpr}\n"
            f"\tsha256sums = {hashlib.sha256(SOURCE).hexdigest()}\n\tsha256sums = SKIP\n\n"
            f"pkgname = {PKG}\n")


def _snapshot(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{PKG}/{name}")
            info.size, info.mtime = len(data), int(EPOCH)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _keyring_env(user: pwd.struct_passwd) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": user.pw_dir,
            "GNUPGHOME": os.path.join(user.pw_dir, ".gnupg")}


@pytest.fixture
def pgp_user() -> Iterator[pwd.struct_passwd]:
    """A build user of these tests' own, its keyring empty; its gpg-agents killed after."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a build user")
    if subprocess.run(["id", PGP_USER], capture_output=True).returncode:
        subprocess.run(["useradd", "-r", "-m", "-s", "/usr/sbin/nologin", PGP_USER],
                       check=True)
    user = pwd.getpwnam(PGP_USER)
    shutil.rmtree(os.path.join(user.pw_dir, ".gnupg"), ignore_errors=True)
    try:
        yield user
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=_keyring_env(user), user=user.pw_uid,
                       group=user.pw_gid, extra_groups=[], capture_output=True, cwd="/")
        shutil.rmtree(os.path.join(user.pw_dir, ".gnupg"), ignore_errors=True)


@pytest.fixture
def signed(world: ArchWorld, servers: Servers, signer: Signer, pgp_user: pwd.struct_passwd,
           aenv: OmgEnv) -> Iterator[OmgEnv]:
    """The AUR serves sbx-signed; omg builds as the tests' own build user."""
    world.aur.pkgs[PKG] = {"version": "1.0", "desc": "signed source"}
    world.aur.snapshots[PKG] = _snapshot({"PKGBUILD": _pkgbuild(servers.url, signer.fpr),
                                          ".SRCINFO": _srcinfo(servers.url, signer.fpr)})
    aenv.env.update({"OMG_BUILD_USER": PGP_USER})
    try:
        yield aenv
    finally:
        del world.aur.pkgs[PKG], world.aur.snapshots[PKG]


def _in_keyring(user: pwd.struct_passwd, fpr: str) -> bool:
    return subprocess.run(["gpg", "--batch", "--list-keys", fpr], env=_keyring_env(user),
                          user=user.pw_uid, group=user.pw_gid, extra_groups=[],
                          capture_output=True, cwd="/").returncode == 0


def _key_lookups(servers: Servers) -> list[str]:
    return [r for r in servers.requests if r.startswith("/pks/")]


def test_declined_import_fails_the_build_clearly(signed: OmgEnv, servers: Servers,
                                                 signer: Signer,
                                                 pgp_user: pwd.struct_passwd) -> None:
    proc = signed.run("aur", "build", PKG, input="y\nn\n")
    assert proc.returncode == 8, proc.stderr
    assert f"validpgpkeys):\n    {signer.fpr}\n" in proc.stdout  # shown in review
    assert f"Import PGP key {signer.fpr} (validpgpkeys of {PKG}) from keyserver " \
           f"hkps://keys.openpgp.org into {PGP_USER}'s keyring? [y/N] n" in proc.stderr
    assert f"error: PGP key {signer.fpr} was not imported: makepkg cannot verify the " \
           f"sources of {PKG}" in proc.stderr
    assert _key_lookups(servers) == [] and servers.requests == []
    assert not _in_keyring(pgp_user, signer.fpr)
    assert signed.store().names() == []


def test_noconfirm_without_import_keys_refuses(signed: OmgEnv, servers: Servers,
                                               signer: Signer,
                                               pgp_user: pwd.struct_passwd) -> None:
    proc = signed.run("aur", "build", PKG, "--noconfirm")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == f"error: PGP key {signer.fpr} (validpgpkeys of {PKG}) is not in " \
                       f"{PGP_USER}'s keyring"
    assert "--pgp-key FILE" in lines[1] and "import_keys = true" in lines[1]
    assert servers.requests == [] and not _in_keyring(pgp_user, signer.fpr)


def test_accepted_import_from_the_keyserver_then_the_signed_source_verifies(
        signed: OmgEnv, servers: Servers, signer: Signer, pgp_user: pwd.struct_passwd) -> None:
    signed.run("config", "set", "arch.keyserver", f"hkp://{servers.url.split('//')[1]}",
               check=True)
    proc = signed.run("aur", "build", PKG, input="y\ny\n")
    assert proc.returncode == 0, proc.stderr
    assert _key_lookups(servers) == [
        f"/pks/lookup?op=get&options=mr&search=0x{signer.fpr}"]
    assert _in_keyring(pgp_user, signer.fpr)
    assert {"/src.txt", "/src.txt.sig"} <= set(servers.requests)
    assert signed.store().find(PKG)


def test_a_bad_signature_fails_the_build(signed: OmgEnv, servers: Servers, signer: Signer
                                         ) -> None:
    """The control: what the imported key decides is makepkg's signature check."""
    servers.files["/src.txt.sig"] = signer.sign(b"not the source\n")
    proc = signed.run("aur", "build", PKG, "--noconfirm", "--pgp-key", str(signer.key_file))
    assert proc.returncode == 8, proc.stderr
    assert "src.txt" in proc.stderr and "FAILED" in proc.stderr
    assert signed.store().names() == []


def test_a_key_file_given_is_imported_without_asking(signed: OmgEnv, servers: Servers,
                                                     signer: Signer,
                                                     pgp_user: pwd.struct_passwd) -> None:
    proc = signed.run("aur", "build", PKG, "--noconfirm", "--pgp-key", str(signer.key_file))
    assert proc.returncode == 0, proc.stderr
    assert _key_lookups(servers) == [] and _in_keyring(pgp_user, signer.fpr)
    assert signed.store().find(PKG)


def test_import_keys_lets_noconfirm_use_the_keyserver(signed: OmgEnv, servers: Servers,
                                                      signer: Signer) -> None:
    signed.run("config", "set", "arch.keyserver", f"hkp://{servers.url.split('//')[1]}",
               check=True)
    signed.run("config", "set", "arch.import_keys", "true", check=True)
    proc = signed.run("aur", "build", PKG, "--noconfirm")
    assert proc.returncode == 0, proc.stderr
    assert len(_key_lookups(servers)) == 1
