"""The feeds on real upstream entries, fetched from a mirror on 127.0.0.1: what each
finds, the cache (fresh, stale, unreachable), malformed feeds and entries."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from omg import install
from omg.audit import cache, feeds
from omg.audit.cache import cached_findings, findings
from omg.audit.feeds import FEEDS, arch, go, node, python, ruby
from tests.audit import mirror as M
from tests.conftest import OmgEnv

FX = M.FIXTURES


def _hits(cache_dir: Path, *pairs: tuple[str, str]) -> set[tuple[str, str, str]]:
    return {(f.tool, f.version, f.advisory) for f in cached_findings(str(cache_dir), pairs)
            if f.kind == "vulnerability"}


def _save(tmp_path: Path, name: str, rows: list[cache.Advisory]) -> None:
    cache.save(tmp_path, name, cache.Summary(name, FEEDS_BY_FILE[name].scheme, time.time(),
                                             rows))


FEEDS_BY_FILE = {f.files[0]: f for f in FEEDS.values()}


def test_node_security_wg_entries(tmp_path: Path) -> None:
    warnings: list[str] = []
    rows = node.parse("u", (FX / "node/vuln/core/index.json").read_bytes(), warnings)
    assert warnings == [] and len(rows) == 5
    _save(tmp_path, "node", rows)
    assert _hits(tmp_path, ("node", "20.20.1"), ("node", "20.20.2"), ("node", "10.8.0"),
                 ("node", "10.9.0")) == {
        ("node", "20.20.1", "security-wg:169"), ("node", "20.20.1", "security-wg:171"),
        ("node", "10.8.0", "security-wg:54")}
    [low] = [f for f in cached_findings(str(tmp_path), [("node", "20.20.1")])
             if f.severity == "low"]
    assert low.upgrade == "omg install node@20.20.2" and "20.20.2" in low.fixed_in


def test_go_stdlib_and_toolchain_entries(tmp_path: Path) -> None:
    ids = go.parse_index("u", (FX / "go/index/modules.json").read_bytes())
    assert ids == ["GO-2024-2687", "GO-2026-6218", "GO-2026-6180"]  # not x/net, x/mod
    warnings: list[str] = []
    rows = [r for i in ids for r in go.parse_entry(i, (FX / f"go/ID/{i}.json").read_bytes(),
                                                   warnings)]
    assert warnings == [] and {r.severity for r in rows} == {"unknown"}
    _save(tmp_path, "go", rows)
    assert _hits(tmp_path, ("go", "1.22.1"), ("go", "1.22.2"), ("go", "1.27rc2"),
                 ("go", "1.27.0")) >= {
        ("go", "1.22.1", "GO-2024-2687"), ("go", "1.27rc2", "GO-2026-6180")}
    assert not _hits(tmp_path, ("go", "1.27.0"))
    [f] = [f for f in cached_findings(str(tmp_path), [("go", "1.22.1")])
           if f.advisory == "GO-2024-2687"]
    assert f.upgrade == "omg install go@1.22.2" and "CVE-2023-45288" in f.ids


def test_arch_tracker_groups(tmp_path: Path) -> None:
    warnings: list[str] = []
    rows = arch.parse("u", (FX / "arch/all.json").read_bytes(), warnings)
    assert warnings == [] and len(rows) == 4
    _save(tmp_path, "arch", rows)
    assert _hits(tmp_path, ("core/bzip2", "1.0.6-5"), ("core/bzip2", "1.0.6-6"),
                 ("local/lib32-gdk-pixbuf2", "2.34.0-1"), ("aur/bzip2", "1.0.6-5"),
                 ("extra/python-pyjwt", "2.4.0-1")) == {
        ("core/bzip2", "1.0.6-5", "AVG-4"), ("local/lib32-gdk-pixbuf2", "2.34.0-1", "AVG-1")}
    sev = {r.advisory: r.severity for r in rows}
    assert sev == {"AVG-2781": "unknown", "AVG-2780": "unknown", "AVG-4": "low",
                   "AVG-1": "critical"}


def test_ruby_advisory_db_entries(tmp_path: Path) -> None:
    root = M.build(tmp_path / "m")
    warnings: list[str] = []
    rows = ruby.parse("u", (root / "rubysec.tar.gz").read_bytes(), warnings)
    assert warnings == [] and {r.advisory for r in rows} == {
        "CVE-2021-31810", "CVE-2022-28738", "CVE-2026-46727"}
    assert {r.advisory: r.severity for r in rows}["CVE-2026-46727"] == "high"  # cvss_v3 8.1
    _save(tmp_path, "ruby", rows)
    assert _hits(tmp_path, ("ruby", "3.0.1"), ("ruby", "3.0.3"), ("ruby", "2.7.8"),
                 ("ruby", "4.0.4"), ("ruby", "3.4.1"), ("ruby", "4.0.5")) == {
        ("ruby", "3.0.1", "CVE-2021-31810"), ("ruby", "3.0.1", "CVE-2022-28738"),
        ("ruby", "3.0.3", "CVE-2022-28738"), ("ruby", "4.0.4", "CVE-2026-46727")}


def test_psf_entries_with_commits_only_are_one_warning_not_a_guess(tmp_path: Path) -> None:
    root = M.build(tmp_path / "m")
    warnings: list[str] = []
    rows = python.parse("u", (root / "psf.tar.gz").read_bytes(), warnings)
    assert rows == []
    assert len(warnings) == 1 and "3 advisories give commits only" in warnings[0]


def test_a_psf_entry_with_versions_from_osv_dev_is_matched() -> None:
    entry = json.loads((FX / "python/advisory-database-main/advisories/python/"
                        "PSF-2024-1.json").read_text())
    # What OSV.dev adds on import: the versions it enumerates from CPython's tags.
    entry["affected"][0]["versions"] = ["v3.12.0", "v3.12.1", "legacy-trunk"]
    [row] = python.parse_entry("u", json.dumps(entry).encode(), []) or []
    assert row.ids == ("CVE-2023-6597",)
    assert row.affected == "=v3.12.0 || =v3.12.1"


# Through the cached fetch, from the mirror -------------------------------------------------

@pytest.fixture
def served(tmp_path: Path) -> Iterator[M.Mirror]:
    with M.serve(M.build(tmp_path / "mirror")) as m:
        yield m


def _update(env: OmgEnv, key: str, *, refresh: bool = False, offline: bool = False
            ) -> tuple[dict[str, cache.Summary | None], list[str], list[str]]:
    session = install.Session(env.settings(), offline=offline, refresh=refresh)
    warnings: list[str] = []
    notes: list[str] = []
    try:
        got = feeds.update(lambda: session.ctx, FEEDS[key], str(env.layout.cache), refresh=refresh,
                           offline=offline, warnings=warnings, notes=notes)
    finally:
        session.close()
    return got, warnings, notes + session.ctx.notices


@pytest.fixture
def env(omg_env: OmgEnv, served: M.Mirror, monkeypatch: pytest.MonkeyPatch) -> OmgEnv:
    for k, v in served.env.items():
        monkeypatch.setenv(k, v)
    return omg_env


def test_every_feed_fetched_from_the_mirror_then_read_from_the_summary(
        env: OmgEnv, served: M.Mirror) -> None:
    for key in FEEDS:
        got, warnings, _ = _update(env, key)
        assert all(s is not None for s in got.values()), key
        assert [w for w in warnings if "commits only" not in w] == [], key
    asked = len(served.requests)
    assert asked == 1 + 1 + (1 + 3) + 2  # node, arch, go (index, 3 entries), 2 archives
    for key in FEEDS:  # fresh summaries: no request at all
        _update(env, key)
    assert len(served.requests) == asked
    assert _hits(env.layout.cache, ("node", "20.20.1"), ("core/bzip2", "1.0.6-5"),
                 ("go", "1.22.1"), ("ruby", "3.0.1"))


def test_an_unreachable_feed_serves_its_older_copy_and_says_how_old(
        env: OmgEnv, served: M.Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    _update(env, "node_vulns")
    monkeypatch.setenv("OMG_NODE_VULNS_MIRROR", "http://127.0.0.1:9/node")  # nothing there
    got, warnings, notes = _update(env, "node_vulns", refresh=True)
    assert got["node"] is not None and len(got["node"].advisories) == 5
    assert any("ago" in w and "Node.js security-wg" in w for w in warnings + notes)


def test_offline_reads_the_summary_only(env: OmgEnv, served: M.Mirror) -> None:
    got, _, notes = _update(env, "arch_security", offline=True)
    assert got == {"arch": None} and any("nothing cached" in n for n in notes)
    _update(env, "arch_security")
    n = len(served.requests)
    got, _, _ = _update(env, "arch_security", offline=True, refresh=True)
    assert got["arch"] is not None and len(served.requests) == n


def test_a_malformed_feed_is_one_warning_and_the_others_still_count(
        env: OmgEnv, served: M.Mirror) -> None:
    (served.root / "node/vuln/core/index.json").write_text("<html>rate limited</html>")
    got, warnings, _ = _update(env, "node_vulns")
    assert got == {"node": None}
    assert len(warnings) == 1 and warnings[0].startswith("Node.js security-wg feed ignored")
    got, warnings, _ = _update(env, "arch_security")
    assert got["arch"] is not None and warnings == []


def test_unreadable_entries_and_unknown_severities(env: OmgEnv, served: M.Mirror) -> None:
    path = served.root / "node/vuln/core/index.json"
    data = json.loads(path.read_text())
    data["1"]["vulnerable"] = "every version before the fix"
    data["3"]["severity"] = "catastrophic"
    path.write_text(json.dumps(data))
    got, warnings, _ = _update(env, "node_vulns")
    summary = got["node"]
    assert summary is not None and len(summary.advisories) == 4
    assert len(warnings) == 1 and "advisory 1 skipped" in warnings[0]
    assert {a.advisory: a.severity for a in summary.advisories}["security-wg:3"] == "unknown"


def test_a_version_a_range_cannot_compare_is_a_warning(tmp_path: Path) -> None:
    rows = arch.parse("u", (FX / "arch/all.json").read_bytes(), [])
    _save(tmp_path, "arch", rows)
    warnings: list[str] = []
    assert findings(str(tmp_path), [("core/bzip2", "1.0\n6")], warnings) == []
    assert len(warnings) == 1 and "AVG-4" in warnings[0]
