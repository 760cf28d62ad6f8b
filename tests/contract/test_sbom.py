"""The contract of `sbom_source` (what `omg sbom` describes): a read, the same on both
backends (conftest.py), so the shared mode's SBOM comes from the world-readable files."""

from __future__ import annotations

from omg import sbom
from omg.backend import Backend
from tests.contract.conftest import Kit
from tests.sbom.helpers import valid_cyclonedx, valid_spdx
from tests.store.builders import arch_package


def test_sbom_of_an_installed_runtime_and_a_package_it_references(backend: Backend,
                                                                  kit: Kit) -> None:
    [node] = backend.install(["node@20.11"])
    pkg = arch_package(kit.root / "zlib-1:1.3-2-x86_64.pkg.tar.zst", "zlib", "1:1.3-2",
                       [("usr/lib/libz.so.1", "f", b"\x7fELF", 0o755)])
    zlib = backend.store_add(pkg, "zlib", "1_1.3-2").record
    app = backend.store_add(kit.tree("app", "1.0", ("app",)), "app", "1.0",
                            references=[zlib.path]).record
    used = backend.use(["node@20.11", "app@1.0"])
    src = backend.sbom_source()
    assert (src.profile, src.generation, src.env) == ("default", 1, used.env)
    assert [r.path for r in src.records] == sorted([used.env, node.record.path, zlib.path,
                                                    app.path])
    by_ref = {c.ref: c for c in sbom.components(src)}
    n = by_ref[node.record.path]
    origin = node.record.origin or {}
    assert (n.kind, n.name, n.version, n.sha256, n.url) == \
        ("runtime", "node", "20.11.1", origin["sha256"], origin["url"])
    assert n.signature == "missing"  # the kit's mirror has no SHASUMS256.txt.sig
    assert by_ref[zlib.path].purl == "pkg:alpm/arch/zlib@1:1.3-2?arch=x86_64"
    assert by_ref[app.path].depends == (zlib.path,)
    doc = valid_cyclonedx(sbom.render(src, "cyclonedx"))
    assert {c["name"] for c in doc["components"]} == {"node", "zlib", "app"}
    valid_spdx(sbom.render(src, "spdx"))
    # Another profile without generations: nothing to describe.
    failure = kit.fails(lambda: backend.sbom_source(profile="other"))
    assert failure.exit_code == 3
