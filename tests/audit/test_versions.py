"""Version order per scheme, checked against the reference implementations (libalpm
through pyalpm, packaging for PEP 440, univers' RubyGems and semver ports), and the
constraint notation against the orders."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version
from univers.versions import RubygemsVersion, SemverVersion

from omg.audit import versions
from omg.audit.versions import compare, gem_cmp, port_vercmp, python_key, satisfies

pyalpm = pytest.importorskip("pyalpm")

_num = st.integers(0, 30).map(str)
_alnum = st.text("0123456789abcxyz", min_size=1, max_size=4)
_sep = st.sampled_from([".", "", "_", "+", ".."])


@st.composite
def _pkgver(draw: st.DrawFn) -> str:
    parts = draw(st.lists(_alnum, min_size=1, max_size=4))
    seps = draw(st.lists(_sep, min_size=len(parts) - 1, max_size=len(parts) - 1))
    text = parts[0] + "".join(s + p for s, p in zip(seps, parts[1:], strict=True))
    epoch = draw(st.sampled_from(["", "", "1:", "2:"]))
    rel = draw(st.sampled_from(["", "-1", "-2", "-1.1", "-10"]))
    return epoch + text + rel


@settings(max_examples=400)
@given(_pkgver(), _pkgver())
def test_the_vercmp_port_agrees_with_libalpm(a: str, b: str) -> None:
    expected = pyalpm.vercmp(a, b)
    assert port_vercmp(a, b) == (expected > 0) - (expected < 0)


def test_vercmp_known_orders() -> None:
    assert port_vercmp("1.0a", "1.0") == -1  # alpha before release
    assert port_vercmp("1:1.0-1", "2.0-1") == 1  # epoch wins
    assert port_vercmp("1.0-1", "1.0") == 0  # no pkgrel on one side: ignored
    assert port_vercmp("3.0.10-1", "3.0.9-2") == 1


_semver = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
    st.integers(0, 25), st.integers(0, 25), st.integers(0, 25),
    st.one_of(st.just(""), st.lists(st.one_of(st.integers(0, 9).map(str),
                                              st.sampled_from(["alpha", "beta", "rc"])),
                                    min_size=1, max_size=3).map(".".join)))


@settings(max_examples=300)
@given(_semver, _semver)
def test_semver_order_agrees_with_univers(a: str, b: str) -> None:
    ua, ub = SemverVersion(a), SemverVersion(b)
    assert compare("semver", a, b) == (ua > ub) - (ua < ub)


_pep440 = st.builds(
    lambda rel, pre, post, dev: ".".join(map(str, rel)) + pre + post + dev,
    st.lists(st.integers(0, 15), min_size=1, max_size=4),
    st.sampled_from(["", "a1", "b2", "rc1", "rc2", "a0"]),
    st.sampled_from(["", ".post1", ".post2"]),
    st.sampled_from(["", ".dev0", ".dev3"]))


@settings(max_examples=300)
@given(_pep440, _pep440)
def test_python_order_agrees_with_packaging(a: str, b: str) -> None:
    ka, kb = python_key(a), python_key(b)
    assert (ka > kb) - (ka < kb) == (Version(a) > Version(b)) - (Version(a) < Version(b))


_gem = st.builds(
    lambda nums, pre: ".".join(map(str, nums)) + pre,
    st.lists(st.integers(0, 12), min_size=1, max_size=4),
    st.sampled_from(["", ".preview1", ".rc1", ".a", "-preview2", ".pre.1", ".b.0"]))


@settings(max_examples=300)
@given(_gem, _gem)
def test_gem_order_agrees_with_univers(a: str, b: str) -> None:
    ua, ub = RubygemsVersion(a), RubygemsVersion(b)
    assert gem_cmp(a, b) == (ua > ub) - (ua < ub)


@given(st.sampled_from(versions.SCHEMES[:3]), _semver.filter(lambda v: "-" not in v),
       _semver.filter(lambda v: "-" not in v), _semver.filter(lambda v: "-" not in v))
def test_an_interval_holds_exactly_what_lies_between(scheme: str, low: str, high: str,
                                                     v: str) -> None:
    inside = compare(scheme, low, v) <= 0 and compare(scheme, v, high) < 0
    assert satisfies(scheme, f">={low} <{high}", v) == inside
    assert satisfies(scheme, f"<{low} || >={high}", v) == (not inside)
    assert satisfies(scheme, "*", v) and not satisfies(scheme, "", v)


@pytest.mark.parametrize(("scheme", "bad"), [("semver", "1.2.3.4.5"), ("semver", "x"),
                                             ("python", "3.12-ish"), ("gem", "1.0 beta"),
                                             ("vercmp", "")])
def test_unparsable_versions_raise_value_error(scheme: str, bad: str) -> None:
    with pytest.raises(ValueError):
        compare(scheme, bad, "1.0")
