"""Local mirrors in each upstream's exact layout, filled with tiny generated runtimes.

Each `build_<tool>(root, base_url, versions)` writes the upstream's files under
`root` and returns the environment that points omg at them. `MirrorServer`
serves `root` on 127.0.0.1 with Range support and injectable faults.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import re
import socketserver
import tarfile
import threading
import time
import zipfile
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl


def script(text: str) -> bytes:
    return f"#!/bin/sh\necho '{text}'\n".encode()


def _tar(path: Path, files: dict[str, bytes | tuple[str, str]], mode: str) -> str:
    """files: name -> content (executable) or ("link", target)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=f"w:{mode}") as tf:
        dirs: set[str] = set()
        for name in sorted(files):
            parts = name.split("/")
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    ti = tarfile.TarInfo(d)
                    ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                    tf.addfile(ti)
            content = files[name]
            ti = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                ti.type, ti.linkname = tarfile.SYMTYPE, content[1]
                tf.addfile(ti)
            else:
                ti.size, ti.mode = len(content), 0o755
                tf.addfile(ti, io.BytesIO(content))
    path.write_bytes(buf.getvalue())
    return hashlib.sha256(buf.getvalue()).hexdigest()


def tar_xz(path: Path, files: dict[str, Any]) -> str:
    return _tar(path, files, "xz")


def tar_gz(path: Path, files: dict[str, Any]) -> str:
    return _tar(path, files, "gz")


def make_zip(path: Path, files: dict[str, bytes]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zi = zipfile.ZipInfo(name)
            zi.external_attr = (0o100755) << 16
            zf.writestr(zi, content)
    path.write_bytes(buf.getvalue())
    return hashlib.sha256(buf.getvalue()).hexdigest()


def write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


# -- upstream layouts -----------------------------------------------------------------------

NODE_VERSIONS = [  # (version, lts, security, date)
    ("22.2.0", False, False, "2024-05-15"),
    ("22.1.0", False, True, "2024-05-01"),
    ("20.12.0", "Iron", False, "2024-03-26"),
    ("20.11.1", "Iron", True, "2024-02-14"),
    ("20.10.0", "Iron", False, "2023-11-22"),
    ("18.19.0", "Hydrogen", False, "2023-11-29"),
]


def build_node(root: Path, base: str, versions: list[tuple[Any, ...]] = NODE_VERSIONS
               ) -> dict[str, str]:
    dist = root / "dist"
    index = []
    for version, lts, security, date in versions:
        name = f"node-v{version}-linux-x64"
        sha = tar_xz(dist / f"v{version}" / f"{name}.tar.xz", {
            f"{name}/bin/node": script(f"v{version}"),
            f"{name}/bin/npm": ("link", "../lib/node_modules/npm/bin/npm-cli.js"),
            f"{name}/lib/node_modules/npm/bin/npm-cli.js": script("npm"),
            f"{name}/include/node/node.h": b"/* header */\n",
        })
        write(dist / f"v{version}" / "SHASUMS256.txt",
              f"{'0' * 64}  node-v{version}.tar.gz\n{sha}  {name}.tar.xz\n")
        index.append({"version": f"v{version}", "date": date, "files": ["linux-x64", "src"],
                      "npm": "10.0.0", "lts": lts, "security": security})
    write(dist / "index.json", json.dumps(index))
    return {"OMG_NODE_MIRROR": f"{base}/dist"}


def build_bun(root: Path, base: str, versions: tuple[str, ...] = ("1.1.8", "1.1.0", "1.0.36")
              ) -> dict[str, str]:
    releases = []
    for v in versions:
        d = root / "bun-dl" / f"bun-v{v}"
        sha = make_zip(d / "bun-linux-x64.zip", {"bun-linux-x64/bun": script(f"{v}")})
        write(d / "SHASUMS256.txt", f"{sha}  bun-linux-x64.zip\n")
        releases.append({"tag_name": f"bun-v{v}", "prerelease": False, "draft": False,
                         "published_at": "2024-05-01T00:00:00Z"})
    write(root / "gh" / "oven-sh" / "bun" / "releases", json.dumps(releases))
    return {"OMG_BUN_MIRROR": f"{base}/bun-dl", "OMG_BUN_API_MIRROR": f"{base}/gh/oven-sh/bun"}


def build_python(root: Path, base: str) -> dict[str, str]:
    tags = {"20240814": ["3.12.5", "3.11.9"], "20240713": ["3.12.4", "3.11.9"],
            "20231002": ["3.12.0", "3.11.5"]}
    releases = []
    for tag, versions in tags.items():
        lines = []
        for v in versions:
            fname = f"cpython-{v}+{tag}-x86_64-unknown-linux-gnu-install_only.tar.gz"
            sha = tar_gz(root / "pbs" / tag / fname, {
                "python/bin/python3": script(f"Python {v}"),
                f"python/bin/python{v.rsplit('.', 1)[0]}": script(f"Python {v}"),
                "python/bin/pip3": script("pip"),
            })
            lines.append(f"{sha}  {fname}")
            lines.append(f"{'1' * 64}  cpython-{v}+{tag}-aarch64-unknown-linux-gnu-"
                         "install_only.tar.gz")
        write(root / "pbs" / tag / "SHA256SUMS", "\n".join(lines) + "\n")
        releases.append({"tag_name": tag, "draft": False})
    write(root / "gh" / "astral-sh" / "pbs" / "releases", json.dumps(releases))
    return {"OMG_PYTHON_MIRROR": f"{base}/pbs",
            "OMG_PYTHON_API_MIRROR": f"{base}/gh/astral-sh/pbs"}


def build_go(root: Path, base: str,
             versions: tuple[str, ...] = ("1.22.3", "1.22.2", "1.21.10", "1.23rc1")
             ) -> dict[str, str]:
    index = []
    for v in versions:
        fname = f"go{v}.linux-amd64.tar.gz"
        sha = tar_gz(root / "dl" / fname, {"go/bin/go": script(f"go version go{v} linux/amd64"),
                                            "go/bin/gofmt": script("gofmt"),
                                            "go/src/fmt/print.go": b"package fmt\n"})
        index.append({"version": f"go{v}", "stable": "rc" not in v, "files": [
            {"filename": f"go{v}.src.tar.gz", "os": "", "arch": "", "version": f"go{v}",
             "sha256": "2" * 64, "size": 1, "kind": "source"},
            {"filename": fname, "os": "linux", "arch": "amd64", "version": f"go{v}",
             "sha256": sha, "size": 1, "kind": "archive"}]})
    write(root / "dl" / "index.html", json.dumps(index))
    return {"OMG_GO_MIRROR": f"{base}/dl"}


#: A real channel manifest, trimmed (its header says from where): the shape of every
#: manifest the test mirror serves.
RUST_SAMPLE = Path(__file__).parent / "data" / "channel-rust-stable.toml"
RUST_DIST = "https://static.rust-lang.org"
#: (rustc version, channel, date, components the manifest has no build of)
RUST_RELEASES: tuple[tuple[str, str, str, frozenset[str]], ...] = (
    ("1.78.0", "stable", "2024-05-02", frozenset()),
    ("1.77.2", "stable", "2024-04-09", frozenset()),
    ("1.79.0-beta.3", "beta", "2024-05-01", frozenset()),
    ("1.80.0-nightly", "nightly", "2024-05-04", frozenset()),
    # Nightlies often lack a tool: this one has no clippy and no docs for the host.
    ("1.80.0-nightly", "nightly", "2024-05-03", frozenset({"clippy-preview", "rust-docs"})),
)
_RUST_TREES: dict[str, Any] = {  # package -> files of its component (version in scripts)
    "rustc": {"bin/rustc": "rustc {v}", "bin/rustdoc": "rustdoc {v}",
              "lib/librustc_driver.so": b"\x7fELF"},
    "cargo": {"bin/cargo": "cargo {v}"},
    "rust-std": {"lib/rustlib/{t}/lib/libstd.rlib": b"rlib"},
    "rust-docs": {"share/doc/rust/html/index.html": b"<html></html>"},
    "rust-src": {"lib/rustlib/src/rust/library/core/src/lib.rs": b"//! core"},
    "clippy-preview": {"bin/cargo-clippy": "clippy {v}", "bin/clippy-driver": "clippy {v}"},
    "rustfmt-preview": {"bin/rustfmt": "rustfmt {v}", "bin/cargo-fmt": "cargo-fmt {v}"},
    "llvm-bitcode-linker-preview": {"lib/rustlib/{t}/bin/llvm-bitcode-linker": "linker"},
}


def rust_component(path: Path, pkg: str, target: str, version: str,
                   files: dict[str, Any] | None = None, fmt: str = "xz") -> str:
    """A rust-installer tarball as dist/ serves one: ``<stem>/components`` naming the
    component directory, ``install.sh``, ``rust-installer-version`` and the component's
    files with its ``manifest.in``. Returns its sha256."""
    key = (path.name, pkg, target, version, fmt)
    if files is None and key in _BUILT:  # every test builds the mirror: build each once
        write(path, _BUILT[key])
        return hashlib.sha256(_BUILT[key]).hexdigest()
    stem = path.name.removesuffix(f".tar.{fmt}")
    cdir = f"rust-std-{target}" if pkg == "rust-std" else pkg
    tree = files if files is not None else _RUST_TREES[pkg]
    members: dict[str, Any] = {}
    for name, content in tree.items():
        data = content.format(v=version).encode() if isinstance(content, str) else content
        members[f"{stem}/{cdir}/{name.format(t=target)}"] = \
            script(data.decode()) if isinstance(content, str) else data
    members[f"{stem}/{cdir}/manifest.in"] = "".join(
        f"file:{n.format(t=target)}\n" for n in tree).encode()
    members[f"{stem}/components"] = f"{cdir}\n".encode()
    members[f"{stem}/rust-installer-version"] = b"3\n"
    members[f"{stem}/install.sh"] = script("install")
    sha = (tar_xz if fmt == "xz" else tar_gz)(path, members)
    if files is None:
        _BUILT[key] = path.read_bytes()
    return sha


_BUILT: dict[tuple[str, ...], bytes] = {}


def rust_manifest(root: Path, rustc: str, channel: str, date: str,
                  unavailable: frozenset[str] = frozenset(),
                  build: Callable[..., str | None] = rust_component) -> str:
    """The sample manifest made over for one release, and its components built under
    `root`/dist/<date>/ (both formats, as dist/ has them). The URLs keep naming
    static.rust-lang.org, as real ones do; hashes are the built files'. A package in
    `unavailable`, or one `build` returns None for, is ``available = false``."""
    token = rustc if channel == "stable" else channel  # rustc-nightly-<target>.tar.xz
    text = "manifest-version" + RUST_SAMPLE.read_text().split("\nmanifest-version", 1)[1]
    text = text.replace("1.98.1 (48a229cea 2026-09-01)", f"{rustc} (0123456789 {date})"
                        ).replace("1.98.1", token).replace("2026-09-03", date)
    blocks = re.split(r"\n(?=\[)", text.strip("\n"))
    return "\n".join(_rust_table(root, b, rustc, unavailable, build) for b in blocks) + "\n"


def _rust_table(root: Path, block: str, rustc: str, unavailable: frozenset[str],
                build: Callable[..., str | None]) -> str:
    head, *lines = block.split("\n")
    m = re.match(r'^\[pkg\.([a-z0-9-]+)\.target\."?([^"\]]+)"?\]$', head)
    if m is None or m[1] not in _RUST_TREES or not any(ln.startswith("url") for ln in lines):
        return block
    pkg, target = m[1], m[2]
    values = dict(ln.split(" = ", 1) for ln in lines if " = " in ln)
    shas: dict[str, str | None] = {}
    if pkg not in unavailable:
        for key, fmt in (("url", "gz"), ("xz_url", "xz")):
            local = root / values[key].strip('"').removeprefix(RUST_DIST + "/")
            shas[key] = build(local, pkg, target, rustc, fmt=fmt)
    if pkg in unavailable or None in shas.values():
        return f"{head}\navailable = false\n"
    out = [head]
    for ln in lines:
        key = ln.split(" = ", 1)[0]
        if key in ("hash", "xz_hash"):
            ln = f'{key} = "{shas["url" if key == "hash" else "xz_url"]}"'
        out.append(ln)
    return "\n".join(out)


def build_rust(root: Path, base: str,
               releases: tuple[tuple[str, str, str, frozenset[str]], ...] = RUST_RELEASES
               ) -> dict[str, str]:
    """static.rust-lang.org's dist/: ``channel-rust-<channel>.toml`` for the newest of
    each channel, ``<date>/channel-rust-<channel>.toml`` for every release, and
    ``channel-rust-1.x.y.toml``/``1.x.toml`` for stable ones; each with its
    ``.sha256``."""
    newest: set[str] = set()
    for rustc, channel, date, unavailable in releases:
        manifest = rust_manifest(root, rustc, channel, date, unavailable)
        names = [f"{date}/channel-rust-{channel}.toml"]
        if channel not in newest:
            newest.add(channel)
            names.append(f"channel-rust-{channel}.toml")
        if channel == "stable":
            names += [f"channel-rust-{rustc}.toml", f"channel-rust-{rustc.rsplit('.', 1)[0]}.toml"]
        for name in names:
            write(root / "dist" / name, manifest)
            write(root / "dist" / f"{name}.sha256",
                  f"{hashlib.sha256(manifest.encode()).hexdigest()}  {name.rsplit('/')[-1]}\n")
    return {"OMG_RUST_MIRROR": base}


#: A real release entry of jdx/ruby's API answer (its "_origin" says from where), with
#: "@<platform>@" where each asset's digest goes.
RUBY_SAMPLE = Path(__file__).parent / "data" / "ruby-release.json"
RUBY_PLATFORMS = ("arm64_linux", "arm64_linux.no_yjit", "macos", "x86_64_linux",
                  "x86_64_linux.no_yjit")
#: What `--enable-load-relative` installs as bin/gem (and bundle, irb, ...): a sh
#: prologue that runs the ruby beside the script, whichever directory that is.
RUBY_BINSTUB = """#!/bin/sh
# -*- ruby -*-
_=_\\
=begin
bindir="${0%/*}"
exec "$bindir/ruby" "-x" "$0" "$@"
=end
#!/usr/bin/env ruby
require 'rubygems'
"""


def ruby_release(version: str, tag: str, shas: dict[str, str], *,
                 digests: bool = True) -> dict[str, Any]:
    """The sample release entry made over for `tag`: asset digests from `shas` (by
    platform, and "intoto"; absent ones get a stand-in), or none (`digests=False`: an
    asset uploaded before GitHub recorded digests)."""
    text = RUBY_SAMPLE.read_text().replace("3.4.5-1", tag).replace("3.4.5", version)
    for key in (*RUBY_PLATFORMS, "intoto"):
        text = text.replace(f"@{key}@", shas.get(key) or
                            hashlib.sha256(f"{tag}/{key}".encode()).hexdigest())
    entry: dict[str, Any] = json.loads(text)
    del entry["_origin"]
    entry["prerelease"] = "preview" in version or "rc" in version
    if not digests:
        for asset in entry["assets"]:
            asset["digest"] = None
    return entry


def ruby_provenance(subjects: dict[str, str]) -> bytes:
    """``ruby-<ver>.intoto.jsonl`` as slsa-github-generator's generic generator writes
    it: one DSSE envelope whose payload is an in-toto statement naming each tarball."""
    import base64

    statement = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": n, "digest": {"sha256": d}} for n, d in sorted(subjects.items())],
        "predicate": {"builder": {"id": "https://github.com/slsa-framework/slsa-github-"
                                        "generator/.github/workflows/generator_generic_slsa3"
                                        ".yml@refs/tags/v2.1.0"},
                      "buildType": "https://github.com/slsa-framework/slsa-github-generator/"
                                   "generic@v1"}}
    envelope = {"payloadType": "application/vnd.in-toto+json",
                "payload": base64.b64encode(json.dumps(statement).encode()).decode(),
                "signatures": [{"keyid": "", "sig": base64.b64encode(b"sig").decode()}]}
    return json.dumps(envelope).encode() + b"\n"


def build_ruby(root: Path, base: str, versions: tuple[str, ...] = ("3.3.4", "3.3.1", "3.2.9")
               ) -> dict[str, str]:
    """jdx/ruby's releases: per version a floating tag and build revision 1, each with
    ``ruby-<ver>.x86_64_linux.tar.gz`` (top directory ``ruby-<ver>/``) and the SLSA
    provenance naming its sha256; the API entries carry the asset digests."""
    releases = []
    for v in versions:
        abi = ".".join(v.split(".")[:2]) + ".0"
        fname = f"ruby-{v}.x86_64_linux.tar.gz"
        files = {f"ruby-{v}/bin/ruby": script(f"ruby {v}"),
                 f"ruby-{v}/bin/gem": RUBY_BINSTUB.encode(),
                 f"ruby-{v}/lib/ruby/{abi}/x86_64-linux/rbconfig.rb": b"module RbConfig\nend\n",
                 f"ruby-{v}/include/ruby-{abi}/ruby.h": b"/* ruby.h */\n"}
        for tag in (f"{v}-1", v):  # the API lists the newest first
            sha = tar_gz(root / "ruby-dl" / tag / fname, files)
            prov = ruby_provenance({fname: sha})
            write(root / "ruby-dl" / tag / f"ruby-{v}.intoto.jsonl", prov)
            releases.append(ruby_release(v, tag, {"x86_64_linux": sha,
                                                  "intoto": hashlib.sha256(prov).hexdigest()}))
    write(root / "gh" / "jdx" / "ruby" / "releases", json.dumps(releases))
    return {"OMG_RUBY_MIRROR": f"{base}/ruby-dl",
            "OMG_RUBY_API_MIRROR": f"{base}/gh/jdx/ruby"}


def build_java(root: Path, base: str) -> dict[str, str]:
    majors = {21: ["21.0.3+9", "21.0.2+13"], 17: ["17.0.11+9"]}
    for major, versions in majors.items():
        items = []
        for v in versions:
            fname = f"OpenJDK{major}U-jdk_x64_linux_hotspot_{v.replace('+', '_')}.tar.gz"
            sha = tar_gz(root / "jdk-dl" / fname, {
                f"jdk-{v}/bin/java": script(f'openjdk version "{v}"'),
                f"jdk-{v}/bin/javac": script("javac"),
                f"jdk-{v}/release": f'JAVA_VERSION="{v}"\n'.encode()})
            items.append({"release_name": f"jdk-{v}", "timestamp": "2024-04-17T00:00:00Z",
                          "version_data": {"semver": v, "major": major},
                          "binaries": [{"architecture": "x64", "os": "linux",
                                        "image_type": "jdk", "jvm_impl": "hotspot",
                                        "package": {"link": f"{base}/jdk-dl/{fname}",
                                                    "checksum": sha, "name": fname,
                                                    "size": 1}}]})
        write(root / "adoptium" / "v3" / "assets" / "feature_releases" / str(major) / "ga",
              json.dumps(items))
    write(root / "adoptium" / "v3" / "info" / "available_releases", json.dumps({
        "available_releases": [17, 21], "available_lts_releases": [17, 21],
        "most_recent_lts": 21, "most_recent_feature_release": 21}))
    return {"OMG_JAVA_MIRROR": f"{base}/adoptium"}


BUILDERS = {"node": build_node, "bun": build_bun, "python": build_python, "go": build_go,
            "rust": build_rust, "ruby": build_ruby, "java": build_java}


# -- the server ------------------------------------------------------------------------------

#: query -> (status, body, extra headers): a dynamic answer for one path.
Route = Callable[[dict[str, str]], tuple[int, bytes, dict[str, str]]]


class MirrorServer:
    """Serve a directory on 127.0.0.1 as a static web server does (nginx: an ETag and a
    Last-Modified per file, 304 to a matching conditional request, Range).

    `faults[path]` is a list of actions taken in turn: an HTTP status (500, 404), "cut"
    (send half the body, then close) or "short" (a body truncated with a matching
    Content-Length). `routes[path]` answers a path from its query string instead of
    a file (an API that pages). Every request is counted: `requests` (path, Range),
    `answers` (path, status) and `conditions` (path, If-None-Match, If-Modified-Since).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.faults: dict[str, list[Any]] = {}
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str]] = []  # (path, range header)
        self.answers: list[tuple[str, int]] = []
        self.conditions: list[tuple[str, str, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def empty(self, status: int, headers: dict[str, str] | None = None) -> None:
                server.answers.append((self.path.split("?", 1)[0], status))
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                server.requests.append((path, self.headers.get("Range", "")))
                inm = self.headers.get("If-None-Match", "")
                ims = self.headers.get("If-Modified-Since", "")
                server.conditions.append((path, inm, ims))
                actions = server.faults.get(path)
                action = actions.pop(0) if actions else None
                if isinstance(action, int):
                    self.empty(action)
                    return
                if path in server.routes:
                    status, body, extra = server.routes[path](dict(parse_qsl(query)))
                    server.answers.append((path, status))
                    self.send_response(status)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                full = server.root / path.lstrip("/")
                if full.is_dir():
                    full = full / "index.html"
                if not full.is_file():
                    self.empty(404)
                    return
                data = full.read_bytes()
                etag = f'"{hashlib.sha256(data).hexdigest()[:20]}"'
                mtime = int(full.stat().st_mtime)
                validators = {"ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True)}
                if (inm and inm == etag) or (not inm and ims and _not_after(mtime, ims)):
                    self.empty(304, validators)
                    return
                start = 0
                rng = self.headers.get("Range", "")
                if rng.startswith("bytes=") and rng.endswith("-") and action is None:
                    start = int(rng[6:-1])
                    server.answers.append((path, 206))
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    server.answers.append((path, 200))
                    self.send_response(200)
                    for k, v in validators.items():
                        self.send_header(k, v)
                body = data[start:]
                if action == "short":
                    body = body[: len(body) // 2]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if action == "cut":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> MirrorServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _not_after(mtime: int, since: str) -> bool:
    try:
        return mtime <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False


def free_port_refused() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    time.sleep(0)
    return f"http://127.0.0.1:{port}"


_ = os
