"""Support data (omg/support.py) from real endoflife.date API v1 answers on the mirror:
end-of-life warnings on install, use and sync (use and sync from the cache only), the
`eol`/`lts`/`security` fields, `outdated` never proposing an end-of-life line, offline
from the cache, and a malformed answer as one warning.

The answers are real and dated (tests/providers/data/endoflife/SOURCE.md): assertions
name lines whose end is past (node 18 and 20, go 1.21 and 1.22, temurin 24), and what
depends on today's date is computed from the same data (`supported`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from omg import install, support
from omg.config import Settings
from omg.spec import version_key
from tests.conftest import OmgEnv
from tests.providers.mirrors import ENDOFLIFE_DATA, MirrorServer, build_node, write
from tests.schema import check

NODE20 = "the node 20 line is end-of-life since 2026-04-30"
SUPPORT_PATH = "/endoflife/api/v1/products/nodejs"


def lines_of(product: str) -> list[support.Line]:
    return support.parse(product, (ENDOFLIFE_DATA / f"{product}.json").read_bytes())


def newest_supported_node() -> str:
    line = support.newest_supported(lines_of("nodejs"), support.today())
    assert line is not None
    return line.name


def support_requests(mirror: MirrorServer) -> list[str]:
    return [p for p, _ in mirror.requests if p.startswith("/endoflife/")]


def test_a_version_belongs_to_the_longest_prefix_that_names_a_line() -> None:
    temurin, python, bun = lines_of("eclipse-temurin"), lines_of("python"), lines_of("bun")
    found = support.line_of("21.0.3+9", temurin)
    assert found is not None and (found.name, found.lts) == ("21", "lts")
    found = support.line_of("3.12.5", python)
    assert found is not None and found.name == "3.12"
    found = support.line_of("1.1.8", bun)
    assert found is not None and found.name == "1" and found.eol("2026-11-30") is False
    assert support.line_of("nightly-2026-11-01", lines_of("rust")) is None
    # The answer is a year old: temurin 24 said isEol false, its date says otherwise.
    t24 = support.line_of("24.0.2+12", temurin)
    assert t24 is not None and t24.is_eol is False and t24.eol("2026-11-30") is True
    # Lines come newest first, whatever order the answer lists them in.
    assert [ln.name for ln in python][:3] == ["3.13", "3.12", "3.11"]


def test_install_warns_of_an_end_of_life_line(settings: Settings) -> None:
    [r] = install.install(settings, ["node@20.10.0"])
    assert [w for w in r.warnings if "end-of-life" in w] == [
        f"node 20.10.0: {NODE20}; consider node@{newest_supported_node()}"]
    [g] = install.install(settings, ["go@1.22.2"])
    assert [w for w in g.warnings if "end-of-life" in w] == [
        "go 1.22.2: the go 1.22 line is end-of-life since 2025-02-11; consider go@1.25"]
    # No data for a line is no warning: bun's one line "1" has no end.
    [b] = install.install(settings, ["bun@1.1.8"])
    assert [w for w in b.warnings if "end-of-life" in w] == []


def test_use_and_sync_warn_from_the_cache_never_the_network(
        omg_env: OmgEnv, mirror: MirrorServer, mirror_env: dict[str, str]) -> None:
    proc = omg_env.run("use", "node@20.10.0", extra_env=mirror_env, check=True)
    # `use` that installs shows what the install said: the security release above
    # 20.10.0 (Node's index) and the end of its line (the support data), on stderr
    # as every command's warnings (stdout holds the answer alone).
    assert f"warning: node 20.10.0: {NODE20}" in proc.stderr
    assert "security release above it: 20.11.1" in proc.stderr
    assert "warning" not in proc.stdout
    summary = omg_env.home / "cache" / "support" / "node"
    assert summary.is_file()

    omg_env.run("use", "node@22.2.0", extra_env=mirror_env, check=True)
    before = len(mirror.requests)
    proc = omg_env.run("use", "node@20.10.0", extra_env=mirror_env, check=True)
    # Once, from the policy's eol rule (outdated and unsigned have lines of their own).
    assert proc.stderr.count("end-of-life") == 1 and NODE20 in proc.stderr
    project = omg_env.root / "project"
    project.mkdir()
    (project / ".node-version").write_text("20.10.0\n")
    proc = omg_env.run("sync", str(project), extra_env=mirror_env, check=True)
    assert NODE20 in proc.stderr and NODE20 not in proc.stdout
    assert mirror.requests[before:] == []  # neither asked the mirror anything

    summary.unlink()  # never fetched: nothing to say, and still no request
    proc = omg_env.run("use", "node@20.10.0", extra_env=mirror_env, check=True)
    assert "end-of-life" not in proc.stderr and mirror.requests[before:] == []


def test_list_remote_and_outdated_json_carry_eol_lts_security(
        omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    rows = check("list", omg_env.run("list", "node", "--remote", "--json",
                                     extra_env=mirror_env, check=True).stdout)
    by = {r["version"]: r for r in rows}
    assert {k: by["20.11.1"][k] for k in ("eol", "eol_from", "lts", "security")} == {
        "eol": True, "eol_from": "2026-04-30", "lts": "Iron", "security": True}
    assert by["18.19.0"]["eol"] is True and by["18.19.0"]["eol_from"] == "2025-04-30"
    java = json.loads(omg_env.run("list", "java", "--remote", "--json",
                                  extra_env=mirror_env, check=True).stdout)
    assert {r["version"]: r["lts"] for r in java}["21.0.3+9"] == "lts"  # temurin 21

    omg_env.run("install", "node@20.10.0", "go@1.22.2", extra_env=mirror_env, check=True)
    out = check("outdated", omg_env.run("outdated", "--json", extra_env=mirror_env,
                                        check=True).stdout)
    rows = {r["tool"]: r for r in out}
    assert {k: rows["node"][k] for k in ("eol", "eol_from", "lts", "security")} == {
        "eol": True, "eol_from": "2026-04-30", "lts": "Iron", "security": True}
    text = omg_env.run("outdated", "node", extra_env=mirror_env, check=True).stdout
    assert "(end-of-life since 2026-04-30)" in text
    text = omg_env.run("list", "node", "--remote", extra_env=mirror_env, check=True).stdout
    [row] = [line for line in text.splitlines() if line.startswith("20.11.1 ")]
    assert row.endswith("lts:Iron security eol:2026-04-30")
    # Every go line on the mirror has ended: its own newest patch is all there is to say.
    assert {k: rows["go"][k] for k in ("latest_patch", "latest", "eol", "eol_from", "lts",
                                       "security")} == {
        "latest_patch": "1.22.3", "latest": "1.22.2", "eol": True, "eol_from": "2025-02-11",
        "lts": None, "security": False}


def expected_latest(versions: list[str], lines: list[support.Line]) -> str | None:
    """The newest of `versions` whose line is not end-of-life today (no line: supported)."""
    day = support.today()
    ok = [v for v in versions if (ln := support.line_of(v, lines)) is None or not ln.eol(day)]
    return max(ok, key=version_key, default=None)


def test_outdated_never_proposes_an_end_of_life_line(omg_env: OmgEnv, tmp_path: Path) -> None:
    # Node 23 (ended 2025-06-01) is newer than 22 and 20: the newest line that is not
    # end-of-life is proposed, never 23.
    root = tmp_path / "m"
    versions = [("23.11.1", False, False, "2025-05-14"), ("22.2.0", False, False, "2024-05-15"),
                ("20.10.0", "Iron", False, "2023-11-22")]
    names = [v for v, *_ in versions]
    with MirrorServer(root) as m:
        env = build_node(root, m.url, versions)
        omg_env.run("install", "node@20.10.0", extra_env=env, check=True)

        def proposed() -> list[tuple[str, str]]:
            out = json.loads(omg_env.run("outdated", "--json", extra_env={
                **env, "OMG_INDEX_TTL": "0"}, check=True).stdout)
            return [(r["installed"], r["latest"]) for r in out]

        latest = expected_latest(names, lines_of("nodejs"))
        assert latest != "23.11.1"
        assert proposed() == ([] if latest in (None, "20.10.0") else [("20.10.0", latest)])
        # A line the data does not name counts as supported (no guess): without 22
        # in the answer, 22.2.0 is proposed whatever the date.
        data = json.loads((ENDOFLIFE_DATA / "nodejs.json").read_text())
        data["result"]["releases"] = [r for r in data["result"]["releases"]
                                      if r["name"] != "22"]
        write(root / SUPPORT_PATH.lstrip("/"), json.dumps(data))
        assert proposed() == [("20.10.0", "22.2.0")]


def test_offline_reads_the_cache_and_without_one_is_a_note(
        settings: Settings, mirror: MirrorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    install.install(settings, ["node@20.10.0"])  # fetches the support data
    mirror.faults[SUPPORT_PATH] = [500] * 20
    asked = len(support_requests(mirror))
    [r] = install.install(settings, ["node@20.10.0"], offline=True)
    assert any(NODE20 in w for w in r.warnings)
    remote = {v.version: v for v in install.list_remote(settings, "node", offline=True)}
    assert remote["20.10.0"].eol is True
    assert len(support_requests(mirror)) == asked  # offline: the cache only

    # Another mirror, never fetched: offline, that is one note and no warning.
    monkeypatch.setenv("OMG_ENDOFLIFE_MIRROR", mirror.url + "/nowhere")
    [r] = install.install(settings, ["node@20.10.0"], offline=True)
    notes = [w for w in r.warnings if "support data" in w]
    assert len(notes) == 1 and notes[0].startswith("no support data for node")
    assert "not cached and --offline is set" in notes[0]
    assert not any(NODE20 in w for w in r.warnings)


def test_a_malformed_answer_is_one_warning_and_no_crash(settings: Settings,
                                                       mirror: MirrorServer) -> None:
    target = mirror.root / SUPPORT_PATH.lstrip("/")
    for body in (b"{not json", json.dumps({"result": {"releases": [{"isEol": True}]}}),
                 json.dumps({"result": {"releases": [{"name": "20", "eolFrom": "soon",
                                                      "isEol": False}]}})):
        write(target, body)
        [r] = install.install(settings, ["node@20.10.0"], refresh=True)
        notes = [w for w in r.warnings if "support data" in w]
        assert len(notes) == 1 and notes[0].startswith("support data for node ignored: ")
        assert not any(NODE20 in w for w in r.warnings)
        rows = install.list_remote(settings, "node", refresh=True)
        assert all(v.eol is None and v.eol_from == "" for v in rows)


def test_the_warning_on_a_catalogue_hit_imports_nothing_heavy(
        omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    from tests.generations.test_fast import TIERED

    for spec in ("node@20.10.0", "node@22.2.0", "node@20.10.0", "node@22.2.0"):
        omg_env.run("use", spec, extra_env=mirror_env, check=True)  # installs, then learns
    proc = subprocess.run([sys.executable, "-c", TIERED, "use", "node@20.10.0"],
                          env=omg_env.env, capture_output=True, text=True, check=True)
    # No mirror, no network settings; the hot door prints warnings on stderr too.
    assert "TIER hit" in proc.stderr and f"warning: node 20.10.0: {NODE20}" in proc.stderr
    assert "warning" not in proc.stdout
