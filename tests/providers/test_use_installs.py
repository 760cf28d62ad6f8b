"""`omg use` installs what the store lacks; `omg use` alone reads the version files;
`omg uninstall` drops a tool with a new generation and `omg gc` frees it."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import OmgEnv


def _node(omg_env: OmgEnv) -> str:
    current = json.loads(omg_env.run("current", "--json", check=True).stdout)
    return subprocess.run([f"{current['bin']}/node"], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_use_installs_missing_versions_from_the_mirror(omg_env: OmgEnv,
                                                       mirror_env: dict[str, str]) -> None:
    assert omg_env.store().names() == []
    proc = omg_env.run("use", "node@lts/iron", extra_env=mirror_env, check=True)
    assert "20.12.0" in proc.stdout
    assert _node(omg_env) == "v20.12.0"
    assert [r.version for r in omg_env.store().find("node")] == ["20.12.0"]
    omg_env.run("use", "node@22", extra_env=mirror_env, check=True)
    assert _node(omg_env) == "v22.2.0"


def test_use_without_arguments_reads_the_version_files(omg_env: OmgEnv, mirror_env: dict[str, str]
                                                       ) -> None:
    project = omg_env.root / "project"
    (project / "src").mkdir(parents=True)
    (project / ".nvmrc").write_text("v18\n")
    omg_env.run("use", cwd=project / "src", extra_env=mirror_env, check=True)
    assert _node(omg_env) == "v18.19.0"
    bare = omg_env.root / "bare"
    bare.mkdir()
    proc = omg_env.run("use", cwd=bare, extra_env=mirror_env)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: nothing to use")


def test_uninstall_then_gc_frees_the_version(omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    omg_env.run("use", "node@20.10.0", extra_env=mirror_env, check=True)
    node = omg_env.store().find("node")[0].path
    wrong = omg_env.run("uninstall", "node@22", extra_env=mirror_env)
    assert wrong.returncode == 3
    assert "node@20.10.0" in wrong.stderr
    proc = omg_env.run("uninstall", "node", check=True)
    assert "generation 2" in proc.stdout and "node@20.10.0" in proc.stdout
    current = json.loads(omg_env.run("current", "--json", check=True).stdout)
    assert current["tools"] == [] or current["tools"] == {}
    # Generation 1 still holds node: gc keeps it until that generation goes.
    omg_env.run("gc", check=True)
    assert omg_env.layout.store_path(node).is_dir()
    omg_env.run("generations", "delete", "1", check=True)
    omg_env.run("gc", check=True)
    assert not omg_env.layout.store_path(node).exists()


def test_use_of_a_version_upstream_lacks_changes_nothing(omg_env: OmgEnv,
                                                         mirror_env: dict[str, str]) -> None:
    omg_env.run("use", "node@20.10.0", extra_env=mirror_env, check=True)
    names = omg_env.store().names()
    proc = omg_env.run("use", "node@19", extra_env=mirror_env)
    assert proc.returncode == 3
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert omg_env.store().names() == names
    assert _node(omg_env) == "v20.10.0"


def test_fresh_install_and_later_use_build_the_same_env(omg_env: OmgEnv,
                                                        mirror_env: dict[str, str]) -> None:
    """Same tools, same env store path, whether `use` installed them or found them."""
    omg_env.run("use", "node@20.10.0", "--profile", "first", extra_env=mirror_env, check=True)
    omg_env.run("use", "node@20.10.0", "--profile", "second", extra_env=mirror_env, check=True)
    envs = [json.loads(omg_env.run("current", "--profile", p, "--json", check=True).stdout)
            ["env"] for p in ("first", "second")]
    assert envs[0] == envs[1]
