"""validpgpkeys (omg/arch/pgp.py): shown in review, imported only when the user allows.

Real gpg; the test AUR's fixtures-signed, whose source the session's throwaway key
signed (world.signer); a local HKP keyserver on 127.0.0.1; a build user of these
tests' own whose keyring starts empty each test; real makepkg in bwrap verifying the
signature with the key omg imported.
"""

from __future__ import annotations

import http.server
import os
import pwd
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from omg.arch import build, pgp
from omg.arch.settings import ArchSettings
from tests.arch import fakeaur, httpserve
from tests.arch.conftest import ArchWorld
from tests.conftest import OmgEnv
from tests.support import sysusers

pytestmark = pytest.mark.slow

PGP_USER = "omg-sbx-pgp"
PKG = "fixtures-signed"


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
class Keyserver:
    url: str
    keys: dict[str, bytes]
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def keyserver(world: ArchWorld) -> Iterator[Keyserver]:
    """An HKP keyserver on 127.0.0.1 that knows the session's signing key."""
    state = Keyserver("", {world.signer.fingerprint: world.signer.public_key.read_bytes()})

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            state.requests.append(self.path)
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            body = None
            if url.path == "/pks/lookup" and query.get("op") == ["get"]:
                body = state.keys.get(query.get("search", [""])[0].removeprefix("0x").upper())
            if body is None:
                self.send_error(404)
                return
            httpserve.reply(self, body, "application/pgp-keys")

    server, url = httpserve.start(Handler)
    state.url = f"hkp://{url.split('//')[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _keyring_env(user: pwd.struct_passwd) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": user.pw_dir,
            "GNUPGHOME": os.path.join(user.pw_dir, ".gnupg")}


@pytest.fixture
def pgp_user() -> Iterator[pwd.struct_passwd]:
    """A build user of these tests' own, its keyring empty; its gpg-agents killed after."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a build user")
    user = sysusers.ensure_user(PGP_USER, home=True)
    shutil.rmtree(os.path.join(user.pw_dir, ".gnupg"), ignore_errors=True)
    try:
        yield user
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=_keyring_env(user), user=user.pw_uid,
                       group=user.pw_gid, extra_groups=[], capture_output=True, cwd="/")
        shutil.rmtree(os.path.join(user.pw_dir, ".gnupg"), ignore_errors=True)


@pytest.fixture
def signed(world: ArchWorld, pgp_user: pwd.struct_passwd, aenv: OmgEnv) -> OmgEnv:
    """omg builds as the tests' own build user, whose keyring is empty."""
    aenv.env.update({"OMG_BUILD_USER": PGP_USER})
    return aenv


def _in_keyring(user: pwd.struct_passwd, fpr: str) -> bool:
    return subprocess.run(["gpg", "--batch", "--list-keys", fpr], env=_keyring_env(user),
                          user=user.pw_uid, group=user.pw_gid, extra_groups=[],
                          capture_output=True, cwd="/").returncode == 0


def test_declined_import_fails_the_build_clearly(world: ArchWorld, signed: OmgEnv,
                                                 keyserver: Keyserver,
                                                 pgp_user: pwd.struct_passwd) -> None:
    fpr = world.signer.fingerprint
    proc = signed.run("aur", "build", PKG, input="y\nn\n")
    assert proc.returncode == 8, proc.stderr
    assert f"validpgpkeys):\n    {fpr}\n" in proc.stdout  # shown in review
    assert f"Import PGP key {fpr} (validpgpkeys of {PKG}) from keyserver " \
           f"hkps://keys.openpgp.org into {PGP_USER}'s keyring? [y/N] n" in proc.stderr
    assert f"error: PGP key {fpr} was not imported: makepkg cannot verify the " \
           f"sources of {PKG}" in proc.stderr
    assert keyserver.requests == [] and not _in_keyring(pgp_user, fpr)
    assert signed.store().names() == []


def test_noconfirm_without_import_keys_refuses(world: ArchWorld, signed: OmgEnv,
                                               keyserver: Keyserver,
                                               pgp_user: pwd.struct_passwd) -> None:
    fpr = world.signer.fingerprint
    signed.run("config", "set", "arch.keyserver", keyserver.url, check=True)
    proc = signed.run("aur", "build", PKG, "--noconfirm")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == f"error: PGP key {fpr} (validpgpkeys of {PKG}) is not in " \
                       f"{PGP_USER}'s keyring"
    assert "--pgp-key FILE" in lines[1] and "import_keys = true" in lines[1]
    assert keyserver.requests == [] and not _in_keyring(pgp_user, fpr)
    assert signed.store().names() == []


def test_accepted_import_from_the_keyserver_then_the_signed_source_verifies(
        world: ArchWorld, signed: OmgEnv, keyserver: Keyserver,
        pgp_user: pwd.struct_passwd) -> None:
    fpr = world.signer.fingerprint
    signed.run("config", "set", "arch.keyserver", keyserver.url, check=True)
    proc = signed.run("aur", "build", PKG, input="y\ny\n")
    assert proc.returncode == 0, proc.stderr
    assert keyserver.requests == [f"/pks/lookup?op=get&options=mr&search=0x{fpr}"]
    assert _in_keyring(pgp_user, fpr)
    assert signed.store().find(PKG)


def test_a_key_file_given_is_imported_without_asking(world: ArchWorld, signed: OmgEnv,
                                                     keyserver: Keyserver,
                                                     pgp_user: pwd.struct_passwd) -> None:
    proc = signed.run("aur", "build", PKG, "--noconfirm", "--pgp-key",
                      str(world.signer.public_key))
    assert proc.returncode == 0, proc.stderr
    assert keyserver.requests == [] and _in_keyring(pgp_user, world.signer.fingerprint)
    assert signed.store().find(PKG)


@pytest.fixture(scope="module")
def other_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[fakeaur.Signer]:
    key = fakeaur.Signer(tmp_path_factory.mktemp("other-key") / "gnupg")
    try:
        yield key
    finally:
        key.close()


def test_import_keys_lets_noconfirm_use_the_keyserver_but_only_for_that_key(
        world: ArchWorld, signed: OmgEnv, keyserver: Keyserver, pgp_user: pwd.struct_passwd,
        other_key: fakeaur.Signer) -> None:
    fpr = world.signer.fingerprint
    signed.run("config", "set", "arch.keyserver", keyserver.url, check=True)
    signed.run("config", "set", "arch.import_keys", "true", check=True)
    # a keyserver answering with another key: refused, nothing imported
    keyserver.keys[fpr] = other_key.public_key.read_bytes()
    bad = signed.run("aur", "build", PKG, "--noconfirm")
    assert bad.returncode == 5, bad.stderr
    assert bad.stderr.startswith(f"error: keyserver {keyserver.url} holds no key {fpr}")
    assert not _in_keyring(pgp_user, other_key.fingerprint)
    keyserver.keys[fpr] = world.signer.public_key.read_bytes()
    proc = signed.run("aur", "build", PKG, "--noconfirm")
    assert proc.returncode == 0, proc.stderr
    assert len(keyserver.requests) == 2 and _in_keyring(pgp_user, fpr)


def test_sandboxed_makepkg_verifies_with_the_build_user_s_keyring(
        world: ArchWorld, pgp_user: pwd.struct_passwd, tmp_path: Path) -> None:
    """The control: without the key makepkg (in bwrap, the keyring bound read-only)
    refuses the source; with the key omg imports, the same build passes."""
    arch = ArchSettings(home=tmp_path, build_dir=world.base / "builds" / tmp_path.name,
                        build_user=PGP_USER)
    snapshot = world.aur.snapshot(PKG)
    assert snapshot is not None
    (tmp_path / "snap.tar.gz").write_bytes(snapshot)

    def build_once() -> list[str]:
        with build.build_area(arch, "pgp") as work:
            src = build.extract_snapshot(tmp_path / "snap.tar.gz", work, PKG)
            return [p.name for p in build.makepkg(arch, src, PKG)]

    with pytest.raises(build.MakepkgFailed) as err:
        build_once()
    assert any("unknown public key" in line for line in err.value.log_tail), \
        err.value.log_tail
    fpr = world.signer.fingerprint
    pgp.import_key(arch, fpr, world.signer.public_key.read_bytes(), "the test key")
    assert build_once() == [f"{PKG}-1.0-1-any.pkg.tar.zst"]
