"""CRuby from jdx/ruby's portable builds: what mise installs when it does not compile.

Why this source (docs/runtimes.md compares it with Homebrew's portable-ruby,
ruby/ruby-builder and ruby-build): it builds every CRuby release of every line
still maintained (3.2 to 4.0, previews included) for x86_64 and arm64 Linux
against glibc 2.17 (manylinux2014), configured ``--enable-load-relative`` so a
tree runs from any prefix (a store path), with OpenSSL, libyaml and libffi
linked in. Homebrew's portable-ruby has only the versions Homebrew itself runs.

Layout: the GitHub releases API (OMG_RUBY_API_MIRROR) lists a floating tag per
version (``3.4.5``, assets re-uploaded on every rebuild) and an immutable tag per
build revision (``3.4.5-1``, ``3.4.5-2``); omg takes the newest revision, as mise
does, so a checksum read once stays true. Assets (OMG_RUBY_MIRROR) are
``<tag>/ruby-<ver>.<x86_64|arm64>_linux.tar.gz`` holding ``ruby-<ver>/``.

Checksums: the asset's API ``digest`` (``sha256:<hex>``); an asset listed without
one is checked against the release's SLSA provenance (``ruby-<ver>.intoto.jsonl``,
a DSSE envelope whose in-toto statement names each tarball's sha256). A build
with neither is refused: nothing is installed unverified.
"""

from __future__ import annotations

import re
from typing import ClassVar

from omg.provenance import GITHUB_ACTIONS, Identity, github_attestations
from omg.providers.base import MAJOR, MINOR, PREFIX, Artifact, Context, Provider, Release, bad_index
from omg.providers.github import list_releases
from omg.spec import is_prerelease, version_key
from store.errors import NotFound

#: ``3.4.5``, ``4.0.0-preview3`` (floating) or ``3.4.5-2`` (build revision 2).
_TAG = re.compile(r"^(?P<ver>\d+\.\d+\.\d+(?:-(?:preview|rc)\d+)?)(?:-(?P<rev>\d+))?$")


class RubyProvider(Provider):
    name = "ruby"
    default_mirror = "https://github.com/jdx/ruby/releases/download"
    default_api = "https://api.github.com/repos/jdx/ruby"
    #: A few builds a month; two tags per build, so a listing is two or three API pages.
    index_ttl = 6 * 3600.0
    #: The release workflow attests each tarball (actions/attest-build-provenance, in
    #: GitHub's attestations API), besides the SLSA ``.intoto.jsonl`` read for checksums.
    provenance = Identity(GITHUB_ACTIONS, repository="jdx/ruby")
    #: The store is read-only: `gem install` goes to a writable prefix, one per ruby ABI
    #: (x.y.0, as gem lays out its own user dir: ~/.local/share/gem/ruby/3.3.0).
    env_vars: ClassVar[dict[str, str]] = {"GEM_HOME": f"{PREFIX}/gem/{MAJOR}.{MINOR}.0"}

    def _asset(self, ctx: Context, version: str) -> str:
        if ctx.platform.libc == "musl":
            raise NotFound("ruby: jdx/ruby builds need glibc (manylinux2014); none for musl",
                           hint="use a distribution's ruby on musl systems")
        arch = "arm64" if ctx.platform.arch == "arm64" else "x86_64"
        return f"ruby-{version}.{arch}_linux.tar.gz"

    def releases(self, ctx: Context) -> list[Release]:
        best: dict[str, tuple[int, Release]] = {}
        for item in list_releases(ctx, self.name, self.default_api, ttl=self.index_ttl):
            m = _TAG.match(str(item["tag_name"]))
            if m is None:
                continue
            version, rev = m["ver"], int(m["rev"] or 0)
            found = _find_asset(item, self._asset(ctx, version))
            if found is None or (version in best and best[version][0] >= rev):
                continue
            best[version] = (rev, Release(
                version, str(item.get("published_at") or "")[:10],
                prerelease=bool(item.get("prerelease")) or is_prerelease(version),
                extra={"tag": item["tag_name"], "filename": found[0], "sha256": found[1],
                       "provenance": _provenance_name(item)}))
        return sorted((r for _, r in best.values()), key=lambda r: version_key(r.version),
                      reverse=True)

    def normalize(self, spec: str) -> str:
        return spec.strip().removeprefix("ruby-").removeprefix("v")

    def artifacts(self, ctx: Context, release: Release) -> list[Artifact]:
        e = release.extra
        base = f"{self.mirror(ctx)}/{e['tag']}"
        filename = str(e["filename"])
        sha = str(e["sha256"]) or self._from_provenance(ctx, base, str(e["provenance"]),
                                                        release.version, filename)
        api = ctx.mirror_of(f"{self.name}_api", self.default_api)
        return [Artifact(f"{base}/{filename}", sha, filename,
                         attestations=(github_attestations(api, sha),))]

    def _from_provenance(self, ctx: Context, base: str, name: str, version: str,
                         filename: str) -> str:
        if not name:
            raise NotFound(f"ruby {version}: the release lists no sha256 digest for "
                           f"{filename} and no provenance",
                           hint="omg installs nothing it cannot verify")
        url = f"{base}/{name}"
        sums = provenance_digests(url, self.fetch(ctx, url))
        if filename not in sums:
            raise NotFound(f"{url}: no sha256 for {filename}",
                           hint="omg installs nothing it cannot verify")
        return sums[filename]


def _find_asset(item: dict[str, object], want: str) -> tuple[str, str] | None:
    """(name, sha256 or "") of the asset named `want` in a release entry, if listed."""
    assets = item.get("assets")
    for asset in assets if isinstance(assets, list) else []:
        if isinstance(asset, dict) and asset.get("name") == want:
            digest = str(asset.get("digest") or "")
            return want, digest.removeprefix("sha256:") if digest.startswith("sha256:") else ""
    return None


def _provenance_name(item: dict[str, object]) -> str:
    assets = item.get("assets")
    for asset in assets if isinstance(assets, list) else []:
        if isinstance(asset, dict) and str(asset.get("name", "")).endswith(".intoto.jsonl"):
            return str(asset["name"])
    return ""


def provenance_digests(url: str, body: bytes) -> dict[str, str]:
    """Subject name -> sha256 from an ``.intoto.jsonl`` file: one DSSE envelope per line
    (``{"payloadType", "payload": base64(statement), "signatures"}``), or a Sigstore
    bundle wrapping one (``{"dsseEnvelope": {...}}``). The signature is not checked
    here: the file is read like a SHASUMS file, from the same mirror as the tarball."""
    import base64
    import binascii
    import json

    out: dict[str, str] = {}
    for line in body.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        try:
            envelope = json.loads(line)
            envelope = envelope.get("dsseEnvelope", envelope)
            statement = json.loads(base64.b64decode(envelope["payload"], validate=True))
            subjects = statement["subject"]
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise bad_index(url, f"not an in-toto DSSE envelope ({exc})") from exc
        for subject in subjects if isinstance(subjects, list) else []:
            digest = subject.get("digest") if isinstance(subject, dict) else None
            sha = digest.get("sha256") if isinstance(digest, dict) else None
            if isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha):
                out[str(subject.get("name", ""))] = sha
    return out
