"""Node.js from nodejs.org/dist (or any mirror of it: OMG_NODE_MIRROR).

Index: ``dist/index.json``; artifact ``vX/node-vX-linux-<arch>.tar.xz`` with its
sha256 from ``vX/SHASUMS256.txt`` (PGP-checked against ``SHASUMS256.txt.sig``
when a keyring is configured). musl builds come from unofficial-builds, whose
layout is the same: point OMG_NODE_MIRROR at it on musl systems.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path
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
from omg.spec import version_key


def _months(date: str, months: int) -> _dt.date | None:
    try:
        d = _dt.date.fromisoformat(date)
    except ValueError:
        return None
    y, m = divmod(d.month - 1 + months, 12)
    return _dt.date(d.year + y, m + 1, 1)


class NodeProvider(Provider):
    name = "node"
    default_mirror = "https://nodejs.org/dist"
    #: Security releases must show up soon (the end-of-life and security warnings).
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
        body = self.fetch(ctx, sums_url)
        keyring = ctx.keyring_of(self.name)
        if keyring is not None:
            import tempfile  # only to check a signature, like omg.net (listing needs neither)

            from omg.net import verify_signature

            sig = self.fetch(ctx, f"{sums_url}.sig")
            with tempfile.TemporaryDirectory() as tmp:
                (Path(tmp) / "SHASUMS256.txt").write_bytes(body)
                (Path(tmp) / "SHASUMS256.txt.sig").write_bytes(sig)
                notice = verify_signature(Path(tmp) / "SHASUMS256.txt",
                                          Path(tmp) / "SHASUMS256.txt.sig", keyring)
            if notice:
                ctx.notices.append(f"{sums_url}: {notice}")
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
        first = min((r.date for r in line if r.date), default="")
        ever_lts = any(r.lts for r in line)
        # Node's schedule: even (LTS) lines end about 36 months after their first
        # release, odd lines about 8 months after; index.json has no end dates.
        end = _months(first, 36 if ever_lts else 8) if first else None
        if end is not None and _dt.date.today() >= end:
            out.append(f"node {major} is end-of-life (since about {end:%Y-%m}); "
                       f"consider node@lts")
        return out
