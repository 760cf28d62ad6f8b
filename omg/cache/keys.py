"""Signing keys of binary caches: ed25519, written as ``NAME:BASE64`` (docs/binary-cache.md).

A public key is ``NAME:`` and the base64 of its 32 raw bytes; a secret file holds
``NAME:`` and the base64 of the 32-byte raw private key, mode 0600. The name travels
with each signature, so a verifier tries only the trusted key of that name (several
keys may sign one manifest; rotating a key is adding a name).

`cryptography` is imported inside the functions that sign or verify: only the cache
commands and substitution reach them, never `omg use` between installed versions.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from store.errors import IntegrityError, NotFound, UnsafeInput, UsageError
from store.fsutil import unlink_quietly, write_all

#: Key names: what a signature says signed it (no colon, no space: the text form splits).
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
RAW_SIZE = 32
SIGNATURE_SIZE = 64


@dataclass(frozen=True)
class _Key:
    name: str
    raw: bytes

    @property
    def text(self) -> str:
        return f"{self.name}:{base64.b64encode(self.raw).decode('ascii')}"


@dataclass(frozen=True)
class PublicKey(_Key):
    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, repr=False)
class SecretKey(_Key):
    def __repr__(self) -> str:  # never the secret in a traceback or a log
        return f"SecretKey({self.name!r})"

    def public(self) -> PublicKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        key = Ed25519PrivateKey.from_private_bytes(self.raw).public_key()
        return PublicKey(self.name, key.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, data: bytes) -> str:
        """The base64 ed25519 signature of `data`."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        sig = Ed25519PrivateKey.from_private_bytes(self.raw).sign(data)
        return base64.b64encode(sig).decode("ascii")


def generate(name: str) -> SecretKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    check_name(name)
    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw,
                                                      NoEncryption())
    return SecretKey(name, raw)


def check_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise UsageError(f"invalid key name {name!r}: use up to 128 letters, digits and . _ -, "
                         "starting with a letter or digit")


def _split(text: str, what: str) -> tuple[str, bytes]:
    """(name, raw bytes) of a ``NAME:BASE64`` text; UsageError naming `what` if it is not one."""
    name, sep, b64 = text.strip().partition(":")
    if not sep or not NAME_RE.match(name):
        raise UsageError(f"malformed {what}: expected NAME:BASE64")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(f"malformed {what} {name!r}: the part after ':' is not base64") from None
    if len(raw) != RAW_SIZE:
        raise UsageError(f"malformed {what} {name!r}: {len(raw)} bytes, not {RAW_SIZE}")
    return name, raw


def parse_public(text: str) -> PublicKey:
    """A public key from its text form (`trusted_keys`, `omg cache keygen`'s output)."""
    return PublicKey(*_split(text, f"public key {text.strip()[:80]!r}"))


def parse_publics(texts: Iterable[str]) -> list[PublicKey]:
    return [parse_public(t) for t in texts]


def load_secret(path: Path) -> SecretKey:
    """The secret key in file `path`; a file others may read is refused, as ssh does."""
    fd = _open(path, os.O_RDONLY, "read")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"secret key file {path}: not a regular file")
        if st.st_mode & 0o077:
            raise UnsafeInput(f"secret key file {path} is open to other users "
                              f"(mode {stat.S_IMODE(st.st_mode):04o})",
                              hint=f"chmod 600 {path}")
        data = os.read(fd, 4096)
    finally:
        os.close(fd)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise UsageError(f"malformed secret key file {path}: not text") from None
    return SecretKey(*_split(text, f"secret key file {path}"))


def _open(path: Path, flags: int, verb: str) -> int:
    """A descriptor on secret key file `path` (never through a symlink), or one line."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except FileNotFoundError as exc:
        if flags & os.O_CREAT:  # its directory is missing
            raise UsageError(f"cannot write secret key file {path}: {exc.strerror}") from exc
        raise NotFound(f"no secret key file {path}",
                       hint="omg cache keygen NAME --secret-file FILE makes one") from None
    except FileExistsError:  # O_EXCL: a key is never overwritten
        raise UsageError(f"secret key file {path} exists: not overwritten",
                         hint="choose another file, or remove it first") from None
    except OSError as exc:
        raise UsageError(f"cannot {verb} secret key file {path}: {exc.strerror}") from exc


def write_secret(path: Path, key: SecretKey) -> None:
    """Write `key` to a new file `path`, mode 0600; an existing file is never replaced."""
    fd = _open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, "write")
    try:
        try:
            os.fchmod(fd, 0o600)  # whatever the umask said
            write_all(fd, (key.text + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:  # a full disk: no half-written key left to be mistaken for one
        unlink_quietly(str(path))
        raise UsageError(f"cannot write secret key file {path}: {exc.strerror}") from exc


def verify(data: bytes, signatures: Iterable[tuple[str, str]],
           trusted: Sequence[PublicKey]) -> PublicKey | None:
    """The trusted key that signed `data` (signatures as (key name, base64)), or None.

    A signature by a key name nobody trusts, or one that is malformed, is skipped:
    another signature may still be good.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    by_name: dict[str, list[PublicKey]] = {}
    for key in trusted:
        by_name.setdefault(key.name, []).append(key)
    for name, sig_b64 in signatures:
        sig = _signature_bytes(sig_b64)
        if sig is None:
            continue
        for key in by_name.get(name, ()):
            try:
                Ed25519PublicKey.from_public_bytes(key.raw).verify(sig, data)
            except (InvalidSignature, ValueError):
                continue
            return key
    return None


def check_signature_text(sig: str, label: str) -> None:
    """IntegrityError unless `sig` is the base64 of 64 bytes (a manifest's field check)."""
    if _signature_bytes(sig) is None:
        raise IntegrityError(f"{label}: malformed signature")


def _signature_bytes(sig: str) -> bytes | None:
    """The 64 bytes `sig` is the base64 of, or None."""
    try:
        raw = base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == SIGNATURE_SIZE else None
