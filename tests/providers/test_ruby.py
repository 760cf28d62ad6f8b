"""Ruby from jdx/ruby's releases (what mise installs): build revisions, every line
reachable, and every tarball checked against the API digest or the SLSA provenance.

The mirror (tests/providers/mirrors.py `build_ruby`) serves release entries made from a
real-shaped sample (tests/providers/data/ruby-release.json, which says where it comes
from) and tarballs in jdx/ruby's layout (``ruby-<ver>/bin/ruby``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from omg import install
from omg.config import Settings
from omg.providers.base import Context, Platform
from omg.providers.ruby import RubyProvider, provenance_digests
from store.errors import IntegrityError, NotFound
from tests.conftest import OmgEnv
from tests.providers.mirrors import (
    MirrorServer,
    ruby_provenance,
    ruby_release,
    script,
    tar_gz,
    write,
)

API = "gh/jdx/ruby/releases"


def _releases(mirror: MirrorServer) -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads((mirror.root / API).read_text())
    return data


def _publish(mirror: MirrorServer, version: str, tag: str, *, digests: bool = True,
             provenance: bool = True, ruby: str = "") -> str:
    """A new build of `version` under `tag`, listed first; returns its tarball's sha256."""
    fname = f"ruby-{version}.x86_64_linux.tar.gz"
    sha = tar_gz(mirror.root / "ruby-dl" / tag / fname,
                 {f"ruby-{version}/bin/ruby": script(ruby or f"ruby {version} ({tag})")})
    entry = ruby_release(version, tag, {"x86_64_linux": sha}, digests=digests)
    if provenance:
        write(mirror.root / "ruby-dl" / tag / f"ruby-{version}.intoto.jsonl",
              ruby_provenance({fname: sha}))
    else:
        entry["assets"] = [a for a in entry["assets"]
                           if not a["name"].endswith(".intoto.jsonl")]
    write(mirror.root / API, json.dumps([entry, *_releases(mirror)]))
    return sha


def test_newest_build_revision_wins(settings: Settings, mirror: MirrorServer) -> None:
    # Listed after the floating tag and revision 1 (the API's order is by date, and a
    # rebuild may be listed anywhere): the highest revision number wins, not the order.
    sha = _publish(mirror, "3.3.4", "3.3.4-2")
    write(mirror.root / API, json.dumps(list(reversed(_releases(mirror)))))
    [r] = install.install(settings, ["ruby@3.3"])
    assert r.version == "3.3.4" and list(r.urls) == [
        f"{mirror.url}/ruby-dl/3.3.4-2/ruby-3.3.4.x86_64_linux.tar.gz"]
    assert r.record.origin is not None and r.record.origin["sha256"] == sha
    [r] = install.install(settings, ["ruby@3.3.1"])
    assert list(r.urls) == [f"{mirror.url}/ruby-dl/3.3.1-1/ruby-3.3.1.x86_64_linux.tar.gz"]
    assert (r.store_path / "bin/ruby").is_file() and (r.store_path / "bin/gem").is_file()


def test_an_asset_without_a_digest_is_checked_against_the_provenance(
        settings: Settings, mirror: MirrorServer) -> None:
    sha = _publish(mirror, "3.2.0", "3.2.0-1", digests=False)
    [r] = install.install(settings, ["ruby@3.2.0"])
    assert r.version == "3.2.0" and r.record.origin is not None
    assert r.record.origin["sha256"] == sha
    assert ("/ruby-dl/3.2.0-1/ruby-3.2.0.intoto.jsonl", "") in mirror.requests


def test_a_tarball_the_provenance_does_not_match_is_refused(
        settings: Settings, mirror: MirrorServer) -> None:
    _publish(mirror, "3.2.0", "3.2.0-1", digests=False)
    tar_gz(mirror.root / "ruby-dl/3.2.0-1/ruby-3.2.0.x86_64_linux.tar.gz",
           {"ruby-3.2.0/bin/ruby": script("tampered")})
    with pytest.raises(IntegrityError):
        install.install(settings, ["ruby@3.2.0"])
    assert not [p for p in install.list_installed(settings) if p.tool == "ruby"]


def test_a_build_with_neither_digest_nor_provenance_is_refused(
        omg_env: OmgEnv, mirror_env: dict[str, str], mirror: MirrorServer) -> None:
    _publish(mirror, "3.2.0", "3.2.0-1", digests=False, provenance=False)
    before = omg_env.run("list", "--json", extra_env=mirror_env, check=True).stdout
    proc = omg_env.run("install", "ruby@3.2.0", extra_env=mirror_env)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.startswith("error: ruby 3.2.0: the release lists no sha256 digest")
    assert "cannot verify" in proc.stderr
    assert omg_env.run("list", "--json", extra_env=mirror_env, check=True).stdout == before


def test_tags_previews_and_floating_builds(settings: Settings, mirror: MirrorServer) -> None:
    _publish(mirror, "4.0.0-preview3", "4.0.0-preview3")  # a floating tag only
    _publish(mirror, "3.4.5", "3.4.5")
    versions = [r.version for r in install.list_remote(settings, "ruby")]
    assert versions == ["4.0.0-preview3", "3.4.5", "3.3.4", "3.3.1", "3.2.9"]
    [r] = install.install(settings, ["ruby@latest"])
    assert r.version == "3.4.5"  # a preview is never "latest"
    [r] = install.install(settings, ["ruby@4.0.0-preview3"])
    assert list(r.urls) == [f"{mirror.url}/ruby-dl/4.0.0-preview3/"
                      "ruby-4.0.0-preview3.x86_64_linux.tar.gz"]


def _ctx(fetched: dict[str, bytes], *, arch: str = "x64", libc: str = "gnu") -> Context:
    from omg.providers.base import Doc

    def fetch(url: str, var: str, ttl: float) -> Doc:
        return Doc(fetched[url.split("?")[0]])

    return Context(mirror_of=lambda tool, default: default,
                   platform=Platform("linux", arch, libc), fetch=fetch)


def test_arm64_picks_its_asset_and_musl_is_told_why() -> None:
    api = f"{RubyProvider.default_api}/releases"
    body = json.dumps([ruby_release("3.4.5", "3.4.5-1", {"arm64_linux": "a" * 64})]).encode()
    [r] = RubyProvider().releases(_ctx({api: body}, arch="arm64"))
    [art] = RubyProvider().artifacts(_ctx({}, arch="arm64"), r)
    assert art.url.endswith("/3.4.5-1/ruby-3.4.5.arm64_linux.tar.gz") and art.sha256 == "a" * 64
    with pytest.raises(NotFound, match="need glibc"):
        RubyProvider().releases(_ctx({api: body}, libc="musl"))


def test_provenance_envelope_and_bundle_forms() -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    line = ruby_provenance({"ruby-3.4.5.x86_64_linux.tar.gz": sha})
    assert provenance_digests("u", line) == {"ruby-3.4.5.x86_64_linux.tar.gz": sha}
    bundle = json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                         "dsseEnvelope": json.loads(line)}).encode()
    assert provenance_digests("u", bundle) == {"ruby-3.4.5.x86_64_linux.tar.gz": sha}
    bad = json.dumps({"payload": base64.b64encode(b"not json").decode()}).encode()
    with pytest.raises(IntegrityError, match="not an in-toto DSSE envelope"):
        provenance_digests("u", bad)


def test_store_path_is_the_tree_inside_the_top_directory(settings: Settings) -> None:
    [r] = install.install(settings, ["ruby@3.2.9"])
    assert sorted(p.name for p in Path(r.store_path).iterdir()) == ["bin", "include", "lib"]
    assert (r.store_path / "lib/ruby/3.2.0/x86_64-linux/rbconfig.rb").is_file()
