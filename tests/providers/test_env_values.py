"""Per-tool environment: recorded at install, carried by `omg use` into the profile env's
manifest and env files, exported by the shell integration (bash, zsh, fish)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generations.env import PREFIX, STORE_PATH
from omg.providers import TOOLS, get
from shims.init import Prefixes
from tests.conftest import OmgEnv


def _current(omg_env: OmgEnv, *args: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(omg_env.run("current", "--json", *args, check=True).stdout)
    return out


def _manifest(omg_env: OmgEnv, env: dict[str, str]) -> dict[str, Any]:
    """The manifest of `env`, a store path as --json prints it."""
    data: dict[str, Any] = json.loads((Path(env["path"]) / "manifest.json")
                                      .read_text())
    return data


def _shell(omg_env: OmgEnv, shell: str, script: str, cwd: Path | None = None
           ) -> subprocess.CompletedProcess[str]:
    """`script` in a real interactive `shell` whose rc file holds the `omg init` lines."""
    rc = omg_env.root / f"rc.{shell}"
    rc.write_text(omg_env.run("init", shell, check=True).stdout)
    env = {**omg_env.env, "PATH": "/usr/bin:/bin"}
    if shell == "bash":
        cmd = ["bash", "--rcfile", str(rc), "-i", "-c", script]
    elif shell == "zsh":
        cmd = ["zsh", "-f", "-c", f". {rc}; {script}"]
    else:
        cmd = ["fish", "--no-config", "-c", f"source {rc}; {script}"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60,
                          cwd=cwd or omg_env.root)


def test_install_records_the_env_with_placeholders(omg_env: OmgEnv,
                                                   mirror_env: dict[str, str]) -> None:
    omg_env.run("install", "java@21", "node@20", extra_env=mirror_env, check=True)
    store = omg_env.store()
    try:
        [java] = store.find("java")
        [node] = store.find("node")
    finally:
        store.close()
    assert (java.origin or {})["env"] == {"JAVA_HOME": STORE_PATH}
    # The prefix stays a placeholder; the node major (its native addon ABI) is filled in.
    assert (node.origin or {})["env"] == {"NPM_CONFIG_PREFIX": f"{PREFIX}/npm/20"}
    # ...and in the record file beside the store path, which outlives the index
    meta = json.loads(omg_env.layout.record_path(java.path).read_text())
    assert meta["origin"]["env"] == {"JAVA_HOME": STORE_PATH}


def test_use_puts_java_home_in_the_manifest_and_bash_exports_it(
        omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    omg_env.run("install", "java@21", extra_env=mirror_env, check=True)
    omg_env.run("use", "java@21", check=True)  # installed: the store answers, no provider
    cur = _current(omg_env)
    manifest = _manifest(omg_env, cur["env"])
    assert manifest["env"] == {"JAVA_HOME": "@profile@/tools/java"}
    [tool] = manifest["tools"]
    assert tool["env"] == {"JAVA_HOME": STORE_PATH}
    java_path = omg_env.layout.store_path(tool["store_path"])
    env_root = omg_env.layout.store_path(cur["env"]["name"])
    assert (env_root / "tools" / "java").resolve() == java_path.resolve()

    profile = Path(cur["bin"]).parent
    proc = _shell(omg_env, "bash", 'echo "$JAVA_HOME"; "$JAVA_HOME/bin/java"')
    lines = proc.stdout.splitlines()
    assert lines[0] == f"{profile}/tools/java", proc.stderr
    assert "21.0.3" in lines[1]
    assert Path(lines[0]).resolve() == java_path.resolve()


def test_java_home_follows_a_switch_and_rollback(omg_env: OmgEnv,
                                                 mirror_env: dict[str, str]) -> None:
    """JAVA_HOME names the profile's stable link: a shell started earlier sees a switch."""
    omg_env.run("use", "java@21", extra_env=mirror_env, check=True)
    home = _shell(omg_env, "bash", 'echo "$JAVA_HOME"').stdout.strip()
    omg_env.run("use", "java@17", extra_env=mirror_env, check=True)
    assert "17.0.11" in subprocess.run([f"{home}/bin/java"], capture_output=True, text=True,
                                       check=True).stdout
    omg_env.run("rollback", check=True)
    assert "21.0.3" in subprocess.run([f"{home}/bin/java"], capture_output=True, text=True,
                                      check=True).stdout


def test_install_then_use_and_use_with_install_give_one_env(
        omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    omg_env.run("use", "java@21", "node@20", "--profile", "fresh", extra_env=mirror_env,
                check=True)
    omg_env.run("use", "java@21", "node@20", "--profile", "later", check=True)
    envs = [_current(omg_env, "--profile", p)["env"] for p in ("fresh", "later")]
    assert envs[0] == envs[1]
    assert _manifest(omg_env, envs[0])["env"] == {
        "JAVA_HOME": "@profile@/tools/java", "NPM_CONFIG_PREFIX": "@prefix@/npm/20"}


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_export_the_profile_env(omg_env: OmgEnv, mirror_env: dict[str, str],
                                             shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    omg_env.run("use", "java@21", "node@20", extra_env=mirror_env, check=True)
    profile = Path(_current(omg_env)["bin"]).parent
    proc = _shell(omg_env, shell, 'echo "$JAVA_HOME"; echo "$NPM_CONFIG_PREFIX"')
    assert proc.stdout.splitlines() == [
        f"{profile}/tools/java", str(omg_env.root / "data" / "omg" / "prefix" / "npm" / "20")], \
        proc.stderr


def test_project_profile_env_on_top_and_dropped_on_leaving(
        omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    omg_env.run("use", "node@20", extra_env=mirror_env, check=True)
    proj = omg_env.root / "work" / "app"
    proj.mkdir(parents=True)
    omg_env.run("use", "--local", "java@17", cwd=proj, extra_env=mirror_env, check=True)
    script = f"""
echo "in:${{JAVA_HOME:-none}}"
cd {omg_env.root}; eval "$PROMPT_COMMAND"; echo "out:${{JAVA_HOME:-none}}"
cd {proj}; eval "$PROMPT_COMMAND"; "$JAVA_HOME/bin/java"
"""
    proc = _shell(omg_env, "bash", script, cwd=proj)
    lines = proc.stdout.splitlines()
    mangled = str(proj).replace("/", "%")
    assert lines[0].startswith("in:") and lines[0].endswith(f"/projects/{mangled}/tools/java"), \
        proc.stderr
    assert lines[1] == "out:none"
    assert "17.0.11" in lines[2]


def test_provider_prefixes_match_the_shell_integration() -> None:
    """A variable both the init lines and a tool set names one prefix; a per-ABI one is a
    directory of the default (which serves tools omg did not install), and its bin dir
    follows the variable (`MOVING`) instead of sitting on PATH for good."""
    from omg.providers.base import MAJOR, MINOR
    from shims.init import MOVING

    base = Path("/p")
    init = dict(Prefixes(base).env())
    for tool in TOOLS:
        for name, value in get(tool).env_vars.items():
            if PREFIX not in value:
                continue
            shared, _, abi = value.replace(PREFIX, str(base)).partition(f"/{MAJOR}")
            assert init[name] == shared, (tool, name)
            assert (name in MOVING) == bool(abi or value.endswith(MAJOR)), (tool, name)
            assert str(base / name) not in Prefixes(base).bins()
            assert MINOR not in shared


@pytest.mark.parametrize(("tool", "version", "want"), [
    ("node", "22.2.0", {"NPM_CONFIG_PREFIX": f"{PREFIX}/npm/22"}),
    ("node", "20.12.0", {"NPM_CONFIG_PREFIX": f"{PREFIX}/npm/20"}),
    ("ruby", "3.3.4", {"GEM_HOME": f"{PREFIX}/gem/3.3.0"}),  # gem's own ABI dir: x.y.0
    ("ruby", "3.4.0-preview1", {"GEM_HOME": f"{PREFIX}/gem/3.4.0"}),
    ("python", "3.12.4", {"PYTHONUSERBASE": f"{PREFIX}/python"}),  # site-packages: per x.y
    ("go", "1.22.3", {"GOPATH": f"{PREFIX}/go", "GOBIN": f"{PREFIX}/go/bin"}),
    ("rust", "1.78.0", {"CARGO_HOME": f"{PREFIX}/cargo"}),
])
def test_recorded_prefixes_are_per_abi_where_native_code_lives(
        tool: str, version: str, want: dict[str, str]) -> None:
    assert get(tool).recorded_env(version) == want


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_npm_prefix_follows_a_switch_of_node_major_in_a_running_shell(
        omg_env: OmgEnv, mirror_env: dict[str, str], shell: str) -> None:
    """`omg use node@22` in a shell moves NPM_CONFIG_PREFIX and its bin on PATH from the
    node 20 prefix to node 22's at once (the init lines reload the env after a switch):
    a global addon built for one ABI is never loaded by another node."""
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    omg_env.run("install", "node@20", "node@22", extra_env=mirror_env, check=True)
    omg_env.run("use", "node@20", check=True)
    prefix = omg_env.root / "data" / "omg" / "prefix" / "npm"
    show = ('echo "$NPM_CONFIG_PREFIX"; echo "$PATH"' if shell != "fish"
            else 'echo "$NPM_CONFIG_PREFIX"; string join : $PATH')
    # The omg command itself, on PATH after what the init lines put there.
    omg = Path(sys.executable).parent
    put = f"set -gx PATH $PATH {omg}" if shell == "fish" else f'PATH="$PATH:{omg}"'
    proc = _shell(omg_env, shell, f"{put}; {show}; omg use node@22 >/dev/null; {show}; "
                                  f"omg rollback >/dev/null; {show}")
    lines = proc.stdout.splitlines()
    assert len(lines) == 6, proc.stderr
    for (var, path), major in zip([lines[0:2], lines[2:4], lines[4:6]], ("20", "22", "20"),
                                  strict=True):
        other = "22" if major == "20" else "20"
        dirs = path.split(":")
        assert var == str(prefix / major), (shell, proc.stderr)
        assert str(prefix / major / "bin") in dirs and str(prefix / other / "bin") not in dirs
        # Right after the global profile's bin: the profile's own npm stays first.
        assert dirs[dirs.index(str(prefix / major / "bin")) - 1].endswith("/default/bin")


def test_env_file_values_are_quoted(tmp_path: Path) -> None:
    """A value with shell syntax in it arrives verbatim, expanding nothing."""
    from generations.env import env_scripts

    value = 'a "b" $HOME `id` \\ c'
    files = env_scripts({"ODD": value, "HOMEY": "@profile@/tools/x"})
    (tmp_path / "env.sh").write_bytes(files["env.sh"])
    script = '__omg_env=/P; . ./env.sh; printf "%s\\n" "$ODD" "$HOMEY" "$__omg_vars"'
    out = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ}, check=True).stdout
    assert out.splitlines() == [value, "/P/tools/x", "HOMEY"]
    if shutil.which("fish"):
        (tmp_path / "env.fish").write_bytes(files["env.fish"])
        fish = subprocess.run(["fish", "--no-config", "-c", "set __omg_env /P; source env.fish;"
                               ' printf "%s\\n" "$ODD" "$HOMEY" $__omg_vars'], cwd=tmp_path,
                              capture_output=True, text=True, check=True).stdout
        assert fish.splitlines() == [value, "/P/tools/x", "HOMEY"]


def test_provider_placeholders_are_the_planners() -> None:
    """Providers spell the placeholders out (no planner import on `list --remote`)."""
    from omg.providers import base

    assert (base.STORE_PATH, base.PREFIX) == (STORE_PATH, PREFIX)


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_project_env_switches_in_zsh_and_fish(omg_env: OmgEnv, mirror_env: dict[str, str],
                                              shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    omg_env.run("use", "java@21", extra_env=mirror_env, check=True)
    proj = omg_env.root / "work" / "app"
    proj.mkdir(parents=True)
    omg_env.run("use", "--local", "java@17", cwd=proj, extra_env=mirror_env, check=True)
    rc = omg_env.root / f"rc.{shell}"
    rc.write_text(omg_env.run("init", shell, check=True).stdout)
    show = '"$JAVA_HOME/bin/java"'
    script = f"source {rc}; {show}; cd {proj}; {show}; cd {omg_env.root}; {show}"
    proc = subprocess.run([shell, "-c", script], env={**omg_env.env, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, cwd=omg_env.root, timeout=60)
    versions = [line.split()[-1] for line in proc.stdout.splitlines()]
    assert len(versions) == 3 and "21.0.3" in versions[0] and "17.0.11" in versions[1] \
        and "21.0.3" in versions[2], (proc.stdout, proc.stderr)
