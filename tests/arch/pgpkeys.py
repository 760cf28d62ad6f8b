"""A throwaway PGP signing key for the Arch tests (test_pgp, test_fetch); its
gpg-agent is killed at teardown."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

GPG = ["gpg", "--batch", "--no-tty", "--quiet"]


@dataclass
class Signer:
    fpr: str
    key_file: Path  # the public key, armored
    home: Path

    def run(self, *args: str, data: bytes | None = None) -> bytes:
        return subprocess.run([*GPG, *args], env={**os.environ, "GNUPGHOME": str(self.home)},
                              check=True, capture_output=True, input=data).stdout

    def sign(self, data: bytes) -> bytes:
        """A binary detached signature, as makepkg and repo-add use."""
        return self.run("--detach-sign", "--output", "-", data=data)


@pytest.fixture(scope="session", name="signer")
def signer_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signer]:
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    base = tmp_path_factory.mktemp("signer")
    home = base / "gnupg"
    home.mkdir(mode=0o700)
    s = Signer("", base / "key.asc", home)
    try:
        s.run("--passphrase", "", "--quick-gen-key", "Sandbox Test <t@omg.test>", "ed25519",
              "sign", "never")
        listing = s.run("--with-colons", "--list-keys").decode()
        s.fpr = next(line.split(":")[9] for line in listing.splitlines()
                     if line.startswith("fpr:"))
        s.key_file.write_bytes(s.run("--armor", "--export", s.fpr))
        yield s
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env={**os.environ, "GNUPGHOME": str(home)},
                       capture_output=True)
