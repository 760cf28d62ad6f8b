"""`omg import nvm|pyenv|asdf|mise|rustup`: each manager's own layout, read and added to
the store, then used through a profile; a real Node as nvm installs it."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
from pathlib import Path

import pytest

from omg import imports
from tests.conftest import OmgEnv

#: A real rustup toolchain's manifest names its version so (rust-lang channel format).
RUST_MANIFEST = '''manifest-version = "2"
date = "2023-12-28"
[pkg.rust]
version = "1.75.0 (82e1608df 2023-12-21)"
[pkg.rust.target.x86_64-unknown-linux-gnu]
available = true
'''


def exe(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {text or path.name}\n")
    path.chmod(0o755)


def homes(root: Path) -> dict[str, str]:
    """A home with each manager's data where that manager keeps it by default."""
    home = root / "home"
    nvm = home / ".nvm" / "versions" / "node"
    exe(nvm / "v20.10.0" / "bin" / "node", "node-20.10.0")
    exe(nvm / "v18.19.0" / "bin" / "node", "node-18.19.0")
    (nvm / "v21.0.0").mkdir(parents=True)  # a failed install: no bin/node
    pyenv = home / ".pyenv" / "versions"
    exe(pyenv / "3.12.1" / "bin" / "python3", "python-3.12.1")
    exe(pyenv / "venv1" / "bin" / "python3")  # a virtualenv, not an interpreter
    (pyenv / "venv1" / "pyvenv.cfg").write_text("home = /x\n")
    asdf = home / ".asdf" / "installs"
    exe(asdf / "golang" / "1.21.5" / "go" / "bin" / "go", "go-1.21.5")
    exe(asdf / "java" / "temurin-21.0.1+12" / "bin" / "java", "java-21")
    exe(asdf / "neovim" / "0.9.5" / "bin" / "nvim")  # not a tool omg manages
    mise = home / ".local" / "share" / "mise" / "installs"
    exe(mise / "node" / "22.11.0" / "bin" / "node", "node-22.11.0")
    (mise / "node" / "22").symlink_to("22.11.0")  # an alias
    exe(mise / "bun" / "1.1.38" / "bin" / "bun", "bun-1.1.38")
    rust = home / ".rustup" / "toolchains" / "1.75.0-x86_64-unknown-linux-gnu"
    exe(rust / "bin" / "rustc", "rustc-1.75.0")
    exe(rust / "bin" / "cargo", "cargo-1.75.0")
    (rust / "lib" / "rustlib").mkdir(parents=True)
    (rust / "lib" / "rustlib" / "multirust-channel-manifest.toml").write_text(RUST_MANIFEST)
    return {"HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share")}


def profile_bin(env: OmgEnv) -> Path:
    return env.home / "profiles" / pwd.getpwuid(os.getuid()).pw_name / "default" / "bin"


def test_discover_reads_each_layout(tmp_path: Path) -> None:
    env = homes(tmp_path)

    def found(source: str) -> list[tuple[str, str]]:
        return [(f.tool, f.version) for f in imports.discover(source, env)]

    assert found("nvm") == [("node", "18.19.0"), ("node", "20.10.0")]
    assert found("pyenv") == [("python", "3.12.1")]
    assert found("asdf") == [("go", "1.21.5"), ("java", "21.0.1+12")]
    assert found("mise") == [("bun", "1.1.38"), ("node", "22.11.0")]
    assert found("rustup") == [("rust", "1.75.0")]
    [go] = imports.discover("asdf", env)[:1]
    assert go.path.endswith("/golang/1.21.5/go")  # the GOROOT, as omg's go store path is
    assert imports.discover("nvm", {**env, "NVM_DIR": str(tmp_path / "none")}) == []


def test_import_then_use_through_the_profile(omg_env: OmgEnv) -> None:
    extra = homes(omg_env.root)
    out = omg_env.run("import", "nvm", extra_env=extra, check=True).stdout.splitlines()
    assert out[0].startswith("imported node 18.19.0 from nvm (")
    assert out[1].startswith("imported node 20.10.0 from nvm (")
    again = omg_env.run("import", "nvm", "node@20", extra_env=extra, check=True).stdout
    assert again.startswith("already in the store: node 20.10.0")
    # Kept as installed: a gc before any `use` frees nothing, until `omg uninstall`.
    assert omg_env.run("gc", check=True).stdout.startswith("0 store paths deleted")
    omg_env.run("uninstall", "node@18", check=True)
    assert "-node-18.19.0" in omg_env.run("gc", check=True).stdout
    omg_env.run("use", "node@20", check=True)
    user_bin = profile_bin(omg_env) / "node"
    assert subprocess.run([user_bin], capture_output=True, text=True).stdout == \
        "node-20.10.0\n"
    # The environment a provider install records (npm's writable prefix) comes too.
    current = json.loads(omg_env.run("current", "--json", check=True).stdout)
    prefix = f"{omg_env.env['XDG_DATA_HOME']}/omg/prefix"  # filled in for this user
    assert current["tools"][0]["env"] == {"NPM_CONFIG_PREFIX": f"{prefix}/npm/20"}  # per major
    data = json.loads(omg_env.run("import", "rustup", "--json", extra_env=extra,
                                  check=True).stdout)
    assert data[0]["tool"] == "rust" and data[0]["version"] == "1.75.0" and data[0]["created"]
    dry = omg_env.run("import", "mise", "--dry-run", extra_env=extra, check=True).stdout
    assert dry.splitlines() == [
        f"would import bun 1.1.38 from mise ({extra['XDG_DATA_HOME']}/mise/installs/bun/1.1.38)",
        f"would import node 22.11.0 from mise ({extra['XDG_DATA_HOME']}/mise/installs/node"
        "/22.11.0)"]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["import", "brew"], 2, "unknown source 'brew'"),
    (["import", "nvm", "nod@20"], 3, "unknown tool 'nod'"),
    (["import", "pyenv", "python@2"], 3, "nothing to import from"),
])
def test_bad_input(omg_env: OmgEnv, args: list[str], code: int, message: str) -> None:
    proc = omg_env.run(*args, extra_env=homes(omg_env.root))
    assert proc.returncode == code and message in proc.stderr, proc.stderr
    assert not (omg_env.home / "store").exists() or not [
        p for p in (omg_env.home / "store").iterdir() if not p.name.startswith(".")]


@pytest.mark.slow
def test_a_real_node_installed_by_nvm(omg_env: OmgEnv) -> None:
    from tests.support.realbin import node_tree

    home = omg_env.root / "home"
    tree = home / ".nvm" / "versions" / "node" / "v20.10.0"
    node_tree("20.10.0", tree)
    extra = {"HOME": str(home)}
    omg_env.run("import", "nvm", extra_env=extra, check=True)
    omg_env.run("use", "node@20.10.0", check=True)
    path = f"{profile_bin(omg_env)}:/usr/bin:/bin"
    out = subprocess.run(["sh", "-c", "node --version && npm --version"],
                         env={"PATH": path, "HOME": str(home)}, capture_output=True,
                         text=True)
    assert out.stdout.splitlines()[0] == "v20.10.0", out.stderr
    assert out.returncode == 0
    assert omg_env.run("store", "verify", check=True).returncode == 0
