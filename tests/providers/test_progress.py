"""Progress on every long step of an install: download, verify (a cached artifact is
hashed again), unpack/hash/ingest; and nothing but the result off a terminal."""

from __future__ import annotations

from omg import install
from omg.config import Settings
from store.local import LocalStore
from tests.conftest import OmgEnv


def test_install_reports_download_then_unpack_and_verify_when_cached(
        settings: Settings) -> None:
    seen: list[tuple[str, int, int | None]] = []
    [result] = install.install(settings, ["node@20"], progress=lambda *a: seen.append(a))
    labels = list(dict.fromkeys(label for label, _, _ in seen))
    version = result.record.version
    assert labels == [f"node {version}", f"unpack node {version}"]
    download = [(d, t) for label, d, t in seen if label == f"node {version}"]
    assert download[-1][0] == download[-1][1]  # complete, with its total
    unpacked = [d for label, d, _ in seen if label.startswith("unpack")]
    assert unpacked == sorted(unpacked) and unpacked[-1] > 0  # growing bytes
    # The store path goes; the download stays cached: it is verified again, with a bar.
    store = LocalStore(settings.layout)
    try:
        store.sweep([result.record.path], lambda: False)
    finally:
        store.close()
    seen.clear()
    install.install(settings, ["node@20"], progress=lambda *a: seen.append(a))
    labels = list(dict.fromkeys(label for label, _, _ in seen))
    assert labels == [f"verify node {version}", f"unpack node {version}"]
    verify = [(d, t) for label, d, t in seen if label.startswith("verify")]
    assert verify[-1][0] == verify[-1][1]


def test_off_a_terminal_only_the_result_is_printed(omg_env: OmgEnv,
                                                  mirror_env: dict[str, str]) -> None:
    proc = omg_env.run("install", "node@20", extra_env=mirror_env, check=True)
    # Warnings (support data) may come; no bar, no escape codes, no line clears.
    assert "\x1b" not in proc.stderr and "\r" not in proc.stderr
    assert all(line.startswith("warning: ") for line in proc.stderr.splitlines())
    assert proc.stdout.startswith("node@20.") and " installed: " in proc.stdout
    assert proc.stdout.count("\n") == 1


def test_on_a_terminal_nothing_to_fetch_prints_no_bar(omg_env: OmgEnv) -> None:
    """A `sync` of installed versions on a terminal: the result only, no cursor codes
    or line clears from a progress bar that had nothing to show."""
    import shlex
    import subprocess
    import sys

    from tests.generations.helpers import cli_add

    cli_add(omg_env, "tool", "1.0")
    project = omg_env.root / "proj"
    project.mkdir()
    (project / ".tool-versions").write_text("tool 1.0\n")
    cmd = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "omg", "sync"])
    proc = subprocess.run(["script", "-qec", cmd, "/dev/null"], env=omg_env.env,
                          cwd=project, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.replace("\r", "") == f"project {project}: generation 1: tool 1.0\n"
