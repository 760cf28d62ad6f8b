"""ed25519 keys of binary caches: the text forms, the secret file, sign and verify."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from omg.cache import keys
from store.errors import NotFound, UnsafeInput, UsageError


def test_text_forms_round_trip() -> None:
    secret = keys.generate("team-1")
    public = secret.public()
    assert public.text.startswith("team-1:")
    assert len(base64.b64decode(public.text.split(":", 1)[1])) == 32
    assert keys.parse_public(public.text) == public
    assert "team-1" in repr(secret) and secret.text.split(":")[1] not in repr(secret)


@pytest.mark.parametrize("text", ["", "nocolon", ":AAAA", "bad name:" + "A" * 44,
                                  "k:not base64!", "k:" + base64.b64encode(b"x" * 31).decode()])
def test_malformed_public_key_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="malformed public key"):
        keys.parse_public(text)


def test_sign_and_verify_against_trusted_keys() -> None:
    a, b = keys.generate("a"), keys.generate("b")
    sig = a.sign(b"data")
    assert keys.verify(b"data", [("a", sig)], [b.public(), a.public()]) == a.public()
    assert keys.verify(b"datA", [("a", sig)], [a.public()]) is None
    assert keys.verify(b"data", [("a", sig)], [b.public()]) is None  # not trusted
    # a key of the trusted name but other bytes: the name alone proves nothing
    impostor = keys.PublicKey("a", b.public().raw)
    assert keys.verify(b"data", [("a", sig)], [impostor]) is None
    # a malformed signature is skipped, a later good one still counts
    assert keys.verify(b"data", [("a", "!!"), ("a", "QUFB"), ("a", sig)],
                       [a.public()]) == a.public()


def test_secret_file_written_0600_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    key = keys.generate("k")
    os.umask(0o022)
    keys.write_secret(path, key)
    assert path.stat().st_mode & 0o777 == 0o600
    assert keys.load_secret(path) == key
    with pytest.raises(UsageError, match="exists"):
        keys.write_secret(path, keys.generate("k"))
    assert keys.load_secret(path) == key


def test_secret_file_open_to_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    keys.write_secret(path, keys.generate("k"))
    path.chmod(0o640)
    with pytest.raises(UnsafeInput, match="open to other users") as err:
        keys.load_secret(path)
    assert err.value.hint == f"chmod 600 {path}"


@pytest.mark.parametrize("content", [b"", b"k\n", b"\xff\xfe", b"k:AAAA\n"])
def test_malformed_secret_file_is_one_usage_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "secret"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(UsageError, match=f"malformed secret key file {path}"):
        keys.load_secret(path)


def test_missing_secret_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no secret key file"):
        keys.load_secret(tmp_path / "nothing")
    with pytest.raises(UsageError, match=r"cannot write secret key file .*: No such file"):
        keys.write_secret(tmp_path / "no-dir" / "k", keys.generate("k"))


@pytest.mark.parametrize("name", ["", "a:b", "a b", "-a", "x" * 129])
def test_invalid_key_names(name: str) -> None:
    with pytest.raises(UsageError, match="invalid key name"):
        keys.generate(name)
