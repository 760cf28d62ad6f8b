"""PGP signatures of checksum files (Node detached .sig, Bun clear-signed .asc) with gpgv."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from omg import install
from omg.config import Settings
from store.errors import IntegrityError
from tests.providers.mirrors import MirrorServer

pytestmark = pytest.mark.skipif(not (shutil.which("gpg") and shutil.which("gpgv")),
                                reason="gpg and gpgv are needed")


def _gpg(home: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--yes", "--quiet",
                           "--pinentry-mode", "loopback", "--passphrase", "", *args],
                          input=stdin, capture_output=True, check=True).stdout


@pytest.fixture
def keyring(tmp_path: Path) -> tuple[Path, Path]:
    """(gpg home with a signing key, a keyring file holding its public key)."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    _gpg(home, "--quick-gen-key", "omg test <test@example.invalid>", "ed25519", "sign", "never")
    pub = _gpg(home, "--export")
    ring = tmp_path / "trusted.gpg"
    ring.write_bytes(pub)
    return home, ring


def test_node_signature_good_and_bad(settings: Settings, mirror: MirrorServer,
                                     keyring: tuple[Path, Path],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    home, ring = keyring
    sums = mirror.root / "dist/v20.12.0/SHASUMS256.txt"
    _gpg(home, "--detach-sign", "-o", str(sums) + ".sig", str(sums))
    monkeypatch.setenv("OMG_NODE_KEYRING", str(ring))
    [r] = install.install(settings, ["node@20.12.0"])
    assert r.created
    sums18 = mirror.root / "dist/v18.19.0/SHASUMS256.txt"
    _gpg(home, "--detach-sign", "-o", str(sums18) + ".sig", str(sums18))
    sums18.write_text(sums18.read_text() + "\n")  # changed after signing
    with pytest.raises(IntegrityError, match="signature"):
        install.install(settings, ["node@18"])


def test_bun_clearsigned(settings: Settings, mirror: MirrorServer, keyring: tuple[Path, Path],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    home, ring = keyring
    d = mirror.root / "bun-dl/bun-v1.1.8"
    _gpg(home, "--clearsign", "-o", str(d / "SHASUMS256.txt.asc"), str(d / "SHASUMS256.txt"))
    (d / "SHASUMS256.txt").write_text("garbage that must not be used\n")
    monkeypatch.setenv("OMG_BUN_KEYRING", str(ring))
    [r] = install.install(settings, ["bun@1.1.8"])
    assert r.created
