"""Provenance (omg/provenance.py): real Sigstore bundles verified offline against the
trust root omg ships, the bundles sigstore-python cannot check offline, and what an
install records.

Fixtures (tests/provenance/fixtures), copied unchanged from sigstore/sigstore-python's
test assets, with the real artifact where it is small enough:
- ``rfc8785-0.1.2-py3-none-any.whl`` and its ``.sigstore`` bundle (test/assets/
  bundle_v3_github.whl{,.sigstore}): the wheel PyPI serves for rfc8785 0.1.2 (sha256
  c4e92e9e..., as PyPI lists it), signed by trailofbits/rfc8785.py's release workflow
  on Sigstore's public-good instance (Rekor hashedrekord 0.0.1);
- ``sigstore-3.1.0.tgz.sigstore.json`` (test/assets/npm/): npm's SLSA provenance of
  sigstore@3.1.0 as the registry's /-/npm/v1/attestations/ served it (Rekor intoto
  0.0.2);
- ``Python-3.12.5.tgz.sigstore`` (test/assets/integration/): python.org's bundle of the
  CPython 3.12.5 source tarball, signed by thomas@python.org (no checkpoint).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from omg import install, provenance
from omg.config import Settings
from omg.provenance import GITHUB_ACTIONS, BadAttestation, Identity
from store.errors import NetworkError, NotFound
from store.local import LocalStore
from store.record import PathRecord
from tests.conftest import OmgEnv
from tests.providers.mirrors import MirrorServer

FIXTURES = Path(__file__).parent / "fixtures"
WHEEL = FIXTURES / "rfc8785-0.1.2-py3-none-any.whl"
WHEEL_SHA = hashlib.sha256(WHEEL.read_bytes()).hexdigest()
RFC8785 = Identity(GITHUB_ACTIONS, repository="trailofbits/rfc8785.py")


def _bundle(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((FIXTURES / name).read_text())
    return data


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any connection attempt fails the test: verification must be offline."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("provenance verification tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def test_the_wheel_is_the_one_pypi_serves() -> None:
    assert WHEEL_SHA == "c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201"


def test_a_real_bundle_verifies_offline_for_its_artifact(no_network: None) -> None:
    got = provenance.verify(_bundle(WHEEL.name + ".sigstore"), WHEEL_SHA, RFC8785, "u")
    assert got == {"status": "verified", "url": "u", "issuer": GITHUB_ACTIONS,
                   "identity": "https://github.com/trailofbits/rfc8785.py/.github/workflows/"
                               "release.yml@refs/tags/v0.1.2",
                   "log_index": 79605083}


@pytest.mark.parametrize(("sha", "identity", "why"), [
    ("0" * 64, RFC8785, "Bundle message digest mismatch"),
    (WHEEL_SHA, Identity(GITHUB_ACTIONS, repository="astral-sh/python-build-standalone"),
     "GitHubWorkflowRepository does not match"),
    (WHEEL_SHA, Identity("https://accounts.google.com", email="thomas@python.org"),
     "does not verify"),
])
def test_a_bundle_of_another_artifact_or_signer_is_refused(no_network: None, sha: str,
                                                           identity: Identity,
                                                           why: str) -> None:
    with pytest.raises(BadAttestation, match=why) as info:
        provenance.verify(_bundle(WHEEL.name + ".sigstore"), sha, identity, "u")
    assert info.value.exit_code == 5


def test_a_tampered_bundle_is_refused(no_network: None) -> None:
    bundle = _bundle(WHEEL.name + ".sigstore")
    sig = bundle["messageSignature"]
    assert isinstance(sig, dict)
    raw = bytearray(base64.b64decode(sig["signature"]))
    raw[-1] ^= 1
    sig["signature"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(BadAttestation):
        provenance.verify(bundle, WHEEL_SHA, RFC8785, "u")


@pytest.mark.parametrize(("name", "why"), [
    ("sigstore-3.1.0.tgz.sigstore.json", "kind intoto/0.0.2"),
    ("Python-3.12.5.tgz.sigstore", "no checkpoint"),
])
def test_bundles_sigstore_python_cannot_check_offline_are_unverifiable(
        no_network: None, name: str, why: str) -> None:
    got = provenance.verify(_bundle(name), WHEEL_SHA, RFC8785, "u")
    assert got["status"] == "unverifiable" and why in str(got["reason"])


def test_check_takes_the_first_bundle_found_and_reads_githubs_api_answers() -> None:
    bundle = (FIXTURES / (WHEEL.name + ".sigstore")).read_bytes()
    api = json.dumps({"attestations": [{"bundle": json.loads(bundle),
                                        "repository_id": 1}]}).encode()
    asked: list[str] = []

    def fetch(answers: dict[str, bytes | Exception]) -> Callable[[str], bytes]:
        def get(url: str) -> bytes:
            asked.append(url)
            answer = answers[url]
            if isinstance(answer, Exception):
                raise answer
            return answer
        return get

    got = provenance.check(RFC8785, ["a", "b"], WHEEL_SHA,
                           fetch({"a": NotFound("no"), "b": api}))
    assert (got["status"], got["url"], asked) == ("verified", "b", ["a", "b"])
    assert provenance.check(RFC8785, ["a", "b"], WHEEL_SHA, fetch(
        {"a": NotFound("no"), "b": NetworkError("down")})) == {"status": "absent"}
    for junk in (b"<html>404</html>", b'{"attestations": []}'):
        assert provenance.check(RFC8785, ["a"], WHEEL_SHA, fetch({"a": junk})) == {
            "status": "unverifiable", "url": "a", "reason": "not a Sigstore bundle"}


def test_describe_says_what_was_recorded() -> None:
    assert provenance.describe({"status": "verified", "identity": "thomas@python.org",
                                "log_index": 7}) == \
        "verified: Sigstore, signed by thomas@python.org (Rekor log index 7)"
    assert provenance.describe({"status": "unverifiable", "reason": "why", "url": "u"}) == \
        "not verified: why (u)"
    assert provenance.describe({"status": "absent"}).startswith("not verified: upstream")


def test_findings_list_paths_whose_provenance_was_not_verified() -> None:
    def rec(version: str, prov: dict[str, object] | None) -> PathRecord:
        origin = {"url": "u", "sha256": WHEEL_SHA, **({"provenance": prov} if prov else {})}
        return PathRecord(f"h-python-{version}", "h", "python", version, 1, 1, origin=origin)

    found = provenance.findings([
        rec("3.12.5", {"status": "verified"}), rec("3.12.4", {"status": "absent"}),
        rec("3.12.3", {"status": "unverifiable", "reason": "no checkpoint"}),
        rec("3.12.2", None)])
    assert [(f.version, f.kind, f.summary) for f in found] == [
        ("3.12.4", "unattested", "provenance not verified: the mirror had no Sigstore bundle"),
        ("3.12.3", "unattested", "provenance not verified: no checkpoint")]


def test_install_records_provenance_and_refuses_a_bundle_of_another_artifact(
        settings: Settings, mirror: MirrorServer, omg_env: OmgEnv) -> None:
    [r] = install.install(settings, ["python@3.12.5"])
    assert (r.record.origin or {})["provenance"] == {"status": "absent"}
    info = omg_env.run("store", "info", r.record.path, check=True,
                       extra_env=dict(os.environ)).stdout
    assert "provenance:  not verified: upstream attests, but no Sigstore bundle" in info
    # A mirror serving a real bundle, but of another artifact: nothing is installed.
    asset = mirror.root / "pbs" / "20240713" / \
        "cpython-3.12.4+20240713-x86_64-unknown-linux-gnu-install_only.tar.gz"
    (asset.parent / (asset.name + ".sigstore.json")).write_bytes(
        (FIXTURES / (WHEEL.name + ".sigstore")).read_bytes())
    store = LocalStore(settings.layout)
    try:
        before = store.names()
    finally:
        store.close()
    with pytest.raises(BadAttestation, match="does not verify") as info:
        install.install(settings, ["python@3.12.4"])
    assert info.value.exit_code == 5
    store = LocalStore(settings.layout)
    try:
        assert store.names() == before
    finally:
        store.close()
