"""Upstream PGP signatures fail closed (omg.signatures), on mirrors in upstream layout.

A test key is made here (gpg --quick-gen-key in a temporary GNUPGHOME, its agent
stopped afterwards) and the mirror serves good, bad and missing signatures the way
each upstream publishes them: Node ``SHASUMS256.txt.sig`` (detached) or ``.asc``
(clear-signed), Bun ``SHASUMS256.txt.asc`` (clear-signed), Go ``<archive>.asc`` and
Adoptium ``signature_link`` (detached, of the archive), Rust ``channel-rust-*.toml.asc``.
``OMG_<TOOL>_KEYRING`` points omg at the test key instead of the shipped ones; the
shipped keys are checked against real signed samples at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from omg import install
from omg.config import Settings
from omg.providers import get
from omg.providers.base import Release
from omg.signatures import KEYS_DIR, BadSignature, Checker, Signature
from store.errors import IntegrityError
from tests.conftest import OmgEnv
from tests.providers.mirrors import MirrorServer

pytestmark = pytest.mark.skipif(not (shutil.which("gpg") and shutil.which("gpgv")),
                                reason="gpg and gpgv are needed (scripts/setup.sh installs "
                                       "them)")

DATA = Path(__file__).parent / "data" / "signed"
#: Resolved once: a test below runs omg with a PATH that has no gpg tools.
GPG, GPGCONF = shutil.which("gpg") or "gpg", shutil.which("gpgconf") or "gpgconf"
NODE_SUMS = "dist/v20.12.0/SHASUMS256.txt"
BUN_DIR = "bun-dl/bun-v1.1.8"
GO_FILE = "dl/go1.22.3.linux-amd64.tar.gz"
RUST_MANIFEST = "dist/channel-rust-stable.toml"


class Signer:
    """A signing key in its own GNUPGHOME, and a keyring file with its public half."""

    def __init__(self, home: Path, ring: Path) -> None:
        self.home, self.ring = home, ring
        self.fingerprint = self.gpg("--list-keys", "--with-colons").decode().split(
            "\nfpr:::::::::", 1)[1].split(":", 1)[0]

    def gpg(self, *args: str) -> bytes:
        return subprocess.run([GPG, "--homedir", str(self.home), "--batch", "--yes",
                               "--quiet", "--pinentry-mode", "loopback", "--passphrase", "",
                               *args], capture_output=True, check=True).stdout

    def detach(self, path: Path, sig: Path, *, armor: bool = False) -> None:
        self.gpg(*(["--armor"] if armor else []), "--detach-sign", "-o", str(sig), str(path))

    def clearsign(self, path: Path, out: Path) -> None:
        self.gpg("--clearsign", "-o", str(out), str(path))


def _make_signer(root: Path) -> Signer:
    # gpg-agent's socket lives in the home: a pytest tmp_path (under a worker's
    # popen-gwN/ too) can exceed the 108 bytes of a Unix socket's path.
    home = Path(tempfile.mkdtemp(prefix="omg-gpg-", dir="/tmp"))
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run([GPG, "--homedir", str(home), "--batch", "--passphrase", "",
                    "--quick-gen-key", f"omg test {root.name} <test@example.invalid>",
                    "ed25519", "sign", "never"], capture_output=True, check=True)
    ring = root / "trusted.gpg"
    ring.write_bytes(subprocess.run([GPG, "--homedir", str(home), "--batch", "--export"],
                                    capture_output=True, check=True).stdout)
    return Signer(home, ring)


def _stop_agent(signer: Signer) -> None:
    subprocess.run([GPGCONF, "--homedir", str(signer.home), "--kill", "all"],
                   capture_output=True, check=False)
    shutil.rmtree(signer.home, ignore_errors=True)


@pytest.fixture
def signer(tmp_path: Path) -> Iterator[Signer]:
    s = _make_signer(tmp_path / "key")
    yield s
    _stop_agent(s)


@pytest.fixture
def stranger(tmp_path: Path) -> Iterator[Signer]:
    """Another key, which omg is not told about."""
    s = _make_signer(tmp_path / "other")
    yield s
    _stop_agent(s)


@pytest.fixture
def trust(signer: Signer, monkeypatch: pytest.MonkeyPatch) -> Signer:
    """omg trusts the test key for every tool (instead of the keys it ships)."""
    for tool in ("node", "bun", "go", "rust", "java"):
        monkeypatch.setenv(f"OMG_{tool.upper()}_KEYRING", str(signer.ring))
    monkeypatch.delenv("OMG_SIGNATURES", raising=False)
    return signer


def _signature(record_origin: dict[str, object] | None) -> dict[str, object]:
    checked = (record_origin or {}).get("signature")
    assert isinstance(checked, dict)
    return checked


def _store_paths(settings: Settings) -> list[str]:
    store = settings.layout.store
    return sorted(os.listdir(store)) if store.is_dir() else []


def _hits(mirror: MirrorServer, path: str) -> int:
    return sum(1 for p, _ in mirror.requests if p == "/" + path)


def _refused(settings: Settings, spec: str, match: str) -> IntegrityError:
    before = _store_paths(settings)
    with pytest.raises(IntegrityError, match=match) as info:
        install.install(settings, [spec])
    assert _store_paths(settings) == before  # nothing added
    return info.value


# Node: SHASUMS256.txt.sig, else SHASUMS256.txt.asc ------------------------------------


def test_node_good_detached_signature_is_verified_and_recorded(
        settings: Settings, mirror: MirrorServer, trust: Signer, omg_env: OmgEnv) -> None:
    sums = mirror.root / NODE_SUMS
    trust.detach(sums, sums.with_name("SHASUMS256.txt.sig"))
    [r] = install.install(settings, ["node@20.12.0"])
    assert r.created and not [w for w in r.warnings if "signature" in w]
    checked = _signature(r.record.origin)
    assert checked == {"status": "verified", "url": f"{mirror.url}/{NODE_SUMS}.sig",
                       "key": trust.fingerprint}
    shown = omg_env.run("store", "info", str(r.store_path), check=True).stdout
    assert f"signature:   verified: upstream's signature, by key {trust.fingerprint}" in shown


def test_node_bad_signature_is_refused_and_the_checksum_file_dropped(
        settings: Settings, mirror: MirrorServer, mirror_env: dict[str, str], trust: Signer,
        omg_env: OmgEnv) -> None:
    sums = mirror.root / NODE_SUMS
    trust.detach(sums, sums.with_name("SHASUMS256.txt.sig"))
    sums.write_text(sums.read_text() + "\n")  # changed after signing
    err = _refused(settings, "node@20.12.0", "bad signature")
    assert isinstance(err, BadSignature) and err.exit_code == 5
    assert err.hint and "nothing was installed" in err.hint
    # The CLI: exit 5, one error line and its hint, nothing added.
    proc = omg_env.run("install", "node@20.12.0", extra_env={
        **mirror_env, "OMG_NODE_KEYRING": str(trust.ring)})
    assert proc.returncode == 5, proc.stderr
    first, hint = proc.stderr.splitlines()[:2]
    assert first.startswith(f"error: {mirror.url}/{NODE_SUMS}.sig: bad signature for ")
    assert hint.startswith("hint: the mirror or the download is corrupt or tampered with")
    assert _store_paths(settings) == []
    # The cached checksum file was dropped: once the mirror is fixed it is read afresh.
    trust.detach(sums, sums.with_name("SHASUMS256.txt.sig"))
    before = _hits(mirror, NODE_SUMS)
    [r] = install.install(settings, ["node@20.12.0"])
    assert r.created and _hits(mirror, NODE_SUMS) == before + 1
    assert _signature(r.record.origin)["status"] == "verified"


def test_node_clear_signed_asc_is_used_when_there_is_no_sig(
        settings: Settings, mirror: MirrorServer, trust: Signer) -> None:
    sums = mirror.root / NODE_SUMS
    trust.clearsign(sums, sums.with_name("SHASUMS256.txt.asc"))
    sums.write_text("garbage the signed text replaces\n")
    [r] = install.install(settings, ["node@20.12.0"])
    assert r.created
    assert _signature(r.record.origin)["url"] == f"{mirror.url}/{NODE_SUMS}.asc"


@pytest.mark.parametrize(("spec", "where"), [
    ("node@20.12.0", f"{NODE_SUMS}.sig"), ("bun@1.0.36", "bun-v1.0.36/SHASUMS256.txt.asc"),
    ("go@1.22.3", f"{GO_FILE}.asc"), ("rust@stable+minimal", f"{RUST_MANIFEST}.asc"),
    ("java@21.0.3", "jdk-dl/OpenJDK21U-jdk_x64_linux_hotspot_21.0.3_9.tar.gz.sig")])
def test_missing_signature_warns_once_and_installs(settings: Settings, mirror: MirrorServer,
                                                   trust: Signer, spec: str,
                                                   where: str) -> None:
    [r] = install.install(settings, [spec])
    warned = [w for w in r.warnings if "no signature on this mirror" in w]
    assert r.created and len(warned) == 1, r.warnings
    # One warning in all: `[policy] unsigned` (default "warn") does not say it again.
    assert [w for w in r.warnings if "signature" in w] == warned
    assert where in warned[0] and warned[0].endswith(": not verified (sha256 only)")
    assert _signature(r.record.origin)["status"] == "missing"


def test_use_that_installs_warns_once_of_a_missing_signature(
        mirror_env: dict[str, str], trust: Signer, omg_env: OmgEnv) -> None:
    """`omg use` that installs: the install's warning, and not `[policy] unsigned` again
    for the store path it just made (it still says it on a later use of that path)."""
    env = {**mirror_env, "OMG_BUN_KEYRING": str(trust.ring)}
    proc = omg_env.run("use", "bun@1.0.36", extra_env=env, check=True)
    said = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "signature" in ln]
    assert len(said) == 1 and "no signature on this mirror" in said[0], said
    omg_env.run("use", "bun@1.1.8", extra_env=env, check=True)
    again = omg_env.run("use", "bun@1.0.36", extra_env=env, check=True)
    assert [ln for ln in (again.stdout + again.stderr).splitlines() if "signature" in ln
            ] == ["warning: bun 1.0.36: upstream signs it, but its signature was not "
                  "verified (missing)"]


def test_require_refuses_a_missing_signature(settings: Settings, mirror: MirrorServer,
                                             trust: Signer,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMG_SIGNATURES", "require")
    err = _refused(settings, "node@20.12.0", "no signature on this mirror")
    assert err.exit_code == 5 and err.hint and "when-available" in err.hint


def test_require_refuses_without_gpgv(settings: Settings, mirror: MirrorServer,
                                      trust: Signer, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sums = mirror.root / NODE_SUMS
    trust.detach(sums, sums.with_name("SHASUMS256.txt.sig"))
    empty = tmp_path / "no-gpgv"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("OMG_SIGNATURES", "require")
    err = _refused(settings, "node@20.12.0", "gpgv not found")
    assert err.hint and "apt install gpgv" in err.hint
    # when-available: one warning, and the install goes on, recorded as unverified.
    monkeypatch.setenv("OMG_SIGNATURES", "when-available")
    [r] = install.install(settings, ["node@20.12.0"])
    assert len([w for w in r.warnings if w.startswith("gpgv not found")]) == 1
    assert _signature(r.record.origin)["status"] == "no-gpgv"


def test_a_key_omg_does_not_have_is_not_verified(settings: Settings, mirror: MirrorServer,
                                                 trust: Signer, stranger: Signer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    sums = mirror.root / NODE_SUMS
    stranger.detach(sums, sums.with_name("SHASUMS256.txt.sig"))
    monkeypatch.setenv("OMG_SIGNATURES", "require")
    _refused(settings, "node@20.12.0", "not among omg's keys for node")
    monkeypatch.setenv("OMG_SIGNATURES", "when-available")
    [r] = install.install(settings, ["node@20.12.0"])
    assert len([w for w in r.warnings if "not among omg's keys" in w]) == 1
    assert _signature(r.record.origin)["status"] == "unknown-key"


def test_a_clear_signed_file_by_an_unknown_key_falls_back_to_the_plain_one(
        settings: Settings, mirror: MirrorServer, trust: Signer, stranger: Signer) -> None:
    d = mirror.root / BUN_DIR
    stranger.clearsign(d / "SHASUMS256.txt", d / "SHASUMS256.txt.asc")
    [r] = install.install(settings, ["bun@1.1.8"])
    assert r.created and len([w for w in r.warnings if "not among omg's keys" in w]) == 1
    assert _signature(r.record.origin)["status"] == "unknown-key"


def _node_checksums(settings: Settings, *, offline: bool) -> list[str]:
    """Read node 20.12.0's checksums as an install plans it; the notices it gave."""
    session = install.Session(settings, offline=offline)
    try:
        get("node").artifacts(session.ctx, Release("20.12.0"))
        return list(session.ctx.notices)
    finally:
        session.close()


def test_offline_uses_the_cached_signature(settings: Settings, mirror: MirrorServer,
                                           trust: Signer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(_node_checksums(settings, offline=False)) == 1  # no signature: warned
    assert len(_node_checksums(settings, offline=True)) == 1  # nor offline: not an error
    sums = mirror.root / NODE_SUMS
    trust.detach(sums, sums.with_name("SHASUMS256.txt.sig"))
    n = len(mirror.requests)
    assert _node_checksums(settings, offline=True)  # offline, the mirror is not asked
    assert len(mirror.requests) == n
    with monkeypatch.context() as m:
        m.setenv("OMG_INDEX_TTL", "0")
        assert _node_checksums(settings, offline=False) == []  # verified, and now cached
    assert _node_checksums(settings, offline=True) == []


def test_off_fetches_no_signature(settings: Settings, mirror: MirrorServer, trust: Signer,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMG_SIGNATURES", "off")
    [r] = install.install(settings, ["node@20.12.0"])
    # The checker says nothing; `[policy] unsigned` (default "warn") says it once.
    assert r.created and [w for w in r.warnings if "signature" in w] == [
        "node 20.12.0: upstream signs it, but its signature was not verified (off)"]
    assert not [p for p, _ in mirror.requests if p.endswith((".sig", ".asc"))]
    assert _signature(r.record.origin)["status"] == "off"


# Bun: the clear-signed SHASUMS256.txt.asc ----------------------------------------------


def test_bun_clear_signed_checksums(settings: Settings, mirror: MirrorServer,
                                    trust: Signer) -> None:
    d = mirror.root / BUN_DIR
    trust.clearsign(d / "SHASUMS256.txt", d / "SHASUMS256.txt.asc")
    (d / "SHASUMS256.txt").write_text("garbage that must not be used\n")
    [r] = install.install(settings, ["bun@1.1.8"])
    assert r.created and _signature(r.record.origin)["status"] == "verified"
    d2 = mirror.root / "bun-dl/bun-v1.1.0"
    trust.clearsign(d2 / "SHASUMS256.txt", d2 / "SHASUMS256.txt.asc")
    tampered = d2 / "SHASUMS256.txt.asc"
    tampered.write_text(tampered.read_text().replace("  bun-", "  bun-x", 1))
    _refused(settings, "bun@1.1.0", "bad signature")


# Go and Adoptium: a detached signature of the archive ---------------------------------


def test_go_archive_signature(settings: Settings, mirror: MirrorServer, trust: Signer) -> None:
    archive = mirror.root / GO_FILE
    trust.detach(archive, archive.with_name(archive.name + ".asc"), armor=True)
    [r] = install.install(settings, ["go@1.22.3"])
    assert r.created and _signature(r.record.origin) == {
        "status": "verified", "url": f"{mirror.url}/{GO_FILE}.asc", "key": trust.fingerprint}


def test_go_bad_archive_signature_installs_nothing(settings: Settings, mirror: MirrorServer,
                                                   trust: Signer, stranger: Signer) -> None:
    archive = mirror.root / "dl/go1.22.2.linux-amd64.tar.gz"
    other = mirror.root / "dl/go1.21.10.linux-amd64.tar.gz"
    # A valid signature, but of another archive: the bytes it covers are not these.
    trust.detach(other, archive.with_name(archive.name + ".asc"), armor=True)
    _refused(settings, "go@1.22.2", "bad signature")
    cached = list((settings.layout.cache / "downloads").glob("*go1.22.2*"))
    assert cached == []  # the download it vouched for is not kept either


def test_java_signature_link(settings: Settings, mirror: MirrorServer, trust: Signer) -> None:
    fname = "OpenJDK21U-jdk_x64_linux_hotspot_21.0.3_9.tar.gz"
    archive = mirror.root / "jdk-dl" / fname
    trust.detach(archive, archive.with_name(fname + ".sig"))
    [r] = install.install(settings, ["java@21.0.3"])
    assert _signature(r.record.origin)["url"] == f"{mirror.url}/jdk-dl/{fname}.sig"
    assert _signature(r.record.origin)["status"] == "verified"
    fname = "OpenJDK21U-jdk_x64_linux_hotspot_21.0.2_13.tar.gz"
    (mirror.root / "jdk-dl" / (fname + ".sig")).write_bytes(
        (archive.with_name(archive.name + ".sig")).read_bytes())
    _refused(settings, "java@21.0.2", "bad signature")


def test_java_answer_without_a_signature_link_is_not_unsigned(
        settings: Settings, mirror: MirrorServer, trust: Signer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Adoptium signs every archive (`signature_link` = the archive's URL + ``.sig``). An
    API answer (a mirror, a proxy) that leaves the field out must not turn a signed
    upstream into "upstream-unsigned", which `require` accepted: the signature is looked
    for where Adoptium publishes it, so its absence is a missing signature."""
    import json

    ga = mirror.root / "adoptium" / "v3" / "assets" / "feature_releases" / "21" / "ga"
    builds = json.loads(ga.read_text())
    for build in builds:
        for binary in build["binaries"]:
            del binary["package"]["signature_link"]
    ga.write_text(json.dumps(builds))
    monkeypatch.setenv("OMG_SIGNATURES", "require")
    _refused(settings, "java@21.0.3", "no signature on this mirror")
    monkeypatch.delenv("OMG_SIGNATURES")
    fname = "OpenJDK21U-jdk_x64_linux_hotspot_21.0.3_9.tar.gz"
    archive = mirror.root / "jdk-dl" / fname
    trust.detach(archive, archive.with_name(fname + ".sig"))
    [r] = install.install(settings, ["java@21.0.3"])
    assert _signature(r.record.origin) == {
        "status": "verified", "url": f"{mirror.url}/jdk-dl/{fname}.sig",
        "key": trust.fingerprint}


def test_java_without_a_key_is_unverified(settings: Settings, mirror: MirrorServer,
                                          trust: Signer,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """omg ships no Adoptium key (none was reachable from here): a warning, or with
    require a refusal, until the user names one with [keyrings] java."""
    monkeypatch.delenv("OMG_JAVA_KEYRING")
    [r] = install.install(settings, ["java@21.0.3"])
    assert len([w for w in r.warnings if "omg has no key for java" in w]) == 1
    monkeypatch.setenv("OMG_SIGNATURES", "require")
    _refused(settings, "java@17", "omg has no key for java")


# Rust: the channel manifest's .asc ------------------------------------------------------


def test_rust_manifest_signature(settings: Settings, mirror: MirrorServer,
                                 trust: Signer, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = mirror.root / RUST_MANIFEST
    trust.detach(manifest, manifest.with_name(manifest.name + ".asc"), armor=True)
    [r] = install.install(settings, ["rust@stable+minimal"])
    assert _signature(r.record.origin)["url"] == f"{mirror.url}/{RUST_MANIFEST}.asc"
    assert _signature(r.record.origin)["status"] == "verified"
    monkeypatch.setenv("OMG_INDEX_TTL", "0")  # read the manifest again, not the cache
    manifest.write_text(manifest.read_text().replace("rustc", "rustc ", 1))
    _refused(settings, "rust@stable", "bad signature")


# python-build-standalone signs nothing omg can check --------------------------------------


def test_python_is_recorded_as_upstream_unsigned(settings: Settings, mirror: MirrorServer,
                                                 trust: Signer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMG_SIGNATURES", "require")
    [r] = install.install(settings, ["python@3.12"])
    assert not [w for w in r.warnings if "signature" in w]
    assert _signature(r.record.origin)["status"] == "upstream-unsigned"


# The keys omg ships, against real signed samples -------------------------------------------


def _check_shipped(tool: str, sample: bytes) -> str:
    checker = Checker("require")
    checker.document(tool, "sample", lambda: b"", [Signature("sample.asc", clear=True)],
                     lambda url: sample)
    [outcome] = checker.outcomes
    return outcome.key


#: Real signed files, copied with their origin named: (tool, file, signing key).
SAMPLES = [
    # github.com/bhb/expound at 109b0e2b (2020-05-09): nodejs.org/dist/v14.2.0's file,
    # signed by Michaël Zasso.
    ("node", "node-v14.2.0-SHASUMS256.txt.asc", "8FCCA13FEF1D0C2E91008E09770F7A9A5AE15600"),
    # github.com/Medzoner/medzoner.com at 597c39b5 (2017): nodejs.org/dist/v0.10.0's file,
    # signed by Isaac Z. Schlueter (a retired key, still shipped for old releases).
    ("node", "node-v0.10.0-SHASUMS256.txt.asc", "93C7E9E91B49E432C2F75674B0A78B0A6C481CF6"),
]
#: Upstreams no real signed sample was found for (the search tools reach no public
#: repository holding one); a sample added to SAMPLES replaces the skip.
NO_SAMPLE = {
    "bun": "no real signed SHASUMS256.txt.asc of a Bun release is in the public "
           "repositories reachable here",
    "rust": "no real channel-rust-*.toml with its .asc is in the public repositories "
            "reachable here (a manifest is ~1 MB, rarely committed)",
    "go": "no real go*.tar.gz.asc (nor another file Google's Linux key signed) is in the "
          "public repositories reachable here",
}


@pytest.mark.parametrize(("tool", "sample", "key"), [
    *SAMPLES, *((tool, "", "") for tool in NO_SAMPLE)])
def test_shipped_keys_verify_real_releases(tool: str, sample: str, key: str) -> None:
    if not sample:
        pytest.skip(NO_SAMPLE[tool])
    data = (DATA / sample).read_bytes()
    assert _check_shipped(tool, data) == key
    tampered = data.replace(b"linux-x64.tar.gz", b"linux-x64.tar.gZ", 1)
    assert tampered != data
    with pytest.raises(BadSignature):
        _check_shipped(tool, tampered)


@pytest.mark.parametrize(("tool", "fingerprint"), [
    ("bun", "F3DCC08A8572C0749B3E18888EAB4D40A7B22B59"),
    ("rust", "108F66205EAEB0AAA8DD5E1C85AB96E6FA1BE5FE"),
    ("go", "EB4C1BFD4F042F6DDDCCEC917721F63BD38B4796"),
])
def test_shipped_keys_are_the_published_ones(tool: str, fingerprint: str,
                                            tmp_path: Path) -> None:
    """Where no real signed sample was found (NO_SAMPLE), the shipped key is at least
    the one whose fingerprint upstream publishes (Bun's Dockerfiles, rustup, go.dev/dl)."""
    shown = subprocess.run([GPG, "--show-keys", "--with-colons",
                            str(KEYS_DIR / f"{tool}.asc")], capture_output=True, text=True,
                           check=True, env={**os.environ, "GNUPGHOME": str(tmp_path)}).stdout
    assert f"fpr:::::::::{fingerprint}:" in shown
