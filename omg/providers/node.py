"""Node.js from nodejs.org/dist (or any mirror of it: OMG_NODE_MIRROR).

Index: ``dist/index.json``; artifact ``vX/node-vX-linux-<arch>.tar.xz`` with its
sha256 from ``vX/SHASUMS256.txt``, whose signature (``SHASUMS256.txt.sig``, else
the clear-signed ``.asc``) is checked with the Node release keys (omg.signatures).
musl builds come from unofficial-builds, whose layout is the same (but unsigned):
point OMG_NODE_MIRROR at it on musl systems.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from omg.providers.base import (
    MAJOR,
    PREFIX,
    Artifact,
    Context,
    Provider,
    Release,
    bad_index,
    checksum_for,
)
from omg.signatures import Signature
from omg.spec import version_key


class NodeProvider(Provider):
    name = "node"
    signs = True
    default_mirror = "https://nodejs.org/dist"
    #: Security releases must show up soon (the security warning; end of life is
    #: `omg.support`'s).
    index_ttl = 3600.0
    #: The store is read-only: `npm install -g` goes to a writable prefix, one per major
    #: (NODE_MODULE_VERSION, the native addon ABI, changes with each major).
    env_vars: ClassVar[dict[str, str]] = {"NPM_CONFIG_PREFIX": f"{PREFIX}/npm/{MAJOR}"}

    def _platform_key(self, ctx: Context) -> str:
        key = f"linux-{ctx.platform.arch}"
        return key + "-musl" if ctx.platform.libc == "musl" else key

    def releases(self, ctx: Context) -> list[Release]:
        url = f"{self.mirror(ctx)}/index.json"
        data = self.fetch_json(ctx, url)
        if not isinstance(data, list):
            raise bad_index(url, "expected a list of releases")
        key = self._platform_key(ctx)
        out = []
        for item in data:
            if not isinstance(item, dict) or not isinstance(item.get("version"), str):
                raise bad_index(url, "a release lacks 'version'")
            files = item.get("files")
            if isinstance(files, list) and key not in files and f"{key}-tar" not in files \
                    and not key.endswith("musl"):
                continue
            lts = item.get("lts")
            out.append(Release(item["version"].lstrip("v"), str(item.get("date", "")),
                               lts if isinstance(lts, str) else "",
                               bool(item.get("security", False))))
        out.sort(key=lambda r: version_key(r.version), reverse=True)
        return out

    def normalize(self, spec: str) -> str:
        spec = spec.strip().removeprefix("v")
        if spec in ("node", "*"):
            return "latest"
        if spec in ("lts/*", "lts-*"):
            return "lts"
        return spec

    def select(self, spec: str, releases: Sequence[Release]) -> Release | None:
        low = spec.lower()
        if low == "lts":
            lts = [r for r in releases if r.lts]
            return max(lts, key=lambda r: version_key(r.version), default=None)
        if low.startswith(("lts/", "lts-")) or (low.isalpha() and low not in ("latest", "current")):
            name = low[4:] if low.startswith(("lts/", "lts-")) else low
            named = [r for r in releases if r.lts.lower() == name]
            return max(named, key=lambda r: version_key(r.version), default=None)
        return super().select(spec, releases)

    def is_exact(self, spec: str) -> bool:
        s = self.normalize(spec)
        return s.count(".") >= 2 and s[0].isdigit()

    def artifacts(self, ctx: Context, release: Release) -> list[Artifact]:
        base = f"{self.mirror(ctx)}/v{release.version}"
        filename = f"node-v{release.version}-{self._platform_key(ctx)}.tar.xz"
        sums_url = f"{base}/SHASUMS256.txt"
        body = ctx.signed(self.name, sums_url, lambda: self.fetch(ctx, sums_url),
                          [Signature(f"{sums_url}.sig"), Signature(f"{sums_url}.asc", clear=True)],
                          lambda url: self.fetch(ctx, url))
        sha = checksum_for(sums_url, body, filename,
                           hint="this version may not be built for this platform")
        return [Artifact(f"{base}/{filename}", sha, filename)]

    def warnings(self, release: Release, releases: Sequence[Release]) -> list[str]:
        out = []
        major = release.version.split(".")[0]
        line = [r for r in releases if r.version.split(".")[0] == major]
        newer_security = [r for r in line if r.security
                          and version_key(r.version) > version_key(release.version)]
        if newer_security:
            top = max(newer_security, key=lambda r: version_key(r.version))
            out.append(f"node {release.version} has a security release above it: "
                       f"{top.version}; consider node@{major}")
        return out
