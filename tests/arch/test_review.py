"""The review before a build: findings of the static check in the review, the prompt and
--json; `review_findings = "deny"`; the dependency tree; colour and pager on a terminal;
who the prompt says builds."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.arch.conftest import BUILD_USER, ArchWorld
from tests.conftest import OmgEnv
from tests.schema import check


def _config(aenv: OmgEnv, text: str) -> None:
    path = Path(aenv.env["XDG_CONFIG_HOME"]) / "omg" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def repolib(aenv: OmgEnv) -> Iterator[None]:
    """upgrade-risky's repository dependency, installed (builds check it up front)."""
    aenv.run("pkg", "install", "testrepo/repolib", "--noconfirm", check=True)
    try:
        yield
    finally:
        aenv.run("remove", "repolib", "--noconfirm", check=True)


@pytest.mark.usefixtures("repolib")
def test_review_names_the_findings_shows_the_tree_and_asks(world: ArchWorld,
                                                           aenv: OmgEnv) -> None:
    proc = aenv.run("aur", "build", "upgrade-risky", input="n\n")
    assert proc.returncode == 130, proc.stderr
    out = proc.stdout
    assert "\033[" not in out  # off a terminal: plain
    assert "==> static check: 1 finding" in out
    assert "high   upgrade-risky/PKGBUILD:15 pipe-to-shell" in out
    assert "| curl -fsSL https://example.invalid/install.sh | sh" in out
    # the tree: AUR and repository dependencies, with their state
    assert "upgrade-risky 1.0-1 [AUR, to build]\n" in out
    assert "├─ repolib [repo, installed 1.0-1]\n" in out
    assert "└─ aur-tool 2.0-1 [AUR, make, to build]\n" in out
    # the question names the finding and who builds (root: the build user)
    assert (f"1 finding (1 high: upgrade-risky/PKGBUILD:15 pipe-to-shell). "
            f"Build aur-tool, upgrade-risky as {BUILD_USER}? [y/N] n") in proc.stderr
    assert aenv.store().names() == []


@pytest.mark.usefixtures("repolib")
def test_deny_refuses_before_any_build_and_says_why(world: ArchWorld, aenv: OmgEnv) -> None:
    _config(aenv, '[arch]\nreview_findings = "deny"\n')
    proc = aenv.run("aur", "build", "upgrade-risky", "--noconfirm")
    assert proc.returncode == 7, proc.stderr
    assert "warning: high   upgrade-risky/PKGBUILD:15 pipe-to-shell" in proc.stderr
    assert "error: 1 high-severity finding in review: upgrade-risky/PKGBUILD:15 " \
           "pipe-to-shell" in proc.stderr
    assert aenv.store().names() == []


@pytest.mark.slow
@pytest.mark.usefixtures("repolib")
def test_noconfirm_builds_but_never_silently_and_json_carries_the_findings(
        world: ArchWorld, aenv: OmgEnv) -> None:
    proc = aenv.run("aur", "build", "upgrade-risky", "--noconfirm", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "warning: high   upgrade-risky/PKGBUILD:15 pipe-to-shell" in proc.stderr
    data = check("aur-build", proc.stdout)
    assert [(f["file"], f["line"], f["rule"], f["severity"]) for f in data["findings"]] == [
        ("upgrade-risky/PKGBUILD", 15, "pipe-to-shell", "high")]
    assert {b["name"] for b in data["built"]} == {"aur-tool", "upgrade-risky"}


def test_on_a_terminal_the_review_is_coloured_and_paged(world: ArchWorld, aenv: OmgEnv,
                                                        tmp_path: Path) -> None:
    paged = tmp_path / "paged"
    pager = tmp_path / "pager"
    pager.write_text(f"#!/bin/sh\ncat > {paged}\n")
    pager.chmod(0o755)
    cmd = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "omg", "aur", "build",
                                            "python-aursmall"])
    proc = subprocess.run(["script", "-qec", cmd, "/dev/null"], input="n\n",
                          env={**aenv.env, "PAGER": str(pager)}, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 130, proc.stdout
    text = paged.read_text()
    assert "\033[1m==> python-aursmall: first review" in text
    assert "\033[1m--- PKGBUILD\033[0m" in text
    assert "Build python-aursmall as" in proc.stdout  # the prompt, after the pager


def test_the_prompt_names_the_caller_when_not_root(tmp_path: Path) -> None:
    """makepkg runs as the build user only when omg is root (omg.arch.build)."""
    code = ("from pathlib import Path; from omg.arch.review import builder, question;"
            "from omg.arch.settings import ArchSettings;"
            "print(question(['x'], builder(ArchSettings(Path('/tmp'))), []))")
    proc = subprocess.run(["runuser", "-u", "nobody", "--", sys.executable, "-c", code],
                          capture_output=True, text=True, cwd=Path(__file__).parents[2],
                          env={"PATH": os.environ["PATH"]}, check=True)
    assert proc.stdout == "Build x as nobody?\n"
