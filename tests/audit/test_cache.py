"""cached_findings: the summaries the feeds wrote, read without network or JSON."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from omg import support
from omg.audit import cache
from omg.audit.cache import Advisory, Summary, cached_findings, findings
from omg.audit.finding import END_OF_LIFE, VULNERABILITY
from omg.audit.ranges import arch_range, npm_range


def _node_summary(fetched: float | None = None) -> Summary:
    # security-wg vuln/core/index.json entry 1 (CVE-2017-1000381), as the feed keeps it.
    return Summary("node", "semver", time.time() if fetched is None else fetched, [
        Advisory("node", "security-wg:1", ["CVE-2017-1000381"], "high",
                 ["8.1.4", "7.10.1", "4.8.4", "6.11.1"],
                 npm_range("8.x || 7.x || 4.x || 6.x || 5.x"),
                 npm_range("^8.1.4 || ^7.10.1 || ^4.8.4 || ^6.11.1"),
                 "memory overread when parsing invalid NAPTR responses")])


def test_a_vulnerable_runtime_version_is_found_with_its_upgrade(tmp_path: Path) -> None:
    cache.save(tmp_path, "node", _node_summary())
    [hit] = cached_findings(str(tmp_path), [("node", "8.1.3")])
    assert (hit.kind, hit.severity, hit.advisory, hit.ids) == \
        (VULNERABILITY, "high", "security-wg:1", ("CVE-2017-1000381",))
    assert hit.upgrade == "omg install node@8.1.4"  # same line, not 7.10.1 nor a newer major


def test_patched_and_unaffected_versions_give_nothing(tmp_path: Path) -> None:
    cache.save(tmp_path, "node", _node_summary())
    assert cached_findings(str(tmp_path), [("node", "8.1.4"), ("node", "9.0.0"),
                                           ("python", "3.12.1")]) == []


def test_no_cache_no_findings(tmp_path: Path) -> None:
    assert cached_findings(str(tmp_path), [("node", "8.1.3"), ("core/openssl", "1.0-1")]) == []


def test_arch_packages_by_pkgname_and_not_aur(tmp_path: Path) -> None:
    cache.save(tmp_path, "arch", Summary("arch", "vercmp", time.time(), [
        Advisory("openssl", "AVG-2843", ["CVE-2023-0286"], "high", ["3.0.8-1"],
                 arch_range("3.0.8-1"), "", "multiple issues")]))
    [hit] = cached_findings(str(tmp_path), [("core/openssl", "3.0.7-4"),
                                            ("core/openssl", "1:3.0.0-1"),  # epoch 1 wins
                                            ("aur/openssl", "3.0.7-4")])
    assert (hit.tool, hit.version, hit.upgrade) == ("core/openssl", "3.0.7-4", "omg update")


def test_end_of_life_from_the_support_summary(tmp_path: Path) -> None:
    support.save(tmp_path, "node", [support.Line("22", "jod", "2027-04-30", False),
                                    support.Line("16", "gallium", "2023-09-11", True)])
    [eol] = cached_findings(str(tmp_path), [("node", "16.20.2"), ("node", "22.1.0")])
    assert (eol.kind, eol.version, eol.upgrade) == (END_OF_LIFE, "16.20.2",
                                                    "omg install node@22")


def test_a_version_that_does_not_parse_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    cache.save(tmp_path, "node", _node_summary())
    warnings: list[str] = []
    assert findings(str(tmp_path), [("node", "eight")], warnings) == []
    assert len(warnings) == 1 and "eight" in warnings[0] and "security-wg:1" in warnings[0]


def test_a_damaged_summary_is_no_data(tmp_path: Path) -> None:
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "node").write_text("omg-audit 0\tnode\tsemver\t1\n")
    assert cache.load(tmp_path, "node") is None
    assert cached_findings(str(tmp_path), [("node", "8.1.3")]) == []


def test_summaries_round_trip_and_flatten_tabs(tmp_path: Path) -> None:
    summary = _node_summary(fetched=1700000000)
    summary.advisories[0].summary = "two\tlines\nhere"
    cache.save(tmp_path, "node", summary)
    loaded = cache.load(tmp_path, "node")
    assert loaded is not None and loaded.fetched == 1700000000
    assert loaded.advisories[0].summary == "two lines here"


def test_the_hot_path_loads_no_json_nor_feed_parsers(tmp_path: Path) -> None:
    cache.save(tmp_path, "node", _node_summary())
    code = ("import sys; from omg.audit.cache import cached_findings; "
            f"assert cached_findings({str(tmp_path)!r}, [('node', '8.1.3')]); "
            "bad = {'json', 're', 'omg.audit.ranges', 'httpx'} & set(sys.modules); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
