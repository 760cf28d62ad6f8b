"""`omg sbom` as a user runs it: the default profile to stdout, a format to a file, and
bad input (one error line, an exit code, nothing written)."""

from __future__ import annotations

import os

import pytest

from tests.conftest import OmgEnv
from tests.sbom.helpers import valid_cyclonedx, valid_spdx


def _tool(omg_env: OmgEnv) -> str:
    src = omg_env.root / "src" / "tool" / "bin"
    src.mkdir(parents=True)
    (src / "tool").write_text("#!/bin/sh\necho tool\n")
    (src / "tool").chmod(0o755)
    out = omg_env.run("store", "add", str(src.parent), "--name", "tool", "--version", "1.0",
                      check=True).stdout
    omg_env.run("use", "tool@1.0", check=True)
    return os.path.basename(out.strip())


def test_sbom_of_the_default_profile_to_stdout_and_spdx_to_a_file(omg_env: OmgEnv) -> None:
    path = _tool(omg_env)
    doc = valid_cyclonedx(omg_env.run("sbom", check=True).stdout)
    assert [(c["name"], c["version"], c["bom-ref"]) for c in doc["components"]] == \
        [("tool", "1.0", path)]
    assert doc["metadata"]["component"]["name"] == "omg profile default"
    out = omg_env.root / "sbom.spdx.json"
    proc = omg_env.run("sbom", "--format", "spdx", "--output", str(out), check=True)
    assert proc.stdout == ""
    spdx = valid_spdx(out.read_text())
    assert {p["name"] for p in spdx["packages"]} == {"omg profile default", "tool"}
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)


def test_sbom_of_a_project_profile(omg_env: OmgEnv) -> None:
    _tool(omg_env)
    project = omg_env.root / "proj"
    project.mkdir()
    omg_env.run("use", "--local", "tool@1.0", check=True, cwd=project)
    for flag in ("--local", "--project"):
        doc = valid_cyclonedx(omg_env.run("sbom", flag, check=True, cwd=project).stdout)
        assert doc["metadata"]["component"]["name"].startswith("omg profile ")
        assert doc["metadata"]["component"]["name"] != "omg profile default"
        assert [c["name"] for c in doc["components"]] == ["tool"]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--format", "xml"], 2, "error: unknown SBOM format 'xml'"),
    (["--profile", "nosuch"], 3, "error: no profile 'nosuch'"),
    (["--output", "/nonexistent-dir/x.json"], 3, "error: cannot write /nonexistent-dir/x.json"),
])
def test_bad_input_is_one_error_line_and_writes_nothing(omg_env: OmgEnv, args: list[str],
                                                        code: int, message: str) -> None:
    _tool(omg_env)
    proc = omg_env.run("sbom", *args)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines()[0].startswith(message), proc.stderr


def test_a_profile_without_generations_is_not_found(omg_env: OmgEnv) -> None:
    proc = omg_env.run("sbom")
    assert proc.returncode == 3 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["error: profile default has no generations",
                                        "hint: omg use TOOL@VERSION"]
