"""Rust from the dist server (static.rust-lang.org, OMG_RUST_MIRROR).

``dist/channel-rust-<stable|beta|nightly|1.x|1.x.y>.toml`` manifests carry a
URL and sha256 per component and target; rustc, cargo and rust-std are
downloaded, verified, and merged (each archive's component directory, named in
its ``components`` file) into one tree. There is no list of all versions
upstream: ``--remote`` shows the stable version and the minor lines below it.
"""

from __future__ import annotations

import tomllib
from typing import Any, ClassVar

from omg.providers.base import PREFIX, Artifact, Context, Provider, Release, bad_index
from store.errors import IntegrityError, NotFound

COMPONENTS = ("rustc", "cargo", "rust-std")


class RustProvider(Provider):
    name = "rust"
    default_mirror = "https://static.rust-lang.org"
    #: Stable changes every six weeks; the channel manifests are large.
    index_ttl = 6 * 3600.0
    #: cargo's registry cache and `cargo install` live under CARGO_HOME (writable prefix).
    env_vars: ClassVar[dict[str, str]] = {"CARGO_HOME": f"{PREFIX}/cargo"}

    def _target(self, ctx: Context) -> str:
        arch = "aarch64" if ctx.platform.arch == "arm64" else "x86_64"
        return f"{arch}-unknown-linux-{'musl' if ctx.platform.libc == 'musl' else 'gnu'}"

    def manifest(self, ctx: Context, channel: str) -> dict[str, Any]:
        url = f"{self.mirror(ctx)}/dist/channel-rust-{channel}.toml"
        try:
            data = tomllib.loads(self.fetch_text(ctx, url))
        except tomllib.TOMLDecodeError as exc:
            raise IntegrityError(f"{url}: the manifest is not valid TOML ({exc})") from exc
        try:
            version = str(data["pkg"]["rustc"]["version"]).split()[0]
        except (KeyError, TypeError):
            raise bad_index(url, "no [pkg.rustc] version") from None
        data["_url"], data["_version"] = url, version
        return data

    def releases(self, ctx: Context) -> list[Release]:
        stable = self.manifest(ctx, "stable")
        version = stable["_version"]
        major, minor = (int(x) for x in version.split(".")[:2])
        out = [Release(version, str(stable.get("date", "")), extra={"channel": "stable"})]
        out += [Release(f"{major}.{m}", extra={"channel": f"{major}.{m}"})
                for m in range(minor - 1, -1, -1)]
        return out

    def lookup(self, ctx: Context, spec: str) -> tuple[Release, list[Release]]:
        spec = self.normalize(spec)
        channel = "stable" if spec in ("latest", "stable") else spec
        if channel not in ("stable", "beta", "nightly") and not all(
                p.isdigit() for p in channel.split(".")):
            raise NotFound(f"rust@{spec}: not a channel or version")
        try:
            m = self.manifest(ctx, channel)
        except NotFound:
            raise NotFound(f"rust@{spec}: no such version",
                           hint="see `omg list rust --remote`") from None
        rel = Release(m["_version"] if channel not in ("beta", "nightly") else
                      f"{m['_version']}-{channel}", str(m.get("date", "")),
                      extra={"channel": channel})
        return rel, [rel]

    def artifacts(self, ctx: Context, release: Release) -> list[Artifact]:
        m = self.manifest(ctx, release.extra.get("channel") or release.version)
        target, out = self._target(ctx), []
        for comp in COMPONENTS:
            try:
                t = m["pkg"][comp]["target"][target]
            except (KeyError, TypeError):
                raise bad_index(m["_url"], f"no {comp} for {target}") from None
            if not t.get("available", True):
                raise NotFound(f"rust {release.version}: {comp} is not available for {target}")
            url, sha = (t.get("xz_url"), t.get("xz_hash")) if t.get("xz_url") else \
                (t.get("url"), t.get("hash"))
            if not url or not sha:
                raise bad_index(m["_url"], f"{comp} lacks url or hash")
            out.append(Artifact(url, sha, url.rsplit("/", 1)[-1], subdir="@components"))
        return out
