"""Tests of tests/support/realbin.py: the pure helpers fast, the downloads marked slow."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import httpx
import pytest

from tests.support import fixtures, realbin
from tests.support.fixtures import NodeMirror

node_mirror = fixtures.node_mirror  # a session fixture, used by name below


def test_serve_yields_a_local_url_and_stops(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hi")
    with realbin.serve(tmp_path) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/hello.txt").text == "hi"
        assert httpx.get(f"{url}/missing").status_code == 404
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/hello.txt", timeout=2)


def test_lts_names_follow_upstream() -> None:
    assert realbin._lts_name("20.8.1") is False
    assert realbin._lts_name("20.9.0") == "Iron"
    assert realbin._lts_name("21.0.0") is False
    assert realbin._lts_name("22.11.0") == "Jod"


def test_changelog_facts_and_bundled_npm() -> None:
    text = (
        "# Node.js 20 ChangeLog\n"
        "## 2023-11-22, Version 20.10.0 'Iron' (LTS), @targos\n"
        "* **deps**: upgrade npm to 10.2.3 (npm team)\n"
        "## 2023-10-13, Version 20.8.1 (Current), @RafaelGSS\n"
        "This is a security release.\n"
        "* **deps**: upgrade npm to 10.1.0 (npm team)\n"
    )
    assert realbin._bundled_npm(text) == "10.2.3"
    assert realbin._changelog_facts(text, "20.10.0") == {"date": "2023-11-22",
                                                         "security": False}
    assert realbin._changelog_facts(text, "20.8.1") == {"date": "2023-10-13",
                                                        "security": True}
    assert realbin._changelog_facts(text, "20.1.0") == {}


def test_integrity_mismatch_is_refused() -> None:
    digests = {"sha512": hashlib.sha512(b"x"), "sha1": hashlib.sha1(b"x")}
    with pytest.raises(RuntimeError, match="mismatch"):
        realbin._check_integrity("p@1", digests, {"shasum": "0" * 40})
    with pytest.raises(RuntimeError, match="no checksum"):
        realbin._check_integrity("p@1", digests, {})


@pytest.mark.slow
def test_npm_tarball_is_cached_and_verified() -> None:
    first = realbin.npm_tarball("npm", "10.2.3")
    assert first.is_file() and first.stat().st_size > 1_000_000
    assert realbin.npm_tarball("npm", "10.2.3") == first


@pytest.mark.slow
def test_node_versions_lists_a_major() -> None:
    versions = realbin.node_versions(20)
    assert "20.10.0" in versions
    assert all(v.startswith("20.") for v in versions)


@pytest.mark.slow
def test_node_dist_mirror_has_the_upstream_layout(tmp_path: Path) -> None:
    dist = realbin.build_node_dist_mirror(tmp_path, ["20.10.0"])
    assert dist == tmp_path / "dist"
    index = json.loads((dist / "index.json").read_text())
    entry = index[0]
    assert entry["version"] == "v20.10.0"
    assert entry["lts"] == "Iron" and entry["security"] is False
    assert entry["date"] == "2023-11-22" and entry["npm"] == "10.2.3"
    assert "linux-x64" in entry["files"] and entry["modules"] == "115"
    tarball = dist / "v20.10.0" / "node-v20.10.0-linux-x64.tar.xz"
    digest, name = (dist / "v20.10.0" / "SHASUMS256.txt").read_text().split()
    assert name == tarball.name
    assert hashlib.sha256(tarball.read_bytes()).hexdigest() == digest
    with tarfile.open(tarball) as tf:
        members = {m.name: m for m in tf}
    top = "node-v20.10.0-linux-x64"
    assert members[f"{top}/bin/node"].mode & 0o111
    assert members[f"{top}/bin/npm"].linkname == "../lib/node_modules/npm/bin/npm-cli.js"
    assert members[f"{top}/bin/npx"].linkname == "../lib/node_modules/npm/bin/npx-cli.js"
    assert f"{top}/include/node/node_version.h" in members
    with realbin.serve(tmp_path) as url:
        got = httpx.get(f"{url}/dist/index.json").json()
    assert got == index


@pytest.mark.slow
def test_node_mirror_fixture_serves_the_default_pair(node_mirror: NodeMirror) -> None:
    assert node_mirror.versions == realbin.DEFAULT_NODE_PAIR
    index = httpx.get(f"{node_mirror.url}/index.json").json()
    assert [r["version"] for r in index] == ["v22.11.0", "v20.10.0"]
    v = node_mirror.versions[0]
    sums = httpx.get(f"{node_mirror.url}/v{v}/SHASUMS256.txt").text
    digest = hashlib.sha256(node_mirror.tarball(v).read_bytes()).hexdigest()
    assert sums == f"{digest}  node-v{v}-linux-x64.tar.xz\n"


@pytest.mark.slow
def test_relocatable_python_runs_from_wherever_it_is_unpacked(tmp_path: Path) -> None:
    import subprocess

    try:
        build = realbin.relocatable_python()
    except RuntimeError as exc:
        pytest.skip(f"no relocatable CPython can be made here: {exc}")
    assert build.tarball.name == (f"cpython-{build['version']}+{build['tag']}-"
                                  "x86_64-unknown-linux-gnu-install_only.tar.gz")
    with tarfile.open(build.tarball) as tf:
        names = tf.getnames()
        tf.extractall(tmp_path)
    assert {n.split("/")[0] for n in names} == {"python"}
    bin_dir = tmp_path / "python" / "bin"
    # As upstream: python3 and pip3, neither `python` nor `pip`.
    assert (bin_dir / "python3").is_symlink() and (bin_dir / "pip3").is_file()
    assert not (bin_dir / "python").exists() and not (bin_dir / "pip").exists()
    out = subprocess.run([str(bin_dir / "python3"), "-I", "-c",
                          "import ssl, sys, os; print(sys.prefix); print(os.__file__)"],
                         capture_output=True, text=True, check=True, env={"PATH": "/usr/bin"})
    prefix, os_file = out.stdout.split()
    assert prefix == str(tmp_path / "python")
    assert os_file.startswith(prefix + "/lib/python3.")
    pip = subprocess.run([str(bin_dir / "pip3"), "--version"], capture_output=True,
                         text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    assert f"{tmp_path}/python/lib/python3." in pip.stdout
