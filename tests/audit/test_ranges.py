"""Each feed's range syntax: npm ranges against node-semver itself, gem requirements,
OSV events, Arch's fixed version; what a parser cannot read is a ValueError."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from univers.version_range import GemVersionRange
from univers.versions import RubygemsVersion

from omg.audit.ranges import arch_range, gem_requirements, npm_range, osv_ranges
from omg.audit.versions import satisfies

_SEMVER_JS = "/usr/lib/node_modules/npm/node_modules/semver"

_num = st.integers(0, 12).map(str)
_partial = st.one_of(
    st.builds(lambda a, b, c: f"{a}.{b}.{c}", _num, _num, _num),
    st.builds(lambda a, b: f"{a}.{b}.x", _num, _num),
    st.builds(lambda a, b: f"{a}.{b}", _num, _num),
    st.builds(lambda a: f"{a}.x", _num), _num)
_comparator = st.builds(lambda op, sp, v: f"{op}{sp}{v}",
                        st.sampled_from(["", "<", "<=", ">", ">=", "^", "~", "="]),
                        st.sampled_from(["", " "]), _partial)
_set = st.one_of(st.lists(_comparator, min_size=1, max_size=2).map(" ".join),
                 st.builds(lambda a, b: f"{a} - {b}", _partial, _partial))
_range = st.lists(_set, min_size=1, max_size=3).map(" || ".join)
_version = st.builds(lambda a, b, c: f"{a}.{b}.{c}", _num, _num, _num)


@pytest.mark.skipif(not (shutil.which("node") and os.path.isdir(_SEMVER_JS)),
                    reason="needs node and npm's semver")
@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(_range, _version), min_size=40, max_size=40))
def test_npm_ranges_agree_with_node_semver(cases: list[tuple[str, str]]) -> None:
    script = (f"const s = require({_SEMVER_JS!r}); const cases = JSON.parse(process.argv[1]);"
              "console.log(JSON.stringify(cases.map(([r, v]) => s.satisfies(v, r))));")
    out = subprocess.run(["node", "-e", script, json.dumps(cases)], check=True,
                         capture_output=True, text=True).stdout
    expected = json.loads(out)
    got = [satisfies("semver", npm_range(r), v) for r, v in cases]
    assert got == expected, [c for c, g, e in zip(cases, got, expected, strict=True) if g != e]


def test_npm_ranges_from_the_security_wg_feed() -> None:
    # Verbatim "vulnerable"/"patched" values of vuln/core/index.json.
    c = npm_range("<= 10")
    assert satisfies("semver", c, "10.24.1") and not satisfies("semver", c, "11.0.0")
    c = npm_range(">=6.0.0 <6.2.0 || 5.x || 4.x")
    assert [satisfies("semver", c, v) for v in ("4.9.1", "6.1.0", "6.2.0", "7.0.0")] == \
        [True, True, False, False]


@pytest.mark.parametrize("bad", ["latest", ">=1.2.3 <", "1.2.3-beta - ^", "20.x ||| 22"])
def test_unreadable_npm_ranges_raise(bad: str) -> None:
    with pytest.raises(ValueError):
        npm_range(bad)


_gem_version = st.builds(lambda a, b, c: f"{a}.{b}.{c}", _num, _num, _num)
_gem_req = st.builds(lambda op, v: f"{op} {v}",
                     st.sampled_from(["~>", ">=", "<", "<=", ">", "="]),
                     st.one_of(_gem_version, st.builds(lambda a, b: f"{a}.{b}", _num, _num)))


@settings(max_examples=300)
@given(_gem_req, _gem_version)
def test_gem_requirements_agree_with_univers(req: str, version: str) -> None:
    expected = RubygemsVersion(version) in GemVersionRange.from_native(req)  # type: ignore[no-untyped-call]
    assert satisfies("gem", gem_requirements([req]), version) == expected


def test_gem_requirement_lists_are_alternatives() -> None:
    # ruby-advisory-db rubies/ruby/CVE-2021-31810.yml's patched_versions.
    c = gem_requirements(["~> 2.6.8", "~> 2.7.4", ">= 3.0.2"])
    assert [satisfies("gem", c, v) for v in ("2.6.7", "2.6.10", "2.7.3", "3.0.1", "3.3.0")] \
        == [False, True, False, False, True]
    with pytest.raises(ValueError):
        gem_requirements(["~> two"])


def test_osv_events_and_version_lists() -> None:
    ranges = [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.21.8"},
                                            {"introduced": "1.22.0-0"}, {"fixed": "1.22.1"}]},
              {"type": "GIT", "repo": "https://go.googlesource.com/go",
               "events": [{"introduced": "0"}, {"fixed": "abc"}]}]
    c, fixed = osv_ranges("semver", ranges, None)
    assert fixed == ["1.21.8", "1.22.1"]
    assert [satisfies("semver", c, v) for v in ("1.21.7", "1.21.8", "1.22.0", "1.22.1")] == \
        [True, False, True, False]
    c, fixed = osv_ranges("python", [], ["v3.12.0", "v3.12.1"])
    assert satisfies("python", c, "3.12.1") and not satisfies("python", c, "3.12.2")
    last = [{"type": "ECOSYSTEM", "events": [{"introduced": "3.0"}, {"last_affected": "3.2"}]}]
    assert satisfies("python", osv_ranges("python", last, None)[0], "3.2")
    with pytest.raises(ValueError):
        osv_ranges("semver", [{"type": "SEMVER", "events": [{"fixed": "1.0.0"}]}], None)
    with pytest.raises(ValueError):
        osv_ranges("semver", [{"type": "SEMVER", "events": [{"introduced": "one"}]}], None)


def test_arch_fixed_and_unfixed() -> None:
    assert satisfies("vercmp", arch_range("3.0.8-1"), "3.0.7-4")
    assert not satisfies("vercmp", arch_range("3.0.8-1"), "3.0.8-1")
    assert satisfies("vercmp", arch_range(None), "99-1")
    with pytest.raises(ValueError):
        arch_range(["3.0"])
