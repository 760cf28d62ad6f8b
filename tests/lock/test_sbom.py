"""`omg sbom --lock FILE` (omg/sbom.py `lock_document`): a lock's pins for this platform,
validated against the CycloneDX and SPDX schemas as tests/sbom does."""

from __future__ import annotations

import base64

from omg import lockfile as L
from omg import sbom
from tests.conftest import OmgEnv
from tests.lock.conftest import project
from tests.sbom.helpers import valid_cyclonedx, valid_spdx

H = base64.b32encode(b"\x07" * 20).decode().lower()
URL = "https://nodejs.org/dist/v20.12.0/node-v20.12.0-linux-x64.tar.xz"
LOCK = L.Lock([
    L.Tool("node", "20", ".node-version", "20.12.0", [
        L.Target("linux-x64-gnu", [L.Artifact(URL, "a" * 64)], f"{H}-node-20.12.0"),
        L.Target("linux-arm64-gnu", [L.Artifact(URL.replace("x64", "arm64"), "b" * 64)])]),
    L.Tool("go", "1.22", ".go-version", "1.22.3", [
        L.Target("linux-arm64-gnu", [L.Artifact("https://go.dev/dl/go.tgz", "c" * 64)])])],
    [L.Package("yay", "12.0-1", f"{H}-yay-12.0-1")])


def test_a_lock_document_names_each_pin_with_this_platforms_hashes() -> None:
    doc = sbom.lock_document(LOCK, "/p/omg.lock", "linux-x64-gnu")
    root, *rest = doc.components
    assert (root.kind, root.name, root.version) == (
        "profile", "omg lock /p/omg.lock", L.fingerprint(LOCK, "linux-x64-gnu"))
    by_name = {c.name: c for c in rest}
    node = by_name["node"]
    assert (node.ref, node.version, node.sha256, node.url) == (
        f"{H}-node-20.12.0", "20.12.0", "a" * 64, URL)
    assert node.blake3 == (b"\x07" * 20).hex()
    assert node.purl == f"pkg:generic/node@20.12.0?download_url={URL}"
    # No x64 artifacts for go in this lock: named, with no hash to give.
    go = by_name["go"]
    assert (go.ref, go.sha256, go.blake3, go.purl) == ("go-1.22.3", "", "", "pkg:generic/go@1.22.3")
    assert by_name["yay"].purl == "pkg:alpm/arch/yay@12.0-1"
    assert set(root.depends) == {c.ref for c in rest}


def test_both_formats_validate() -> None:
    doc = sbom.lock_document(LOCK, "/p/omg.lock", "linux-x64-gnu")
    cdx = valid_cyclonedx(sbom.render(doc, "cyclonedx", now=1_700_000_000))
    assert cdx["metadata"]["component"]["name"] == "omg lock /p/omg.lock"
    node = next(c for c in cdx["components"] if c["name"] == "node")
    assert {h["alg"]: h["content"] for h in node["hashes"]} == {
        "SHA-256": "a" * 64, "BLAKE3": (b"\x07" * 20).hex()}
    spdx = valid_spdx(sbom.render(doc, "spdx", now=1_700_000_000))
    assert spdx["name"] == "omg lock /p/omg.lock linux-x64-gnu"
    assert {p["name"] for p in spdx["packages"]} == {"omg lock /p/omg.lock", "node", "go",
                                                     "yay"}


def test_sbom_lock_from_the_cli(lock_env: OmgEnv) -> None:
    proj = project(lock_env.root, {".node-version": "20\n"})
    lock_env.run("lock", cwd=proj, check=True)
    lock_env.run("install", cwd=proj, check=True)
    lock_env.run("lock", cwd=proj, check=True)
    lock = L.loads((proj / "omg.lock").read_text())
    node = lock.tool("node")
    assert node is not None
    x64 = node.target("linux-x64-gnu")
    assert x64 is not None and x64.store_path
    doc = valid_cyclonedx(lock_env.run("sbom", "--lock", str(proj / "omg.lock"),
                                       check=True).stdout)
    [comp] = doc["components"]
    assert (comp["name"], comp["version"], comp["bom-ref"]) == ("node", "20.12.0",
                                                                x64.store_path)
    assert {h["alg"]: h["content"] for h in comp["hashes"]}["SHA-256"] == \
        x64.artifacts[0].sha256
    valid_spdx(lock_env.run("sbom", "--lock", str(proj / "omg.lock"), "--format", "spdx",
                            check=True).stdout)
    bad = lock_env.run("sbom", "--lock", str(proj / "nosuch.lock"))
    assert bad.returncode == 3 and bad.stdout == ""
    assert bad.stderr.splitlines()[0] == f"error: no lock file: {proj}/nosuch.lock"
    both = lock_env.run("sbom", "--lock", str(proj / "omg.lock"), "--local")
    assert both.returncode == 2 and "--lock describes a lock file" in both.stderr
