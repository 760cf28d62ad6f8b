"""`omg lock`, install from a lock, `omg sync --frozen`, `omg status`, `omg fingerprint`,
end to end through the CLI against a two-platform Node mirror (conftest.py)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from omg import lockfile
from tests.conftest import OmgEnv, make_env
from tests.lock.conftest import project
from tests.schema import check


def test_lock_covers_both_platforms_and_is_rewritten_byte_identical(lock_env: OmgEnv) -> None:
    proj = project(lock_env.root, {".node-version": "20\n"})
    done = lock_env.run("lock", "--json", cwd=proj, check=True)
    out = check("lock", done.stdout)
    assert out["changed"] is True
    text = (proj / "omg.lock").read_bytes()
    data = tomllib.loads(text.decode())
    node = data["tools"]["node"]
    assert (node["spec"], node["file"], node["version"]) == ("20", ".node-version", "20.12.0")
    assert sorted(node["platforms"]) == ["linux-arm64-gnu", "linux-x64-gnu"]
    x64 = node["platforms"]["linux-x64-gnu"]
    # Upstream's URL, not the local mirror's the index was read from: the same lock
    # whatever mirror a machine is set to.
    assert x64["artifacts"][0]["url"] == \
        "https://nodejs.org/dist/v20.12.0/node-v20.12.0-linux-x64.tar.xz"
    assert "store_path" not in x64  # nothing installed: no name known yet
    assert not list((lock_env.home / "store").glob("*-node-*"))
    again = lock_env.run("lock", cwd=proj, check=True)
    assert "unchanged" in again.stdout
    assert (proj / "omg.lock").read_bytes() == text
    assert lock_env.run("lock", "--check", cwd=proj).returncode == 0


def _store_paths(env: OmgEnv, tool: str = "node") -> list[str]:
    store = env.home / "store"
    return sorted(p.name for p in store.glob(f"*-{tool}-*") if p.is_dir()
                  and p.name[33:].startswith(f"{tool}-")) if store.is_dir() else []


def test_install_uses_the_lock_and_gives_the_locked_store_path_elsewhere(
        lock_env: OmgEnv, tmp_path: Path) -> None:
    proj = project(lock_env.root, {".node-version": "20\n"})
    lock_env.run("lock", cwd=proj, check=True)
    # The index moves on: 20.12.0 stays locked whatever `20` means now.
    done = lock_env.run("install", cwd=proj, check=True)
    assert "20.12.0" in done.stdout
    [name] = _store_paths(lock_env)
    written = lock_env.run("lock", cwd=proj, check=True)
    assert "written" in written.stdout  # this platform's store path name is known now
    lock = lockfile.loads((proj / "omg.lock").read_text())
    node = lock.tool("node")
    assert node is not None
    x64, arm = node.target("linux-x64-gnu"), node.target("linux-arm64-gnu")
    assert x64 is not None and x64.store_path == name
    assert arm is not None and arm.store_path == ""
    # Another machine, an empty OMG_HOME: the same store path, the same fingerprint.
    other = make_env(tmp_path / "b")
    other.env.update({k: v for k, v in lock_env.env.items() if k.startswith("OMG_")
                      and k != "OMG_HOME"})
    other.run("install", cwd=proj, check=True)
    assert _store_paths(other) == [name]
    mine = lock_env.run("fingerprint", cwd=proj, check=True).stdout
    theirs = other.run("fingerprint", cwd=proj, check=True).stdout
    assert mine == theirs and len(mine.strip()) == 64
    arm64 = other.run("fingerprint", "--platform", "linux-arm64-gnu", "--json", cwd=proj,
                      check=True)
    assert check("fingerprint", arm64.stdout)["fingerprint"] != mine.strip()
    # On an arm64 machine, that platform's fingerprint is the default one.
    assert other.run("fingerprint", cwd=proj, check=True,
                     extra_env={"OMG_ARCH": "aarch64"}).stdout.strip() == \
        json.loads(arm64.stdout)["fingerprint"]
    status = other.run("status", cwd=proj)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "no drift" in status.stdout


def test_a_changed_sha256_in_the_lock_installs_nothing(lock_env: OmgEnv) -> None:
    proj = project(lock_env.root, {".node-version": "20.11\n"})
    lock_env.run("lock", cwd=proj, check=True)
    text = (proj / "omg.lock").read_text()
    lock = lockfile.loads(text)
    node = lock.tool("node")
    assert node is not None and node.version == "20.11.1"
    target = node.target("linux-x64-gnu")
    assert target is not None
    good = target.artifacts[0].sha256
    (proj / "omg.lock").write_text(text.replace(good, "0" * 64))
    for args in (("install",), ("sync", "--frozen")):
        done = lock_env.run(*args, cwd=proj)
        assert done.returncode == 5, done.stderr
        [line, hint] = done.stderr.splitlines()
        assert line.startswith("error: node 20.11.1: ") and good in line, line
        assert hint.startswith("hint: nothing was installed")
        assert _store_paths(lock_env) == []
        assert not (lock_env.home / "profiles").exists() or not any(
            (lock_env.home / "profiles").rglob("*-link"))


def test_a_hand_edited_tool_name_is_the_registrys_not_a_crash(lock_env: OmgEnv) -> None:
    """`nodejs` (an alias) installs node; an unknown tool is one line, exit 3."""
    proj = project(lock_env.root, {".node-version": "20.11\n"})
    lock_env.run("lock", cwd=proj, check=True)
    text = (proj / "omg.lock").read_text()
    (proj / "omg.lock").write_text(text.replace("[tools.node", "[tools.nodejs"))
    done = lock_env.run("install", cwd=proj)
    assert done.returncode == 0, done.stderr
    assert [p[33:] for p in _store_paths(lock_env)] == ["node-20.11.1"]
    (proj / "omg.lock").write_text(text.replace("[tools.node", "[tools.nosuch"))
    unknown = lock_env.run("install", cwd=proj)
    assert unknown.returncode == 3, unknown.stderr
    assert unknown.stderr.startswith("error: unknown tool 'nosuch'"), unknown.stderr


def test_sync_frozen_refuses_a_lock_the_version_files_left(lock_env: OmgEnv) -> None:
    proj = project(lock_env.root, {".node-version": "20\n"})
    missing = lock_env.run("sync", "--frozen", cwd=proj)
    assert missing.returncode == 3 and missing.stderr.startswith(
        f"error: --frozen: no lock file in {proj}"), missing.stderr
    lock_env.run("lock", cwd=proj, check=True)
    (proj / ".node-version").write_text("22\n")
    done = lock_env.run("sync", "--frozen", "--offline", cwd=proj)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[0] == (
        f"error: --frozen: {proj}/omg.lock: the lock's node 20.12.0 does not satisfy "
        ".node-version's 22")
    assert _store_paths(lock_env) == []
    # A spec the locked version still satisfies is fine.
    (proj / ".node-version").write_text("20.12\n")
    lock_env.run("sync", "--frozen", cwd=proj, check=True)
    assert len(_store_paths(lock_env)) == 1
    # `omg install` installs the lock even so, and says it is stale (a warning: stderr).
    (proj / ".node-version").write_text("22\n")
    warned = lock_env.run("install", cwd=proj, check=True)
    assert "omg.lock: the lock's node 20.12.0 does not satisfy .node-version's 22" \
        in warned.stderr and "warning" not in warned.stdout


def test_status_reports_drift_between_lock_files_and_profile(lock_env: OmgEnv) -> None:
    proj = project(lock_env.root, {".node-version": "20\n"})
    nothing = lock_env.run("status", "--json", cwd=proj)
    assert nothing.returncode == 1
    out = check("status", nothing.stdout)
    assert out["lock"] is None and [(d["tool"], d["kind"], d["where"]) for d in
                                    out["drift"]] == [("node", "missing", "profile")]
    lock_env.run("lock", cwd=proj, check=True)
    lock_env.run("install", cwd=proj, check=True)
    assert lock_env.run("status", cwd=proj).returncode == 0
    (proj / ".node-version").write_text("18\n")
    drift = lock_env.run("status", "--json", cwd=proj)
    assert drift.returncode == 1
    assert [(d["tool"], d["kind"], d["where"], d["files"], d["lock"], d["profile"])
            for d in check("status", drift.stdout)["drift"]] == [
        ("node", "different", "lock", "18", "20.12.0", "20.12.0")]
    # A tool the lock has that the version files no longer pin is extra in the lock.
    (proj / ".node-version").unlink()
    (proj / ".go-version").write_text("1.22\n")
    text = lock_env.run("status", cwd=proj)
    assert text.returncode == 1
    assert "  go       missing in the lock (files 1.22)" in text.stdout.splitlines()
    assert any(line.startswith("  node     extra in the lock") for line in
               text.stdout.splitlines())


def test_a_platform_the_index_lacks_is_left_out(lock_env: OmgEnv) -> None:
    proj = project(lock_env.root, {".nvmrc": "18\n"})
    lock_env.run("lock", cwd=proj, check=True)
    node = lockfile.loads((proj / "omg.lock").read_text()).tool("node")
    assert node is not None and node.version == "18.19.0" and node.file == ".nvmrc"
    assert [t.platform for t in node.targets] == ["linux-x64-gnu"]
    # On arm64 it cannot be installed: one line, nothing changed.
    done = lock_env.run("install", cwd=proj, extra_env={"OMG_ARCH": "aarch64"})
    assert done.returncode == 3
    assert done.stderr.splitlines()[0] == (
        "error: node 18.19.0: the lock has no artifacts for linux-arm64-gnu")


def test_a_malformed_or_newer_lock_is_refused(lock_env: OmgEnv) -> None:
    proj = project(lock_env.root, {".node-version": "20\n"})
    (proj / "omg.lock").write_text("format = 2\n")
    done = lock_env.run("install", cwd=proj)
    assert done.returncode == 5 and "lock format 2 is newer" in done.stderr
    (proj / "omg.lock").write_text("format = 1\n[tools.node]\nspec = 3\n")
    done = lock_env.run("fingerprint", cwd=proj)
    assert done.returncode == 2 and done.stderr.startswith(
        f"error: {proj}/omg.lock: not a valid lock file: tools.node:"), done.stderr
    assert _store_paths(lock_env) == []
    # `omg lock` replaces a malformed lock (as its hint says), never a newer format.
    lock_env.run("lock", cwd=proj, check=True)
    assert lockfile.loads((proj / "omg.lock").read_text()).tool("node") is not None
    (proj / "omg.lock").write_text("format = 2\n")
    newer = lock_env.run("lock", cwd=proj)
    assert newer.returncode == 5 and (proj / "omg.lock").read_text() == "format = 2\n"


def test_the_shell_hook_watches_the_lock_file() -> None:
    """shims/ sits below omg/ and names the lock file itself: a `git pull` that moves
    the lock on is noticed at the next prompt only while the two names agree."""
    from shims.init import WATCHED

    assert lockfile.FILENAME in WATCHED
