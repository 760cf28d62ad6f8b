"""Rust from the dist server, as rustup installs it (static.rust-lang.org, OMG_RUST_MIRROR).

A channel manifest (``dist/channel-rust-<channel>.toml``, or
``dist/<date>/channel-rust-<channel>.toml`` for a dated one) lists every package
with a URL and sha256 per target. What gets installed is rustup's choice:

- a **profile** from the manifest's ``[profiles]`` (``minimal``: rustc, cargo,
  rust-std; ``default`` adds rust-docs, rustfmt and clippy), kept to the
  components the ``rust`` package offers this host; a profile component the
  manifest has no build of (``available = false``, or no table) is skipped with a
  warning, as nightlies often lack a tool;
- the **components** asked for by name (an error if the manifest lacks them), the
  names read through ``[renames]`` (``rustfmt`` is package ``rustfmt-preview``) and
  recorded by the name users type; ``rust-src`` is target-independent (``*``);
- the **targets** asked for: ``rust-std`` of each, merged into the same tree.

The spec says all of it after the toolchain, joined by ``+``:
``rust@1.78.0+minimal+rust-src+wasm32-unknown-unknown``. The store path's version
label is that, canonical (the rustc version, a profile other than default, then
the components not already in the profile and the other targets, sorted), so
two component sets are two store paths. Nightlies and betas are labelled from
the manifest (``1.80.0-nightly-2024-05-04``, ``1.79.0-beta.3``).

Manifests name their downloads on ``https://static.rust-lang.org``; they are
fetched from the configured mirror instead, so an offline mirror serves all of
it. There is no list of all versions upstream: ``--remote`` shows the stable
version and the minor lines below it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from omg.providers.base import PREFIX, Artifact, Context, Provider, Release, bad_index
from omg.signatures import Signature
from omg.spec import version_key
from store.errors import IntegrityError, NotFound, UsageError

#: A table of a channel manifest as tomllib parsed it (the manifest adds ``_url`` and
#: ``_version``). Any, and rightly: `_components` walks upstream's tables as they are,
#: and `_resolve` turns a wrong shape (KeyError, TypeError...) into `bad_index`; what
#: comes out of it is typed (`Artifact`).
Toml = dict[str, Any]

DIST_SERVER = "https://static.rust-lang.org"
DEFAULT_PROFILE = "default"
#: Profile names known without a manifest (to read a spec offline).
PROFILES = frozenset({"minimal", "default", "complete"})
_DATE = r"\d{4}-\d{2}-\d{2}"
_DATED = re.compile(rf"^(stable|beta|nightly)-({_DATE})$")
#: A label omg gave a dated release (``1.80.0-nightly-2024-05-04``) names it again.
_LABEL = re.compile(rf"^\d+\.\d+\.\d+-(beta|nightly)-({_DATE})$")
_VERSION = re.compile(r"^\d+\.\d+(?:\.\d+)?(?:-beta(?:\.\d+)?)?$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Request:
    """A parsed spec: which toolchain, and what to install with it."""

    channel: str  # stable | beta | nightly | 1.78 | 1.78.0 | 1.79.0-beta.3
    date: str = ""  # for a dated channel
    profile: str = DEFAULT_PROFILE
    extras: tuple[str, ...] = ()  # components and targets, as named

    @property
    def suffix(self) -> str:
        """The label's tail as far as it is known without a manifest."""
        return _suffix(self.profile, self.extras)


def _suffix(profile: str, names: Sequence[str]) -> str:
    parts = ([profile] if profile != DEFAULT_PROFILE else []) + sorted(set(names))
    return "".join(f"+{p}" for p in parts)


def parse(spec: str) -> Request:
    head, *extras = spec.split("+")
    if m := _DATED.match(head) or _LABEL.match(head):
        channel, date = m[1], m[2]
    elif head in ("latest", "stable", "beta", "nightly") or _VERSION.match(head):
        channel, date = ("stable" if head == "latest" else head), ""
    else:
        raise UsageError(f"rust@{spec}: {head!r} is not a channel or a version",
                         hint="e.g. rust@stable, rust@1.78, rust@nightly-2024-05-04")
    profiles = [e for e in extras if e in PROFILES]
    if len(set(profiles)) > 1:
        raise UsageError(f"rust@{spec}: more than one profile ({', '.join(profiles)})")
    names = [e for e in extras if e not in PROFILES]
    for name in names:
        if not _NAME.match(name):
            raise UsageError(f"rust@{spec}: {name!r} is not a component or target name")
    return Request(channel, date, profiles[0] if profiles else DEFAULT_PROFILE,
                   tuple(dict.fromkeys(names)))


def _base(label: str) -> str:
    return label.split("+", 1)[0]


@dataclass
class _Resolved:
    artifacts: list[Artifact]
    warnings: list[str]
    label_names: list[str]  # the extras that stay in the label, by the names users type


class RustProvider(Provider):
    name = "rust"
    signs = True
    default_mirror = DIST_SERVER
    #: Stable changes every six weeks; the channel manifests are large.
    index_ttl = 6 * 3600.0
    #: cargo's registry cache and `cargo install` live under CARGO_HOME (writable prefix).
    env_vars: ClassVar[dict[str, str]] = {"CARGO_HOME": f"{PREFIX}/cargo"}

    def _target(self, ctx: Context) -> str:
        arch = "aarch64" if ctx.platform.arch == "arm64" else "x86_64"
        return f"{arch}-unknown-linux-{'musl' if ctx.platform.libc == 'musl' else 'gnu'}"

    # The manifest ---------------------------------------------------------------------

    def manifest(self, ctx: Context, channel: str, date: str = "", *,
                 signed: bool = False) -> Toml:
        """A channel manifest; `signed`: checked against its ``.asc`` first (an install
        trusts its sha256s; a listing reads only the version)."""
        where = f"{date}/" if date else ""
        url = f"{self.mirror(ctx)}/dist/{where}channel-rust-{channel}.toml"
        body = ctx.signed(self.name, url, lambda: self.fetch(ctx, url),
                          [Signature(f"{url}.asc")], lambda u: self.fetch(ctx, u)) \
            if signed else self.fetch(ctx, url)
        try:
            data = tomllib.loads(body.decode("utf-8", "replace"))
        except tomllib.TOMLDecodeError as exc:
            raise IntegrityError(f"{url}: the manifest is not valid TOML ({exc})") from exc
        if str(data.get("manifest-version", "")) != "2":
            raise IntegrityError(f"{url}: manifest-version {data.get('manifest-version')!r} "
                                 "is not one omg reads (2)")
        try:
            version = str(data["pkg"]["rustc"]["version"]).split()[0]
        except (KeyError, TypeError, IndexError):
            raise bad_index(url, "no [pkg.rustc] version") from None
        data["_url"], data["_version"] = url, version
        return data

    def _version(self, m: Toml) -> str:
        """``1.78.0``, ``1.79.0-beta.3``; a nightly (or unnumbered beta) gets its date."""
        rustc, date = m["_version"], str(m.get("date", ""))
        if rustc.endswith(("-nightly", "-beta")) and date:
            return f"{rustc}-{date}"
        return str(rustc)

    # Upstream -------------------------------------------------------------------------

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
        req = parse(spec)
        try:
            m = self.manifest(ctx, req.channel, req.date, signed=True)
        except NotFound:
            raise NotFound(f"rust@{spec}: no such version",
                           hint="see `omg list rust --remote`") from None
        version = self._version(m)
        found = self._resolve(ctx, m, req, version)
        rel = Release(version + _suffix(req.profile, found.label_names),
                      str(m.get("date", "")), prerelease="-" in version,
                      extra={"resolved": found})
        return rel, [rel]

    def artifacts(self, ctx: Context, release: Release) -> list[Artifact]:
        found = release.extra.get("resolved")
        if not isinstance(found, _Resolved):  # a release from the listing
            found = self.lookup(ctx, release.version)[0].extra["resolved"]
            assert isinstance(found, _Resolved)
        return list(found.artifacts)

    def warnings(self, release: Release, releases: Sequence[Release]) -> list[str]:
        found = release.extra.get("resolved")
        return list(found.warnings) if isinstance(found, _Resolved) else []

    # What a request installs -----------------------------------------------------------

    def _resolve(self, ctx: Context, m: Toml, req: Request,
                 version: str) -> _Resolved:
        url = m["_url"]
        try:
            return self._components(ctx, m, req, version)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise bad_index(url, f"unreadable package tables ({type(exc).__name__}: "
                                 f"{exc})") from None

    def _components(self, ctx: Context, m: Toml, req: Request,
                    version: str) -> _Resolved:
        host = self._target(ctx)
        pkgs: Toml = m["pkg"]
        renames = {str(k): str(v["to"]) for k, v in m.get("renames", {}).items()}
        typed = {to: frm for frm, to in renames.items()}  # package -> the name users type
        rust = pkgs.get("rust", {}).get("target", {}).get(host)
        if not isinstance(rust, dict):
            raise NotFound(f"rust {version}: no toolchain for {host} in {m['_url']}")
        offered = {(str(c["pkg"]), str(c.get("target", "*")))
                   for c in [*rust.get("components", []), *rust.get("extensions", [])]}
        members = self._profile(m, req, version, offered, host, rust)
        # (package, target) -> named by the user (an error if missing) or by the profile
        wanted: dict[tuple[str, str], bool] = {(p, _where(pkgs, p, host)): False
                                               for p in members}
        label: list[str] = []
        for name in req.extras:
            pkg = renames.get(name, name)
            if pkg in pkgs and pkg != "rust":
                key = (pkg, _where(pkgs, pkg, host))
                if pkg not in members:
                    label.append(typed.get(pkg, pkg))
            elif name in pkgs.get("rust-std", {}).get("target", {}):
                key = ("rust-std", name)
                if name != host:
                    label.append(name)
            else:
                raise NotFound(f"rust {version}: {name!r} is neither a component nor a "
                               f"target of this toolchain",
                               hint="components such as rust-src, rustfmt, clippy; "
                                    "targets such as wasm32-unknown-unknown")
            wanted[key] = True
        artifacts, warnings = [], []
        for (pkg, target), named in wanted.items():
            table = pkgs.get(pkg, {}).get("target", {}).get(target)
            shown = typed.get(pkg, pkg) if target in (host, "*") else f"{pkg}-{target}"
            if not isinstance(table, dict) or not table.get("available", True):
                # "*": a target-independent component (rust-src), in no target's table.
                where = "in this toolchain" if target == "*" else f"for {target}"
                if named:
                    raise NotFound(f"rust {version}: {shown} is not available {where}",
                                   hint="nightlies often lack a component; try another date"
                                   if "nightly" in version else
                                   "this release's manifest has no build of it; "
                                   f"`omg install rust@{version}` without it")
                warnings.append(f"rust {version}: the {req.profile} profile's {shown} is "
                                f"not available {where}; installed without it")
                continue
            artifacts.append(self._artifact(ctx, m["_url"], table, shown))
        return _Resolved(artifacts, warnings, label)

    def _profile(self, m: Toml, req: Request, version: str,
                 offered: set[tuple[str, str]], host: str, rust: Toml) -> list[str]:
        """The profile's packages this host's `rust` package offers (rust-mingw is not
        for Linux: left out silently, as rustup does)."""
        profiles = m.get("profiles")
        if not profiles:  # manifests before profiles (2019): the rust package's components
            return [str(c["pkg"]) for c in rust.get("components", [])
                    if str(c.get("target", "*")) in (host, "*")]
        if req.profile not in profiles:
            raise NotFound(f"rust {version}: no profile {req.profile!r}",
                           hint=f"profiles: {', '.join(sorted(profiles))}")
        return [str(p) for p in profiles[req.profile]
                if (p, host) in offered or (p, "*") in offered]

    def _artifact(self, ctx: Context, manifest_url: str, table: Toml,
                  component: str) -> Artifact:
        url, sha = (table.get("xz_url"), table.get("xz_hash")) if table.get("xz_url") else \
            (table.get("url"), table.get("hash"))
        if not isinstance(url, str) or not isinstance(sha, str) or not url or not sha:
            raise bad_index(manifest_url, f"{component} lacks url or hash")
        url = self._on_mirror(ctx, url)
        return Artifact(url, sha, url.rsplit("/", 1)[-1], subdir="@components",
                        component=component)

    def _on_mirror(self, ctx: Context, url: str) -> str:
        """The manifests name static.rust-lang.org: fetch through the configured mirror."""
        if url.startswith(DIST_SERVER + "/"):
            return self.mirror(ctx).rstrip("/") + url[len(DIST_SERVER):]
        return url

    # Local resolution -------------------------------------------------------------------

    def select(self, spec: str, releases: Sequence[Release]) -> Release | None:
        """Among installed (or listed) labels: the same extras, and the toolchain asked."""
        req = parse(spec)
        same = [r for r in releases if r.version[len(_base(r.version)):] == req.suffix]
        if req.date:
            hits = [r for r in same if _base(r.version).endswith(f"-{req.channel}-{req.date}")]
        elif req.channel in ("beta", "nightly"):
            hits = [r for r in same if f"-{req.channel}" in _base(r.version)]
        else:
            bases = [Release(_base(r.version), prerelease="-" in _base(r.version), extra={
                "r": r}) for r in same]
            found = super().select(req.channel, bases)
            release = found.extra["r"] if found is not None else None
            return release if isinstance(release, Release) else None
        return max(hits, key=lambda r: version_key(r.version), default=None)

    def is_exact(self, spec: str) -> bool:
        try:
            req = parse(self.normalize(spec))
        except UsageError:
            return False
        return bool(req.date) or req.channel.count(".") >= 2


def _where(pkgs: Toml, pkg: str, host: str) -> str:
    """A package's target for this host: ``*`` for the target-independent ones."""
    return "*" if "*" in pkgs.get(pkg, {}).get("target", {}) else host
