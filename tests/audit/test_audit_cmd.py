"""`omg audit` as a user runs it: a store with runtimes, the feeds on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from omg import support
from store.claims import ADDED, Claim, process_user
from tests.audit import mirror as M
from tests.conftest import OmgEnv
from tests.generations.helpers import fake_tool
from tests.schema import check


@pytest.fixture
def served(tmp_path: Path) -> Iterator[M.Mirror]:
    with M.serve(M.build(tmp_path / "mirror")) as m:
        yield m


def _add(env: OmgEnv, tool: str, version: str, origin: dict[str, object] | None = None
         ) -> str:
    store = env.store()
    try:
        return store.add(fake_tool(env.root, tool, version), tool, version, origin=origin,
                         claim=Claim(ADDED, process_user(), trusted=True)).record.path
    finally:
        store.close()


def test_findings_table_exit_status_and_json(omg_env: OmgEnv, served: M.Mirror) -> None:
    _add(omg_env, "node", "10.8.0")  # security-wg:54 (high) and end of life
    _add(omg_env, "ruby", "3.0.3")  # CVE-2022-28738: cvss_v3 9.8, critical
    unsigned = _add(omg_env, "node", "20.20.2",
                    {"signature": {"status": "missing", "url": "https://x/SHASUMS.sig"}})
    support.save(omg_env.layout.cache, "node",
                 [support.Line("20", "iron", "2026-04-30", None),
                  support.Line("10", "dubnium", "2021-04-30", None)])
    env = served.env
    proc = omg_env.run("audit", extra_env=env)
    assert proc.returncode == 1, proc.stderr  # a high finding, --fail-on high by default
    rows = proc.stdout.splitlines()
    [row] = [r for r in rows if "security-wg:54" in r]
    assert row.split()[:4] == ["node", "10.8.0", "vulnerability", "high"]
    assert "omg install node@10.9.0" in row
    assert any(r.split()[:3] == ["node", "10.8.0", "eol"] for r in rows)
    assert any("Node.js security-wg:" in r and "old" in r for r in rows)

    out = omg_env.run("audit", "--json", "--fail-on", "critical", extra_env=env)
    assert out.returncode == 1, out.stderr
    data = check("audit", out.stdout)
    kinds = {(f["tool"], f["version"], f["kind"]) for f in data["findings"]}
    assert ("node", "20.20.2", "unsigned") in kinds
    [u] = [f for f in data["findings"] if f["kind"] == "unsigned"]
    assert u["summary"].startswith(unsigned) and u["advisory"] == "missing"
    assert ("ruby", "3.0.3", "vulnerability") in kinds
    assert ("node", "20.20.2", "eol") in kinds  # the 20 line ended on 2026-04-30
    assert data["failing"] == 1 and data["fail_on"] == "critical"
    assert data["findings"][0]["severity"] == "critical"  # worst first
    assert {f["feed"] for f in data["feeds"]} == {"node_vulns", "ruby_vulns"}

    n = len(served.requests)  # warm: the summaries answer, nothing is asked
    assert omg_env.run("audit", "--offline", "--fail-on", "low", extra_env=env
                       ).returncode == 1  # the unsigned path is low
    assert omg_env.run("audit", extra_env=env).returncode == 1
    assert len(served.requests) == n


def test_nothing_installed_nothing_fetched(omg_env: OmgEnv, served: M.Mirror) -> None:
    proc = omg_env.run("audit", "--json", extra_env=served.env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["findings"] == [] and data["checked"] == [] and served.requests == []


def test_a_bad_fail_on_is_a_usage_error(omg_env: OmgEnv) -> None:
    proc = omg_env.run("audit", "--fail-on", "severe-ish")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --fail-on severe-ish: not a severity")


def test_the_shared_mode_reads_the_files_and_keeps_feeds_in_the_users_cache(
        omg_env: OmgEnv, served: M.Mirror, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from omg.backends.daemon import DaemonBackend

    _add(omg_env, "node", "10.8.0")
    support.save(omg_env.layout.cache, "node", [support.Line("10", "", "2021-04-30", None)])
    for k, v in served.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    # No omgd behind the socket: an audit only reads.
    backend = DaemonBackend(str(tmp_path / "no.sock"), str(omg_env.home), process_user(),
                            omg_env.settings())
    try:
        report = backend.audit()
    finally:
        backend.close()
    kinds = {(f.kind, f.advisory) for f in report.findings}
    assert ("vulnerability", "security-wg:54") in kinds and ("eol", "eol:node@10") in kinds
    assert (tmp_path / "user-cache/omg/audit/node").is_file()
    assert not (omg_env.layout.cache / "audit").exists()
