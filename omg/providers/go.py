"""Go from go.dev/dl (``?mode=json&include=all``, sha256 per file) or a mirror of it.

Each archive has a detached signature beside it (``<file>.asc``, Google's Linux
package signing key), checked after the download (omg.signatures).
"""

from __future__ import annotations

from typing import ClassVar

from omg.providers.base import PREFIX, Artifact, Context, Provider, Release, bad_index, check_keys
from omg.spec import version_key
from store.errors import NotFound


class GoProvider(Provider):
    name = "go"
    signs = True
    default_mirror = "https://go.dev/dl"
    #: Point releases are security fixes: an hour.
    index_ttl = 3600.0
    #: No GOROOT: `go` finds its root from its own executable with symlinks resolved, and
    #: an exported GOROOT would outlive a project profile's other Go (version mismatch).
    #: `go install` writes to GOBIN, module downloads to GOPATH: both writable prefixes.
    env_vars: ClassVar[dict[str, str]] = {"GOPATH": f"{PREFIX}/go", "GOBIN": f"{PREFIX}/go/bin"}

    def releases(self, ctx: Context) -> list[Release]:
        url = f"{self.mirror(ctx)}/?mode=json&include=all"
        data = self.fetch_json(ctx, url)
        if not isinstance(data, list):
            raise bad_index(url, "expected a list of releases")
        arch = "arm64" if ctx.platform.arch == "arm64" else "amd64"
        out = []
        for entry in data:
            item = check_keys(url, entry, "version", "files")
            files = item["files"]
            if not isinstance(files, list):
                raise bad_index(url, "'files' is not a list")
            for file in files:
                f = check_keys(url, file, "filename", "os", "arch", "sha256")
                filename = f["filename"]
                if not isinstance(filename, str):
                    raise bad_index(url, "'filename' is not a string")
                if f["os"] == "linux" and f["arch"] == arch and f.get("kind", "archive") == \
                        "archive" and filename.endswith(".tar.gz"):
                    version = str(item["version"]).removeprefix("go")
                    out.append(Release(version, prerelease=not item.get("stable", True),
                                       extra={"filename": filename, "sha256": f["sha256"]}))
        out.sort(key=lambda r: version_key(r.version), reverse=True)
        return out

    def normalize(self, spec: str) -> str:
        return spec.strip().removeprefix("go").removeprefix("v")

    def artifacts(self, ctx: Context, release: Release) -> list[Artifact]:
        e = release.extra
        if not e:
            raise NotFound(f"go {release.version}: no linux archive for this platform")
        filename = str(e["filename"])
        url = f"{self.mirror(ctx)}/{filename}"
        return [Artifact(url, str(e["sha256"]), filename, signature=f"{url}.asc")]
