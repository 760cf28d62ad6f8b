"""Java (Eclipse Temurin) from the Adoptium API v3 (OMG_JAVA_MIRROR = the API base).

``/v3/info/available_releases`` lists the feature versions;
``/v3/assets/feature_releases/<major>/ga?...`` lists builds with a link and a
sha256 each, 20 a page (every page is read, each cached on its own). A spec's
first number is the feature version (``21``, ``21.0.1``); versions are stored
as Adoptium's semver (``21.0.1+12``). A build's ``signature_link`` (a detached
signature of the archive, ``<link>.sig`` when the answer leaves it out) is checked
after the download (omg.signatures).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from omg.providers.base import (
    STORE_PATH,
    Artifact,
    Context,
    Provider,
    Release,
    bad_index,
    check_keys,
    parse_json,
)
from omg.spec import version_key
from store.errors import NotFound, UsageError

#: The builds one page of ``feature_releases`` holds: the API caps page_size at 20.
PAGE_SIZE = 20
#: A bound for a server whose pages never end.
MAX_PAGES = 50


class JavaProvider(Provider):
    name = "java"
    signs = True
    default_mirror = "https://api.adoptium.net"
    #: Temurin updates are quarterly; one listing is several API calls.
    index_ttl = 6 * 3600.0
    #: Maven, Gradle and IDEs find the JDK by JAVA_HOME (java itself needs none).
    env_vars: ClassVar[dict[str, str]] = {"JAVA_HOME": STORE_PATH}

    def normalize(self, spec: str) -> str:
        spec = spec.strip()
        for prefix in ("temurin-", "openjdk-", "jdk-"):
            spec = spec.removeprefix(prefix)
        return spec

    def _available(self, ctx: Context) -> dict[str, object]:
        url = f"{self.mirror(ctx)}/v3/info/available_releases"
        return dict(check_keys(url, self.fetch_json(ctx, url), "available_releases"))

    def _feature(self, ctx: Context, major: int) -> list[Release]:
        """Every GA build of one feature version, newest first.

        The API answers at most `PAGE_SIZE` builds a page (it caps larger asks), so
        pages are read until a short or empty one, or a 404 past the end; a static
        mirror that ignores ``page=`` answers the same page again, which ends it too.
        """
        arch = "aarch64" if ctx.platform.arch == "arm64" else "x64"
        os_name = "alpine-linux" if ctx.platform.libc == "musl" else "linux"
        out: list[Release] = []
        previous = b""
        for page in range(MAX_PAGES):
            url = (f"{self.mirror(ctx)}/v3/assets/feature_releases/{major}/ga?architecture="
                   f"{arch}&heap_size=normal&image_type=jdk&jvm_impl=hotspot&os={os_name}"
                   f"&page={page}&page_size={PAGE_SIZE}&project=jdk&sort_order=DESC"
                   f"&vendor=eclipse")
            try:
                body = self.fetch(ctx, url)
            except NotFound:
                break
            if body == previous:
                break
            data = parse_json(url, body)
            if not isinstance(data, list):
                raise bad_index(url, "expected a list of releases")
            out += self._builds(url, data)
            if len(data) < PAGE_SIZE:
                break
            previous = body
        return out

    def _builds(self, url: str, data: list[object]) -> list[Release]:
        out = []
        for entry in data:
            item = check_keys(url, entry, "version_data", "binaries")
            semver = check_keys(url, item["version_data"], "semver")["semver"]
            binaries = item["binaries"]
            if not isinstance(binaries, list):
                raise bad_index(url, "'binaries' is not a list")
            for binary in binaries:
                b = check_keys(url, binary, "package")
                pkg = check_keys(url, b["package"], "link", "checksum", "name")
                if b.get("image_type", "jdk") == "jdk":
                    # Adoptium signs every archive, beside it: an answer without the
                    # field must not make it "upstream-unsigned", which require accepts.
                    sig = pkg.get("signature_link")
                    if not isinstance(sig, str) or not sig:
                        sig = f"{pkg['link']}.sig"
                    out.append(Release(str(semver),
                                       str(item.get("timestamp", ""))[:10],
                                       extra={"url": pkg["link"], "sha256": pkg["checksum"],
                                              "filename": pkg["name"], "signature": sig}))
                    break
        return out

    def releases(self, ctx: Context) -> list[Release]:
        avail = self._available(ctx)
        majors = avail.get("available_releases")
        if not isinstance(majors, list) or not all(isinstance(m, int) for m in majors):
            raise bad_index(f"{self.mirror(ctx)}/v3/info/available_releases",
                            "available_releases is not a list of numbers")
        out = []
        for major in sorted((int(m) for m in majors), reverse=True):
            out += self._feature(ctx, major)
        return out

    def lookup(self, ctx: Context, spec: str) -> tuple[Release, list[Release]]:
        spec = self.normalize(spec)
        if spec in ("latest", "lts"):
            avail = self._available(ctx)
            key = "most_recent_lts" if spec == "lts" else "most_recent_feature_release"
            major = avail.get(key)
            if not isinstance(major, int):
                raise bad_index(f"{self.mirror(ctx)}/v3/info/available_releases",
                                f"no {key}")
            releases = self._feature(ctx, major)
            return self.resolve("latest", releases), releases
        head = spec.split(".")[0].split("+")[0]
        if not head.isdigit():
            raise UsageError(f"java@{spec}: expected a feature version such as 21 or 21.0.1")
        releases = self._feature(ctx, int(head))
        return self.resolve(spec, releases), releases

    def select(self, spec: str, releases: Sequence[Release]) -> Release | None:
        # 21.0.1 matches 21.0.1+12: compare without build metadata.
        found = super().select(spec, releases)
        if found is None and "+" not in spec:
            hits = [r for r in releases if r.version.split("+")[0] == spec]
            found = max(hits, key=lambda r: version_key(r.version), default=None)
        return found

    def artifacts(self, ctx: Context, release: Release) -> list[Artifact]:
        e = release.extra
        return [Artifact(str(e["url"]), str(e["sha256"]), str(e["filename"]),
                         signature=str(e.get("signature", "")))]
