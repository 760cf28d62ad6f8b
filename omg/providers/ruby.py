"""Ruby from Homebrew's portable-ruby (relocatable builds for old glibc).

Why this source: it is relocatable (runs from any prefix, which a store path
needs), built against an old glibc so it runs on most distributions, and its
GitHub releases API entries carry a sha256 ``digest`` per asset. ruby-builder's
toolcache builds are tied to one Ubuntu release and prefix. Versions are
listed from OMG_RUBY_API_MIRROR; assets ``<ver>/portable-ruby-<ver>.<arch>_linux
.bottle.tar.gz`` come from OMG_RUBY_MIRROR. The tree is ``portable-ruby/<ver>/``.
"""

from __future__ import annotations

from typing import ClassVar

from omg.providers.base import MAJOR, MINOR, PREFIX, Artifact, Context, Provider, Release
from omg.providers.github import list_releases
from omg.spec import is_prerelease, version_key
from store.errors import NotFound


class RubyProvider(Provider):
    name = "ruby"
    default_mirror = "https://github.com/Homebrew/homebrew-portable-ruby/releases/download"
    default_api = "https://api.github.com/repos/Homebrew/homebrew-portable-ruby"
    #: portable-ruby releases a few times a year (GitHub API, rate-limited).
    index_ttl = 24 * 3600.0
    #: The store is read-only: `gem install` goes to a writable prefix, one per ruby ABI
    #: (x.y.0, as gem lays out its own user dir: ~/.local/share/gem/ruby/3.3.0).
    env_vars: ClassVar[dict[str, str]] = {"GEM_HOME": f"{PREFIX}/gem/{MAJOR}.{MINOR}.0"}

    def _asset(self, ctx: Context, version: str) -> str:
        arch = "arm64" if ctx.platform.arch == "arm64" else "x86_64"
        return f"portable-ruby-{version}.{arch}_linux.bottle.tar.gz"

    def releases(self, ctx: Context) -> list[Release]:
        out = []
        for item in list_releases(ctx, self.name, self.default_api, ttl=self.index_ttl):
            version = str(item["tag_name"]).removeprefix("ruby-")
            want = self._asset(ctx, version)
            assets = item.get("assets")
            for asset in assets if isinstance(assets, list) else []:
                if isinstance(asset, dict) and asset.get("name") == want:
                    digest = str(asset.get("digest") or "")
                    out.append(Release(version, str(item.get("published_at", ""))[:10],
                                       prerelease=is_prerelease(version),
                                       extra={"sha256": digest.removeprefix("sha256:"),
                                              "tag": item["tag_name"], "filename": want}))
        out.sort(key=lambda r: version_key(r.version), reverse=True)
        return out

    def normalize(self, spec: str) -> str:
        return spec.strip().removeprefix("ruby-")

    def artifacts(self, ctx: Context, release: Release) -> list[Artifact]:
        e = release.extra
        if not e.get("sha256"):
            raise NotFound(f"ruby {release.version}: the release lists no sha256 digest",
                           hint="omg installs nothing it cannot verify")
        url = f"{self.mirror(ctx)}/{e['tag']}/{e['filename']}"
        return [Artifact(url, str(e["sha256"]), str(e["filename"]), subdir=release.version)]
