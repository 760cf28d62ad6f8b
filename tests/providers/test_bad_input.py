"""Bad input through the CLI: one-line error, non-zero exit, nothing in the store."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import OmgEnv
from tests.providers.mirrors import MirrorServer, free_port_refused, write

NODE_XZ = "/dist/v20.12.0/node-v20.12.0-linux-x64.tar.xz"


def store_entries(env: OmgEnv) -> list[str]:
    store = env.home / "store"
    return sorted(n for n in os.listdir(store) if not n.startswith(".")) \
        if store.exists() else []


def fails(env: OmgEnv, mirror_env: dict[str, str], *args: str, code: int, match: str) -> str:
    proc = env.run(*args, extra_env=mirror_env)
    err = proc.stderr.strip()
    assert proc.returncode == code, (proc.returncode, proc.stdout, err)
    first = err.splitlines()[0]
    assert first.startswith("error: ") and match in first, err
    assert "Traceback" not in err
    assert store_entries(env) == []
    return err


def test_checksum_mismatch(omg_env: OmgEnv, mirror: MirrorServer,
                           mirror_env: dict[str, str]) -> None:
    f = mirror.root / NODE_XZ.lstrip("/")
    f.write_bytes(f.read_bytes()[:-1] + b"X")
    fails(omg_env, mirror_env, "install", "node@20", code=5, match="checksum mismatch")
    assert not list((omg_env.home / "cache" / "downloads").glob("*"))


def test_truncated_download(omg_env: OmgEnv, mirror: MirrorServer,
                            mirror_env: dict[str, str]) -> None:
    # Once truncated, the install retries (after fetching the checksums again) and
    # installs; truncated every time, it fails and installs nothing.
    mirror.faults[NODE_XZ] = ["short", "short"]
    fails(omg_env, mirror_env, "install", "node@20", code=5, match="checksum mismatch")
    mirror.faults[NODE_XZ] = ["short"]
    omg_env.run("install", "node@20", extra_env=mirror_env, check=True)


def test_connection_cut_every_time(omg_env: OmgEnv, mirror: MirrorServer,
                                   mirror_env: dict[str, str]) -> None:
    mirror.faults[NODE_XZ] = ["cut"] * 10
    fails(omg_env, mirror_env, "install", "node@20", code=6, match=NODE_XZ)


@pytest.mark.parametrize(("status", "code"), [(404, 3), (500, 6)])
def test_http_errors(omg_env: OmgEnv, mirror: MirrorServer, mirror_env: dict[str, str],
                     status: int, code: int) -> None:
    mirror.faults[NODE_XZ] = [status] * 10
    err = fails(omg_env, mirror_env, "install", "node@20", code=code, match=f"HTTP {status}")
    assert "OMG_NODE_MIRROR" in err


def test_index_not_json(omg_env: OmgEnv, mirror: MirrorServer,
                        mirror_env: dict[str, str]) -> None:
    write(mirror.root / "dist/index.json", "<html>not json</html>")
    fails(omg_env, mirror_env, "install", "node@20", code=5, match="not valid JSON")


@pytest.mark.parametrize(("path", "body", "spec"), [
    ("dist/index.json", [{"date": "2024-01-01"}], "node@20"),
    ("dl/index.html", [{"version": "go1.22.0"}], "go@1.22"),
    ("adoptium/v3/assets/feature_releases/21/ga", [{"binaries": []}], "java@21"),
    ("gh/oven-sh/bun/releases", {"message": "rate limited"}, "bun@1"),
])
def test_index_lacking_fields(omg_env: OmgEnv, mirror: MirrorServer,
                              mirror_env: dict[str, str], path: str, body: object,
                              spec: str) -> None:
    write(mirror.root / path, json.dumps(body))
    fails(omg_env, mirror_env, "install", spec, code=5, match="unexpected index format")


def test_rust_manifest_not_toml(omg_env: OmgEnv, mirror: MirrorServer,
                                mirror_env: dict[str, str]) -> None:
    write(mirror.root / "dist/channel-rust-stable.toml", "[[[ nope")
    fails(omg_env, mirror_env, "install", "rust@stable", code=5, match="not valid TOML")


@pytest.mark.parametrize("spec", ["node@19", "node@lts/argon", "go@1.99", "python@3.9",
                                  "java@8", "ruby@2", "rust@1.99.0", "bun@9"])
def test_unknown_version(omg_env: OmgEnv, mirror_env: dict[str, str], spec: str) -> None:
    fails(omg_env, mirror_env, "install", spec, code=3, match=spec.split("@")[0])


def test_unknown_tool_and_malformed_spec(omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    fails(omg_env, mirror_env, "install", "cobol@1", code=3, match="unknown tool")
    fails(omg_env, mirror_env, "install", "node@20;rm", code=2, match="malformed")


@pytest.mark.parametrize(("tool", "var"), [("node", "OMG_NODE_MIRROR"), ("go", "OMG_GO_MIRROR"),
                                           ("java", "OMG_JAVA_MIRROR"),
                                           ("bun", "OMG_BUN_API_MIRROR")])
def test_no_network(omg_env: OmgEnv, mirror_env: dict[str, str], tool: str, var: str) -> None:
    dead = free_port_refused()
    err = fails(omg_env, {**mirror_env, var: dead}, "install", f"{tool}@1", code=6, match=dead)
    assert var in err


def _hostile_tar(members: list[tarfile.TarInfo], data: bytes = b"x") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tf:
        for ti in members:
            if ti.isreg():
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(ti)
    return buf.getvalue()


def _ti(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname, ti.mode = kind, link, 0o755
    return ti


@pytest.mark.parametrize("members", [
    [_ti("node-v20.12.0-linux-x64/../../evil")],
    [_ti("/etc/evil")],
    [_ti("node-v20.12.0-linux-x64/bin", tarfile.SYMTYPE, "/etc"),
     _ti("node-v20.12.0-linux-x64/bin/passwd")],
    [_ti("node-v20.12.0-linux-x64/dev", tarfile.CHRTYPE)],
], ids=["dotdot", "absolute", "through-symlink", "device"])
def test_hostile_tarball(omg_env: OmgEnv, mirror: MirrorServer, mirror_env: dict[str, str],
                         members: list[tarfile.TarInfo]) -> None:
    data = _hostile_tar(members)
    _replace_node_artifact(mirror.root, data)
    proc = omg_env.run("install", "node@20", extra_env=mirror_env)
    assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) <= 2, proc.stderr
    assert proc.stderr.startswith("error: ") and store_entries(omg_env) == []
    assert not Path("/etc/evil").exists()


def _replace_node_artifact(root: Path, data: bytes) -> None:
    f = root / NODE_XZ.lstrip("/")
    f.write_bytes(data)
    sums = root / "dist/v20.12.0/SHASUMS256.txt"
    sums.write_text(f"{hashlib.sha256(data).hexdigest()}  {f.name}\n")


def test_hostile_zip(omg_env: OmgEnv, mirror: MirrorServer, mirror_env: dict[str, str]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bun-linux-x64/../../../evil", b"x")
    data = buf.getvalue()
    d = mirror.root / "bun-dl/bun-v1.1.8"
    (d / "bun-linux-x64.zip").write_bytes(data)
    (d / "SHASUMS256.txt").write_text(f"{hashlib.sha256(data).hexdigest()}  bun-linux-x64.zip\n")
    proc = omg_env.run("install", "bun@1.1", extra_env=mirror_env)
    assert proc.returncode == 7 and proc.stderr.startswith("error: "), proc.stderr
    assert store_entries(omg_env) == []


def test_hostile_rust_component(omg_env: OmgEnv, mirror: MirrorServer,
                                mirror_env: dict[str, str]) -> None:
    """A component list naming a directory outside the component is refused."""
    import tomllib

    manifest = tomllib.loads((mirror.root / "dist/channel-rust-stable.toml").read_text())
    t = manifest["pkg"]["cargo"]["target"]["x86_64-unknown-linux-gnu"]
    top = "cargo-1.78.0-x86_64-unknown-linux-gnu"
    data = _hostile_tar([_ti(f"{top}/components"), _ti(f"{top}/cargo/bin/cargo")],
                        b"../../etc\n")
    path = mirror.root / t["xz_url"].split("/", 3)[3]
    path.write_bytes(data)
    text = (mirror.root / "dist/channel-rust-stable.toml").read_text()
    (mirror.root / "dist/channel-rust-stable.toml").write_text(
        text.replace(t["xz_hash"], hashlib.sha256(data).hexdigest()))
    proc = omg_env.run("install", "rust@stable", extra_env=mirror_env)
    assert proc.returncode == 7 and "bad component name" in proc.stderr, proc.stderr
    assert store_entries(omg_env) == []
