"""Rust as rustup installs it: profiles, components, targets, renames, dated nightlies,
and every download through the configured mirror.

The mirror serves manifests made from a real channel manifest
(tests/providers/data/channel-rust-stable.toml), whose URLs name
static.rust-lang.org as real ones do; nothing may be fetched from there.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from omg import install
from omg.config import Settings
from omg.providers.rust import parse
from shims.versionfiles import parse_rust_toolchain
from store.errors import NotFound, UsageError
from tests.conftest import OmgEnv
from tests.providers.mirrors import MirrorServer

HOST = "x86_64-unknown-linux-gnu"
DEFAULT = {"bin/rustc", "bin/cargo", f"lib/rustlib/{HOST}/lib/libstd.rlib",
           "share/doc/rust/html/index.html", "bin/rustfmt", "bin/cargo-clippy"}
MINIMAL = {"bin/rustc", "bin/cargo", f"lib/rustlib/{HOST}/lib/libstd.rlib"}


def _has(p: Path, files: set[str]) -> set[str]:
    return {f for f in files if (p / f).is_file()}


def _components(r: install.InstallResult) -> list[str]:
    assert r.record.origin is not None
    return [c["component"] for c in r.record.origin["components"]]


def test_default_profile_through_the_mirror(settings: Settings, mirror: MirrorServer) -> None:
    [r] = install.install(settings, ["rust@stable"])
    assert r.version == "1.78.0" and _has(r.store_path, DEFAULT) == DEFAULT
    assert all(u.startswith(f"{mirror.url}/dist/2024-05-02/") for u in r.urls)
    assert sorted(_components(r)) == ["cargo", "clippy", "rust-docs", "rust-std", "rustc",
                                      "rustfmt"]
    # The manifest names static.rust-lang.org; every file came from the mirror.
    fetched = {p for p, _ in mirror.requests}
    assert {f"/dist/2024-05-02/{u.rsplit('/', 1)[1]}" for u in r.urls} <= fetched


def test_minimal_profile_is_its_own_store_path(settings: Settings) -> None:
    [full] = install.install(settings, ["rust@1.78.0"])
    [mini] = install.install(settings, ["rust@1.78.0+minimal"])
    assert mini.created and mini.version == "1.78.0+minimal"
    assert _has(mini.store_path, DEFAULT) == MINIMAL
    assert mini.store_path != full.store_path
    # Each spec finds its own path again, without the network.
    [again] = install.install(settings, ["rust@1.78.0"], offline=True)
    assert again.store_path == full.store_path and not again.created
    [again] = install.install(settings, ["rust@1.78.0+minimal"], offline=True)
    assert again.store_path == mini.store_path


def test_components_and_targets_merge_into_one_tree(settings: Settings) -> None:
    [r] = install.install(settings, ["rust@1.78+rust-src+wasm32-unknown-unknown"])
    assert r.version == "1.78.0+rust-src+wasm32-unknown-unknown"
    p = r.store_path
    assert (p / "lib/rustlib/src/rust/library/core/src/lib.rs").is_file()
    assert (p / "lib/rustlib/wasm32-unknown-unknown/lib/libstd.rlib").is_file()
    assert (p / f"lib/rustlib/{HOST}/lib/libstd.rlib").is_file()
    assert "rust-std-wasm32-unknown-unknown" in _components(r) and "rust-src" in _components(r)
    # The claim (who installed what, from where) names the components too.
    from store import claims

    [claim] = claims.read(settings.layout, r.store_path.name)
    named = sorted(a.get("component", "") for a in claim["detail"]["artifacts"])
    assert named == sorted(_components(r)) and "rust-src" in named


def test_renames_both_ways(settings: Settings) -> None:
    """`rustfmt` is package `rustfmt-preview`; either name gives one label and one path."""
    [a] = install.install(settings, ["rust@1.78.0+minimal+rustfmt"])
    assert a.version == "1.78.0+minimal+rustfmt" and (a.store_path / "bin/rustfmt").is_file()
    assert "rustfmt" in _components(a) and not (a.store_path / "bin/cargo-clippy").exists()
    [b] = install.install(settings, ["rust@1.78.0+minimal+rustfmt-preview"])
    assert b.version == a.version and b.store_path == a.store_path and not b.created


def test_a_profile_component_named_again_changes_nothing(settings: Settings) -> None:
    [a] = install.install(settings, ["rust@1.78.0"])
    [b] = install.install(settings, ["rust@1.78.0+clippy+default+x86_64-unknown-linux-gnu"])
    assert b.version == "1.78.0" and b.store_path == a.store_path and not b.created


def test_dated_nightly_skips_what_it_lacks(settings: Settings, mirror: MirrorServer) -> None:
    [r] = install.install(settings, ["rust@nightly-2024-05-03"])
    assert r.version == "1.80.0-nightly-2024-05-03"
    assert ("/dist/2024-05-03/channel-rust-nightly.toml", "") in mirror.requests
    assert not (r.store_path / "bin/cargo-clippy").exists()
    assert (r.store_path / "bin/rustfmt").is_file()
    text = "\n".join(r.warnings)
    assert "clippy is not available" in text and "rust-docs is not available" in text
    # A dated nightly is exact: found in the store with no request.
    n = len(mirror.requests)
    [again] = install.install(settings, ["rust@nightly-2024-05-03"])
    assert again.store_path == r.store_path and len(mirror.requests) == n
    [label] = install.install(settings, ["rust@1.80.0-nightly-2024-05-03"])
    assert label.store_path == r.store_path


def test_a_named_component_it_lacks_is_an_error(settings: Settings) -> None:
    with pytest.raises(NotFound, match="clippy is not available") as nightly:
        install.install(settings, ["rust@nightly-2024-05-03+clippy"])
    assert nightly.value.hint and "try another date" in nightly.value.hint
    # A release is not a nightly: no advice to try another date of it.
    with pytest.raises(NotFound, match="rust-docs-json is not available") as release:
        install.install(settings, ["rust@1.78.0+rust-docs-json"])
    assert release.value.hint and "date" not in release.value.hint
    with pytest.raises(NotFound, match="neither a component nor a target"):
        install.install(settings, ["rust@1.78.0+riscv64gc-unknown-none-elf"])
    with pytest.raises(NotFound, match="'nosuchthing' is neither"):
        install.install(settings, ["rust@1.78.0+nosuchthing"])
    assert install.list_installed(settings, "rust") == []


@pytest.mark.parametrize(("spec", "version"), [
    ("rust@nightly", "1.80.0-nightly-2024-05-04"),
    ("rust@beta", "1.79.0-beta.3"),
    ("rust@stable", "1.78.0"),
    ("rust@latest", "1.78.0"),
    ("rust@1.77", "1.77.2"),
    ("rust@stable-2024-04-09", "1.77.2"),
])
def test_channel_versions(settings: Settings, spec: str, version: str) -> None:
    release, _ = install._providers.get("rust").lookup(install.Session(settings).ctx,
                                                       spec.split("@")[1])
    assert release.version == version


def test_nightly_manifest_without_date_gets_the_manifests_date(settings: Settings) -> None:
    [r] = install.install(settings, ["rust@nightly+minimal"])
    assert r.version == "1.80.0-nightly-2024-05-04+minimal"


@pytest.mark.parametrize(("spec", "error"), [
    ("nightly-24-05-04", UsageError), ("1.78.0+minimal+default", UsageError),
    ("stable+Bad!", UsageError), ("unstable", UsageError),
])
def test_bad_specs(spec: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse(spec)


def test_bad_spec_from_the_cli(omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    proc = omg_env.run("install", "rust@unstable", extra_env=mirror_env)
    assert proc.returncode == 2 and proc.stderr.startswith("error: rust@unstable")


def test_rust_toolchain_toml_components_and_targets(omg_env: OmgEnv,
                                                    mirror_env: dict[str, str],
                                                    tmp_path: Path) -> None:
    text = ('[toolchain]\nchannel = "1.78.0"\nprofile = "minimal"\n'
            'components = ["rust-src", "rustfmt", "cargo"]\n'
            'targets = ["wasm32-unknown-unknown"]\n')
    assert parse_rust_toolchain(text) == "1.78.0+minimal+rust-src+rustfmt+wasm32-unknown-unknown"
    assert parse_rust_toolchain('[toolchain]\nchannel = "nightly-2024-05-03"\n'
                                'components = ["clippy", "rust-src"]\n') == \
        "nightly-2024-05-03+rust-src"
    project = tmp_path / "proj"
    project.mkdir()
    (project / "rust-toolchain.toml").write_text(text)
    omg_env.run("use", extra_env=mirror_env, cwd=project, check=True)
    cur = json.loads(omg_env.run("current", "--json", extra_env=mirror_env,
                                 check=True).stdout)
    [rust] = [t for t in cur["tools"] if t["tool"] == "rust"]
    assert rust["version"] == "1.78.0+minimal+rust-src+rustfmt+wasm32-unknown-unknown"
    store_path = omg_env.layout.store_path(rust["store_path"]["name"])
    assert (store_path / "lib/rustlib/wasm32-unknown-unknown/lib/libstd.rlib").is_file()
    assert (store_path / "bin/rustfmt").is_file()
    assert not (store_path / "bin/cargo-clippy").exists()


def test_offline_install_reads_the_cached_manifest(settings: Settings) -> None:
    install.list_remote(settings, "rust")  # caches channel-rust-stable.toml
    install.install(settings, ["rust@1.78.0+minimal"])  # caches 1.78.0 and the downloads
    from store.fsutil import force_remove

    for v in install.list_installed(settings, "rust"):
        force_remove(v.store_path)
    for rec in settings.layout.store.glob("*.meta"):
        rec.unlink()
    [r] = install.install(settings, ["rust@1.78.0+minimal"], offline=True)
    assert r.created and r.version == "1.78.0+minimal"


def test_manifest_of_an_unknown_format_is_refused(settings: Settings,
                                                  mirror: MirrorServer) -> None:
    from store.errors import IntegrityError

    path = mirror.root / "dist/channel-rust-beta.toml"
    path.write_text(path.read_text().replace('manifest-version = "2"', 'manifest-version = "3"'))
    with pytest.raises(IntegrityError, match="manifest-version"):
        install.install(settings, ["rust@beta"])
    assert tomllib.loads(path.read_text())["manifest-version"] == "3"


def test_a_variant_in_the_store_is_not_another_spec(omg_env: OmgEnv,
                                                    mirror_env: dict[str, str]) -> None:
    """`rust@1.78` (the default profile) is not the installed `1.78.0+minimal`."""
    from omg.spec import select

    assert select("1.78", ["1.78.0+minimal"]) is None
    assert select("1.78+minimal", ["1.78.0", "1.78.0+minimal"]) == "1.78.0+minimal"
    assert select("latest", ["1.78.0+minimal", "1.77.2"]) == "1.77.2"
    assert select("21", ["21.0.3+9"]) == "21.0.3+9"  # a build number is no variant
    omg_env.run("install", "rust@1.78.0+minimal", extra_env=mirror_env, check=True)
    for spec, version in (("rust@1.78", "1.78.0"), ("rust@1.78+minimal", "1.78.0+minimal")):
        omg_env.run("use", spec, extra_env=mirror_env, check=True)
        cur = json.loads(omg_env.run("current", "--json", check=True).stdout)
        assert [t["version"] for t in cur["tools"] if t["tool"] == "rust"] == [version]
