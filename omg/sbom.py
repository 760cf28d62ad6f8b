"""SBOMs: what a profile's current generation holds, as CycloneDX 1.6 or SPDX 2.3 JSON.

`source` is the use case, a read: the profile's manifest and the records of its env's
closure (the env, the runtimes and packages it links, what those reference), so it
works from the world-readable files in the shared mode as well. `components` turns
records into `Component`s, pure: the one place the mapping of docs/security.md
("SBOM") lives, so both formats say the same things. `cyclonedx` renders through
cyclonedx-python-lib (imported inside: it costs tens of milliseconds and `omg sbom`
alone pays them). `spdx` writes SPDX 2.3 JSON itself by the same table: the SPDX
document is a flat list of packages and relationships, which a dict states more
plainly than spdx-tools' object model, and spdx-tools would bring rdflib, ply and
beartype along for it; the tests validate the output against the spec's own schema.

The hashes: the upstream sha256 omg checked at install (the record's origin) and the
store path's BLAKE3 hash, i.e. BLAKE3 over the canonical tree description
(docs/store-format.md), at the 160 bits the store path's name carries (BLAKE3 is an
extendable-output function: a shorter output is a prefix of the longer one).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import TYPE_CHECKING
from urllib.parse import quote

from store.errors import NotFound, UsageError
from store.results import Result

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from omg.lockfile import Lock
    from omg.profiles import CurrentInfo, ResolvedTool
    from store.local import LocalStore
    from store.record import PathRecord

FORMATS = ("cyclonedx", "spdx")

#: What a component is: a runtime omg installed, an Arch package (repository or AUR),
#: the profile env itself, or any other store path (`omg store add`).
RUNTIME, ARCH, AUR, PROFILE, OTHER = "runtime", "arch", "aur", "profile", "other"


class SbomSource(Result):
    """The facts an SBOM is made of: a profile's generation and its env's closure."""

    profile: str
    generation: int
    env: str
    tools: list[ResolvedTool]
    #: The records of the env's closure (the env's own included), sorted by store path.
    records: list[PathRecord]


class Component(Result):
    """One store path as both formats describe it (docs/security.md, "SBOM")."""

    ref: str  # the store path's name: unique in the document
    kind: str
    name: str
    version: str
    purl: str
    blake3: str  # hex, 160 bits
    sha256: str  # upstream's, "" when omg did not download it
    url: str  # where it was downloaded from, ""
    depends: tuple[str, ...]  # refs
    signature: str  # the recorded check of upstream's signature (omg.signatures), ""
    provenance: str  # the recorded check of upstream's Sigstore bundle (omg.provenance), ""


def source(store: LocalStore, info: CurrentInfo) -> SbomSource:
    """The SBOM facts of the profile `info` describes; NotFound without a generation."""
    if info.generation is None:
        raise NotFound(f"profile {info.profile} has no generations",
                       hint="omg use TOOL@VERSION")
    names = sorted(store.closure([info.env]))
    return SbomSource(info.profile, info.generation, info.env, info.tools,
                      [store.get(n) for n in names])


# The mapping, pure ------------------------------------------------------------------


def store_blake3(record: PathRecord) -> str:
    """The store hash (base32 of BLAKE3's first 160 bits) in hex."""
    return base64.b32decode(record.hash.upper()).hex()


def kind_of(record: PathRecord, tools: Iterable[str] = (), env: str = "") -> str:
    origin = record.origin or {}
    if record.path == env:
        return PROFILE
    if origin.get("kind") == "aur":
        return AUR
    if "pkginfo" in record.metadata:
        return ARCH
    if record.name in tools or origin.get("sha256"):
        return RUNTIME
    return OTHER


def arch_version(record: PathRecord) -> str:
    """``[epoch:]pkgver-pkgrel`` as pacman writes it (the store path's version has `_`
    for the epoch's `:`)."""
    pkginfo = record.metadata.get("pkginfo")
    if isinstance(pkginfo, dict) and isinstance(pkginfo.get("pkgver"), str):
        return str(pkginfo["pkgver"])
    origin = record.origin or {}
    return str(origin.get("version") or record.version)


def purl_of(kind: str, name: str, version: str, record: PathRecord | None, url: str) -> str:
    """`pkg:alpm/arch/NAME@VERSION?arch=ARCH` for Arch packages (the purl spec's alpm
    type; AUR builds add ``repository_url``), `pkg:generic/NAME@VERSION` otherwise (no
    purl type describes a runtime's upstream build), with ``download_url``."""
    enc = _purl_part
    if kind in (ARCH, AUR):
        quals: list[tuple[str, str]] = []
        pkginfo = record.metadata.get("pkginfo") if record is not None else None
        if isinstance(pkginfo, dict) and isinstance(pkginfo.get("arch"), str):
            quals.append(("arch", str(pkginfo["arch"])))
        aur = (record.origin or {}).get("aur") if record is not None else None
        if kind == AUR and isinstance(aur, str):
            quals.append(("repository_url", aur))
        return f"pkg:alpm/arch/{enc(name.lower())}@{enc(version)}{_qualifiers(quals)}"
    return (f"pkg:generic/{enc(name)}@{enc(version)}"
            f"{_qualifiers([('download_url', url)] if url else [])}")


def _purl_part(text: str) -> str:
    # The purl spec percent-encodes each part; `:` stays readable in versions.
    return quote(text, safe=":+")


def _qualifiers(pairs: Sequence[tuple[str, str]]) -> str:
    if not pairs:
        return ""
    return "?" + "&".join(f"{k}={quote(v, safe=':/')}" for k, v in sorted(pairs))


def components(src: SbomSource) -> list[Component]:
    """Every store path of the closure, the profile env first."""
    tools = {t.tool for t in src.tools}
    out = [_component(r, kind_of(r, tools, src.env)) for r in src.records]
    # The env is content-addressed (two profiles holding the same tools share it): the
    # document names the profile and generation it was asked about.
    out = [c._replace(name=f"omg profile {src.profile}", version=str(src.generation))
           if c.kind == PROFILE else c for c in out]
    return sorted(out, key=lambda c: (c.kind != PROFILE, c.ref))


def _component(record: PathRecord, kind: str) -> Component:
    origin = record.origin or {}
    version = arch_version(record) if kind in (ARCH, AUR) else record.version
    url = str(origin.get("url") or "")
    sha256 = str(origin.get("sha256") or "")
    signature, provenance = (str(v.get("status", "")) if isinstance(v, dict) else ""
                             for v in (origin.get("signature"), origin.get("provenance")))
    purl = "" if kind == PROFILE else purl_of(kind, record.name, version, record, url)
    return Component(record.path, kind, record.name, version, purl, store_blake3(record), sha256,
                     url, tuple(record.references), signature, provenance)


# The formats ---------------------------------------------------------------------------


class Document(Result):
    """What both formats render: a title, and the components, the subject first."""

    title: str  # SPDX's document name
    key: str  # a stable part of SPDX's documentNamespace (the subject's)
    components: list[Component]


def document(src: SbomSource) -> Document:
    return Document(f"omg profile {src.profile} generation {src.generation}",
                    f"{quote(src.profile, safe='')}-{src.env[:32]}", components(src))


def lock_document(lock: Lock, path: str, platform: str) -> Document:
    """A lock file's pins on `platform` (`omg sbom --lock FILE`): one component per
    locked tool with that platform's first artifact (URL, sha256) and its store path
    name when the lock has one (then its BLAKE3 too), one per AUR package; the subject
    is the lock, named by its path, versioned by its fingerprint."""
    from omg.lockfile import fingerprint

    comps = []
    for t in lock.tools:
        target = t.target(platform)
        art = target.artifacts[0] if target is not None else None
        name = target.store_path if target is not None else ""
        url = art.url if art is not None else ""
        comps.append(Component(name or f"{t.tool}-{t.version}", RUNTIME, t.tool, t.version,
                               purl_of(RUNTIME, t.tool, t.version, None, url),
                               _name_blake3(name), art.sha256 if art is not None else "",
                               url, (), "", ""))
    comps += [Component(p.store_path, AUR, p.name, p.version,
                        purl_of(AUR, p.name, p.version, None, ""),
                        _name_blake3(p.store_path), "", "", (), "", "")
              for p in lock.packages]
    print_ = fingerprint(lock, platform)
    root = Component(f"omg-lock-{print_[:32]}", PROFILE, f"omg lock {path}", print_, "", "",
                     "", "", tuple(c.ref for c in comps), "", "")
    return Document(f"omg lock {path} {platform}", f"lock-{print_[:32]}",
                    [root, *sorted(comps, key=lambda c: c.ref)])


def _name_blake3(name: str) -> str:
    """The store hash of a store path name (its first 32 characters), in hex; ""."""
    if len(name) < 33 or name[32] != "-":
        return ""
    try:
        return base64.b32decode(name[:32].upper()).hex()
    except ValueError:
        return ""


def render(src: SbomSource | Document, fmt: str, *, now: float | None = None) -> str:
    """The SBOM of `src` as JSON text in `fmt` (one of FORMATS)."""
    doc = src if isinstance(src, Document) else document(src)
    if fmt == "cyclonedx":
        return cyclonedx(doc, now=now)
    if fmt == "spdx":
        return spdx(doc, now=now)
    raise UsageError(f"unknown SBOM format {fmt!r}", hint=f"one of: {', '.join(FORMATS)}")


def _omg_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("omg")
    except PackageNotFoundError:
        return "unknown"


def cyclonedx(doc: Document, *, now: float | None = None) -> str:
    """CycloneDX 1.6 JSON through cyclonedx-python-lib."""
    from datetime import UTC, datetime

    from cyclonedx.model import ExternalReference, ExternalReferenceType, HashType, Property, XsUri
    from cyclonedx.model import HashAlgorithm as Alg
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component as CdxComponent
    from cyclonedx.model.component import ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    types = {RUNTIME: ComponentType.PLATFORM, ARCH: ComponentType.APPLICATION,
             AUR: ComponentType.APPLICATION, OTHER: ComponentType.APPLICATION,
             PROFILE: ComponentType.APPLICATION}
    bom = Bom()
    bom.metadata.timestamp = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    bom.metadata.tools.components.add(CdxComponent(
        type=ComponentType.APPLICATION, name="omg", version=_omg_version()))
    made: dict[str, CdxComponent] = {}
    for c in doc.components:
        hashes = [HashType(alg=Alg.BLAKE3, content=c.blake3)] if c.blake3 else []
        if c.sha256:
            hashes.insert(0, HashType(alg=Alg.SHA_256, content=c.sha256))
        props = [Property(name="omg:store-path", value=c.ref), Property(name="omg:kind",
                                                                       value=c.kind)]
        if c.signature:
            props.append(Property(name="omg:signature", value=c.signature))
        if c.provenance:
            props.append(Property(name="omg:provenance", value=c.provenance))
        refs = ([ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(c.url))]
                if c.url else [])
        comp = CdxComponent(
            type=types[c.kind], name=c.name, version=c.version, bom_ref=c.ref,
            purl=PackageURL.from_string(c.purl) if c.purl else None, hashes=hashes,
            external_references=refs, properties=props)
        made[c.ref] = comp
        if c.kind == PROFILE:
            bom.metadata.component = comp
        else:
            bom.components.add(comp)
    for c in doc.components:
        bom.register_dependency(made[c.ref], [made[d] for d in c.depends if d in made])
    return JsonV1Dot6(bom).output_as_string(indent=2)


_SPDX_PURPOSE = {RUNTIME: "APPLICATION", ARCH: "APPLICATION", AUR: "APPLICATION",
                 OTHER: "OTHER", PROFILE: "OTHER"}


def spdx_id(ref: str) -> str:
    """An SPDXID (``SPDXRef-`` and letters, digits, `.`, `-`) for a store path: unique,
    since the path's name starts with its hash."""
    return "SPDXRef-" + "".join(ch if ch.isascii() and (ch.isalnum() or ch in ".-") else "-"
                                for ch in ref)


def spdx(doc_: Document, *, now: float | None = None) -> str:
    """SPDX 2.3 JSON by the mapping in docs/security.md ("SBOM")."""
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now is None
                                                               else now))
    comps = doc_.components
    packages = [_spdx_package(c) for c in comps]
    root = next(c for c in comps if c.kind == PROFILE)
    rels = [_rel("SPDXRef-DOCUMENT", "DESCRIBES", spdx_id(root.ref))]
    rels += [_rel(spdx_id(c.ref), "DEPENDS_ON", spdx_id(d)) for c in comps for d in c.depends]
    doc = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": doc_.title,
        # Unique per document, as the spec asks: the key names the content, the uuid
        # this writing of it.
        "documentNamespace": f"https://spdx.org/spdxdocs/omg-{doc_.key}-{uuid.uuid4()}",
        "creationInfo": {"created": created, "creators": [f"Tool: omg-{_omg_version()}"]},
        "packages": packages,
        "relationships": rels,
    }
    return json.dumps(doc, indent=2) + "\n"


def _rel(a: str, kind: str, b: str) -> dict[str, str]:
    return {"spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b}


def _notes(c: Component) -> list[str]:
    notes = [c.kind]
    if c.signature:
        notes.append(f"upstream signature: {c.signature}")
    if c.provenance:
        notes.append(f"provenance: {c.provenance}")
    return notes


def _spdx_package(c: Component) -> dict[str, object]:
    checksums = [{"algorithm": "BLAKE3", "checksumValue": c.blake3}] if c.blake3 else []
    if c.sha256:
        checksums.insert(0, {"algorithm": "SHA256", "checksumValue": c.sha256})
    pkg: dict[str, object] = {
        "SPDXID": spdx_id(c.ref), "name": c.name, "versionInfo": c.version,
        "downloadLocation": c.url or "NOASSERTION", "filesAnalyzed": False,
        "primaryPackagePurpose": _SPDX_PURPOSE[c.kind],
        "comment": f"omg store path {c.ref} ({'; '.join(_notes(c))})",
    }
    if checksums:
        pkg["checksums"] = checksums
    if c.purl:
        pkg["externalRefs"] = [{"referenceCategory": "PACKAGE-MANAGER",
                                "referenceType": "purl", "referenceLocator": c.purl}]
    return pkg
