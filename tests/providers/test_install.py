"""Every provider resolves, downloads, verifies and installs from its local mirror."""

from __future__ import annotations

import subprocess

import pytest

from omg import install, providers
from omg.config import Settings
from tests.providers.mirrors import MirrorServer
from tests.schema import check

CASES = [  # spec, version, executable, env var
    ("node@20", "20.12.0", "bin/node", None),
    ("bun@1.1", "1.1.8", "bun", None),
    ("python@3.12", "3.12.5", "bin/python3", None),
    ("go@1.22", "1.22.3", "bin/go", None),  # go finds its root itself (no GOROOT)
    ("rust@stable", "1.78.0", "bin/rustc", None),
    ("ruby@3.3", "3.3.4", "bin/ruby", None),
    ("java@21", "21.0.3+9", "bin/java", "JAVA_HOME"),
]


@pytest.mark.parametrize(("spec", "version", "exe", "var"), CASES)
def test_install_each_provider(settings: Settings, spec: str, version: str, exe: str,
                               var: str | None) -> None:
    [r] = install.install(settings, [spec])
    assert r.created and r.version == version
    assert r.store_path.is_dir() and r.store_path.name.endswith(f"-{r.tool}-{version}")
    out = subprocess.run([str(r.store_path / exe)], capture_output=True, text=True, check=True)
    assert version.split("+")[0] in out.stdout
    if var:
        assert providers.get(r.tool).env(r.store_path)[var] == str(r.store_path)
    # Installing again is free: same path, nothing downloaded.
    [again] = install.install(settings, [spec])
    assert not again.created and again.store_path == r.store_path


def test_rust_components_merged(settings: Settings) -> None:
    [r] = install.install(settings, ["rust@1.77"])
    assert r.version == "1.77.2"
    p = r.store_path
    assert (p / "bin/rustc").is_file() and (p / "bin/cargo").is_file()
    assert (p / "lib/rustlib/x86_64-unknown-linux-gnu/lib/libstd.rlib").is_file()
    assert not (p / "manifest.in").exists() and not (p / "install.sh").exists()
    assert {"rustc", "cargo", "rustdoc"} <= {e.name for e in (p / "bin").iterdir()}


@pytest.mark.parametrize(("spec", "version"), [
    ("node@lts", "20.12.0"), ("node@lts/hydrogen", "18.19.0"), ("node@latest", "22.2.0"),
    ("node@20.10.0", "20.10.0"), ("node@v20.11", "20.11.1"), ("go@latest", "1.22.3"),
    ("go@1.23rc1", "1.23rc1"), ("python@3.11", "3.11.9"), ("python@3.12.0", "3.12.0"),
    ("java@17", "17.0.11+9"), ("java@21.0.2", "21.0.2+13"), ("java@lts", "21.0.3+9"),
    ("ruby@3", "3.3.4"), ("rust@1.77.2", "1.77.2"),
])
def test_resolution(settings: Settings, spec: str, version: str) -> None:
    [r] = install.install(settings, [spec])
    assert r.version == version


def test_several_tools_in_parallel(settings: Settings, mirror: MirrorServer) -> None:
    results = install.install(settings, ["node@18", "go@1.21", "bun@1.1.0"])
    assert [r.version for r in results] == ["18.19.0", "1.21.10", "1.1.0"]
    assert len(install.list_installed(settings)) == 3
    assert [v.version for v in install.list_installed(settings, "go")] == ["1.21.10"]


def test_ensure_installed_returns_record(settings: Settings) -> None:
    rec = install.ensure_installed(settings, "node@20.10")
    assert rec.name == "node" and rec.version == "20.10.0"
    assert rec.origin and rec.origin["url"].endswith("node-v20.10.0-linux-x64.tar.xz")
    assert install.ensure_installed(settings, "node@20.10.0").path == rec.path


def test_list_remote_newest_first(settings: Settings) -> None:
    found = install.list_remote(settings, "node")
    assert [r.version for r in found] == ["22.2.0", "22.1.0", "20.12.0", "20.11.1", "20.10.0",
                                          "18.19.0"]
    assert found[2].lts == "Iron" and found[3].security
    assert [r.version for r in install.list_remote(settings, "java")][:1] == ["21.0.3+9"]
    rust = [r.version for r in install.list_remote(settings, "rust")]
    assert rust[:3] == ["1.78.0", "1.77", "1.76"]


def test_index_cached(settings: Settings, mirror: MirrorServer) -> None:
    install.list_remote(settings, "node")
    n = len(mirror.requests)
    install.list_remote(settings, "node")
    assert len(mirror.requests) == n  # answered from LMDB


def test_security_and_eol_warnings(settings: Settings) -> None:
    [r] = install.install(settings, ["node@20.10.0"])
    assert any("security release above it: 20.11.1" in w for w in r.warnings)
    # From the support data (endoflife.date's nodejs: 20 ended 2026-04-30), no estimate.
    assert any("the node 20 line is end-of-life since 2026-04-30" in w for w in r.warnings)


def test_outdated(settings: Settings) -> None:
    install.install(settings, ["node@20.10.0", "go@1.22.2"])
    rows = {r.tool: r for r in install.outdated(settings)}
    assert rows["node"].latest_patch == "20.12.0" and rows["node"].latest == "22.2.0"
    assert rows["go"].latest_patch == "1.22.3"


def test_download_cache_and_offline(settings: Settings, mirror: MirrorServer,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    [r] = install.install(settings, ["node@20.10.0"])
    cached = list((settings.layout.cache / "downloads").iterdir())
    assert len(cached) == 1 and cached[0].name.startswith(r.record.origin["sha256"])  # type: ignore[index]
    # A fresh store, offline: the index and the artifact both come from the caches.
    from store.fsutil import force_remove

    force_remove(r.store_path)
    settings.layout.record_path(r.record.path).unlink()
    n = len(mirror.requests)
    [again] = install.install(settings, ["node@20.10"], offline=True)
    assert again.created and len(mirror.requests) == n


def test_offline_without_cache_fails(settings: Settings) -> None:
    from store.errors import NetworkError

    with pytest.raises(NetworkError, match="offline"):
        install.install(settings, ["node@20"], offline=True)


def test_resume_after_cut(settings: Settings, mirror: MirrorServer) -> None:
    path = "/dist/v20.10.0/node-v20.10.0-linux-x64.tar.xz"
    mirror.faults[path] = ["cut"]
    [r] = install.install(settings, ["node@20.10.0"])
    assert r.created
    ranges = [rng for p, rng in mirror.requests if p == path]
    assert ranges[0] == "" and ranges[1].startswith("bytes=") and ranges[1] != "bytes=0-"


def test_retry_on_500(settings: Settings, mirror: MirrorServer) -> None:
    mirror.faults["/dist/index.json"] = [500, 503]
    [r] = install.install(settings, ["node@18"])
    assert r.version == "18.19.0"


def test_json_listing_cli(omg_env, mirror_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    proc = omg_env.run("list", "go", "--remote", "--json", extra_env=mirror_env, check=True)
    data = check("list", proc.stdout)
    assert [d["version"] for d in data][:2] == ["1.23rc1", "1.22.3"]
    proc = omg_env.run("install", "go@1.22", "--json", extra_env=mirror_env, check=True)
    [done] = check("install", proc.stdout)
    assert done["created"] and done["store_path"]["path"].startswith(str(omg_env.home))
    proc = omg_env.run("list", "--json", extra_env=mirror_env, check=True)
    assert [d["store_path"] for d in check("list", proc.stdout)] == [done["store_path"]]
    proc = omg_env.run("outdated", extra_env=mirror_env, check=True)
    assert "1.23rc1" not in proc.stdout
