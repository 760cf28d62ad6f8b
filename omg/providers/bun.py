"""Bun from its GitHub releases (``bun-vX/bun-linux-<arch>.zip`` + ``SHASUMS256.txt``).

Versions are listed from the GitHub releases API (OMG_BUN_API_MIRROR); assets
from OMG_BUN_MIRROR. ``SHASUMS256.txt.asc`` (clear-signed) is checked with
Bun's release key (omg.signatures), and the checksums are read from it.
"""

from __future__ import annotations

from omg.providers.base import Artifact, Context, Provider, Release, checksum_for
from omg.providers.github import list_releases
from omg.signatures import Signature
from omg.spec import is_prerelease, version_key


class BunProvider(Provider):
    name = "bun"
    signs = True
    default_mirror = "https://github.com/oven-sh/bun/releases/download"
    default_api = "https://api.github.com/repos/oven-sh/bun"
    #: Frequent releases; one API request per 100 releases listed.
    index_ttl = 3600.0

    def releases(self, ctx: Context) -> list[Release]:
        out = []
        for item in list_releases(ctx, self.name, self.default_api, ttl=self.index_ttl):
            tag = str(item["tag_name"])
            if not tag.startswith("bun-v"):
                continue
            version = tag.removeprefix("bun-v")
            out.append(Release(version, str(item.get("published_at", ""))[:10],
                               prerelease=bool(item.get("prerelease")) or is_prerelease(version)))
        out.sort(key=lambda r: version_key(r.version), reverse=True)
        return out

    def _asset(self, ctx: Context) -> str:
        arch = "aarch64" if ctx.platform.arch == "arm64" else "x64"
        musl = "-musl" if ctx.platform.libc == "musl" else ""
        return f"bun-linux-{arch}{musl}.zip"

    def artifacts(self, ctx: Context, release: Release) -> list[Artifact]:
        base = f"{self.mirror(ctx)}/bun-v{release.version}"
        filename = self._asset(ctx)
        sums = f"{base}/SHASUMS256.txt"
        # The clear-signed .asc holds the checksums: once it verifies, they come from it.
        body = ctx.signed(self.name, sums, lambda: self.fetch(ctx, sums),
                          [Signature(f"{sums}.asc", clear=True)],
                          lambda url: self.fetch(ctx, url))
        sha = checksum_for(f"{base}/SHASUMS256.txt", body, filename)
        return [Artifact(f"{base}/{filename}", sha, filename)]
