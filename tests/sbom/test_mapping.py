"""The SBOM mapping (omg/sbom.py, docs/security.md "SBOM"), pure: records as install,
the Arch code and the env builder write them, rendered in both formats, each checked
against its schema."""

from __future__ import annotations

import base64

import pytest

from omg import sbom
from omg.profiles import ResolvedTool
from store.errors import UsageError
from store.record import PathRecord
from tests.sbom.helpers import valid_cyclonedx, valid_spdx

SHA = "a" * 64
H_ENV, H_NODE, H_ZLIB, H_YAY = (base64.b32encode(bytes([i]) * 20).decode().lower()
                                for i in range(1, 5))
NODE = PathRecord(f"{H_NODE}-node-20.10.0", H_NODE, "node", "20.10.0", 10, 2, origin={
    "url": "https://nodejs.org/dist/v20.10.0/node-v20.10.0-linux-x64.tar.xz", "sha256": SHA,
    "signature": {"status": "verified", "url": "https://nodejs.org/dist/v20.10.0/"
                  "SHASUMS256.txt.sig", "key": "C0FFEE"},
    "provenance": {"status": "absent"}})
ZLIB = PathRecord(f"{H_ZLIB}-zlib-1_1.3-2", H_ZLIB, "zlib", "1_1.3-2", 10, 2, metadata={
    "pkginfo": {"pkgname": "zlib", "pkgver": "1:1.3-2", "arch": "x86_64"}})
YAY = PathRecord(f"{H_YAY}-yay-12.0-1", H_YAY, "yay", "12.0-1", 10, 2,
                 references=(ZLIB.path,),
                 origin={"kind": "aur", "pkgbase": "yay", "pkgname": "yay",
                         "version": "12.0-1", "aur": "https://aur.archlinux.org"},
                 metadata={"pkginfo": {"pkgname": "yay", "pkgver": "12.0-1",
                                       "arch": "x86_64"}})
ENV = PathRecord(f"{H_ENV}-profile-node-20.10.0", H_ENV, "profile", "node-20.10.0", 1, 1,
                 references=(NODE.path, YAY.path))
SRC = sbom.SbomSource("default", 3, ENV.path,
                      [ResolvedTool("node", "20.10.0", NODE.path),
                       ResolvedTool("aur/yay", "12.0-1", YAY.path)],
                      sorted([ENV, NODE, ZLIB, YAY], key=lambda r: r.path))


def test_components_name_runtimes_by_the_tool_with_both_hashes_and_purls() -> None:
    by_ref = {c.ref: c for c in sbom.components(SRC)}
    node = by_ref[NODE.path]
    assert (node.kind, node.name, node.version, node.sha256) == \
        ("runtime", "node", "20.10.0", SHA)
    assert node.blake3 == (b"\x02" * 20).hex()  # the store hash, in hex
    assert node.purl == ("pkg:generic/node@20.10.0?download_url=https://nodejs.org/dist/"
                         "v20.10.0/node-v20.10.0-linux-x64.tar.xz")
    assert (node.signature, node.provenance) == ("verified", "absent")
    zlib = by_ref[ZLIB.path]
    # pacman's version (the epoch's `:`), not the store path's `_`.
    assert (zlib.kind, zlib.version, zlib.purl) == \
        ("arch", "1:1.3-2", "pkg:alpm/arch/zlib@1:1.3-2?arch=x86_64")
    yay = by_ref[YAY.path]
    assert yay.purl == ("pkg:alpm/arch/yay@12.0-1?arch=x86_64"
                        "&repository_url=https://aur.archlinux.org")
    assert (yay.kind, yay.depends) == ("aur", (ZLIB.path,))
    first = sbom.components(SRC)[0]
    assert (first.ref, first.kind, first.name, first.version, first.purl) == \
        (ENV.path, "profile", "omg profile default", "3", "")


def test_cyclonedx_document_is_valid_and_carries_the_mapping() -> None:
    doc = valid_cyclonedx(sbom.render(SRC, "cyclonedx", now=1_700_000_000))
    assert doc["specVersion"] == "1.6"
    assert doc["metadata"]["timestamp"].startswith("2023-11-14T22:13:20")
    assert doc["metadata"]["component"]["bom-ref"] == ENV.path
    comps = {c["bom-ref"]: c for c in doc["components"]}
    assert set(comps) == {NODE.path, ZLIB.path, YAY.path}
    node = comps[NODE.path]
    assert (node["type"], node["name"], node["version"]) == ("platform", "node", "20.10.0")
    assert sorted(node["hashes"], key=lambda h: h["alg"]) == [
        {"alg": "BLAKE3", "content": (b"\x02" * 20).hex()}, {"alg": "SHA-256", "content": SHA}]
    assert node["externalReferences"] == [{"type": "distribution", "url": NODE.origin[
        "url"]}]  # type: ignore[index]
    assert {"name": "omg:signature", "value": "verified"} in node["properties"]
    assert {"name": "omg:provenance", "value": "absent"} in node["properties"]
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in doc["dependencies"]}
    assert deps == {ENV.path: {NODE.path, YAY.path}, NODE.path: set(),
                    YAY.path: {ZLIB.path}, ZLIB.path: set()}


def test_spdx_document_is_valid_and_carries_the_mapping() -> None:
    doc = valid_spdx(sbom.render(SRC, "spdx", now=1_700_000_000))
    assert (doc["spdxVersion"], doc["creationInfo"]["created"]) == \
        ("SPDX-2.3", "2023-11-14T22:13:20Z")
    pkgs = {p["SPDXID"]: p for p in doc["packages"]}
    node = pkgs[sbom.spdx_id(NODE.path)]
    assert node["checksums"] == [{"algorithm": "SHA256", "checksumValue": SHA},
                                 {"algorithm": "BLAKE3",
                                  "checksumValue": (b"\x02" * 20).hex()}]
    assert node["downloadLocation"] == NODE.origin["url"]  # type: ignore[index]
    assert node["externalRefs"][0]["referenceLocator"].startswith("pkg:generic/node@20.10.0")
    assert node["comment"] == (f"omg store path {NODE.path} (runtime; upstream signature: "
                               "verified; provenance: absent)")
    assert pkgs[sbom.spdx_id(ZLIB.path)]["downloadLocation"] == "NOASSERTION"
    rels = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
            for r in doc["relationships"]}
    ids = {r.path: sbom.spdx_id(r.path) for r in SRC.records}
    assert rels == {("SPDXRef-DOCUMENT", "DESCRIBES", ids[ENV.path]),
                    (ids[ENV.path], "DEPENDS_ON", ids[NODE.path]),
                    (ids[ENV.path], "DEPENDS_ON", ids[YAY.path]),
                    (ids[YAY.path], "DEPENDS_ON", ids[ZLIB.path])}
    # Two writings of one profile are two documents.
    again = valid_spdx(sbom.render(SRC, "spdx"))
    assert again["documentNamespace"] != doc["documentNamespace"]


def test_spdx_ids_keep_to_the_allowed_characters_and_stay_unique() -> None:
    java = f"{H_NODE}-java-21.0.1+12"
    assert sbom.spdx_id(java) == f"SPDXRef-{H_NODE}-java-21.0.1-12"
    assert sbom.spdx_id(java) != sbom.spdx_id(f"{H_ZLIB}-java-21.0.1+12")


def test_an_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown SBOM format 'xml'"):
        sbom.render(SRC, "xml")
