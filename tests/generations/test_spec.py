"""omg.spec: TOOL@SPEC parsing, version order, matching and selection (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omg.spec import ToolSpec, is_prerelease, matches, parse_tool_spec, select, version_key
from store.errors import UsageError


def test_parse() -> None:
    assert parse_tool_spec("node@20.10") == ToolSpec("node", "20.10")
    assert parse_tool_spec("node") == ToolSpec("node", "latest")
    assert parse_tool_spec("python@3.13.0rc1").spec == "3.13.0rc1"
    assert str(parse_tool_spec("go@1.22")) == "go@1.22"


def test_parse_packages_by_origin() -> None:
    assert parse_tool_spec("aur/yay") == ToolSpec("yay", "latest", "aur")
    assert parse_tool_spec("aur/yay@12.3.5-1") == ToolSpec("yay", "12.3.5-1", "aur")
    assert parse_tool_spec("extra/ripgrep@14") == ToolSpec("ripgrep", "14", "extra")
    assert str(parse_tool_spec("aur/yay@12")) == "aur/yay@12"


@pytest.mark.parametrize("bad", ["", "@20", "node@", "no de@1", "node@2 0", "../x@1",
                                 "node@../1", "node@1/2", "node@-1", "a/b/c@1",
                                 "/b@1", "a b/c@1", "aur/"])
def test_parse_rejects(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_tool_spec(bad)


def test_order() -> None:
    ordered = ["1.0.0-alpha", "1.0.0-beta.2", "1.0.0-rc.1", "1.0.0", "1.0.0-1", "1.0.1",
               "1.9", "1.10", "3.13.0rc1", "3.13.0", "20.9.0", "20.10.0"]
    assert sorted(reversed(ordered), key=version_key) == ordered
    assert version_key("1.0") < version_key("1.0.0") or version_key("1.0") > version_key("1.0.0")
    assert version_key("lts") < version_key("0.1")
    assert is_prerelease("3.13.0rc1") and not is_prerelease("3.13.0")


def test_matches() -> None:
    assert matches("20", "20.10.0") and matches("20.10", "20.10.0")
    assert not matches("20.1", "20.10.0") and matches("20.1", "20.1.5")
    assert matches("20.10.0", "20.10.0") and matches("v20.10.0", "20.10.0")
    assert not matches("2", "20.1.0")
    assert matches("latest", "1.0")
    assert not matches("lts", "20.1.0")


def test_select() -> None:
    vs = ["18.0.0", "20.1.0", "20.10.0", "20.9.9", "21.0.0-rc.1"]
    assert select("20", vs) == "20.10.0"
    assert select("latest", vs) == "20.10.0"  # final releases before pre-releases
    assert select("21", vs) == "21.0.0-rc.1"  # only a pre-release matches
    assert select("19", vs) is None
    assert select("20.9.9", vs) == "20.9.9"


versions = st.lists(st.integers(0, 30), min_size=1, max_size=4).map(
    lambda xs: ".".join(map(str, xs)))


@given(st.lists(versions, min_size=1, max_size=8), st.integers(0, 30))
def test_select_is_the_highest_match(vs: list[str], major: int) -> None:
    got = select(str(major), vs)
    want = [v for v in vs if v.split(".")[0] == str(major) and "." in v]
    if str(major) in vs:
        assert got == str(major)  # an exact match wins outright
    elif not want:
        assert got is None
    else:
        assert got is not None
        assert all(version_key(got) >= version_key(v) for v in want)


@given(versions, versions)
def test_numeric_order_is_tuple_order(a: str, b: str) -> None:
    ta = tuple(int(x) for x in a.split("."))
    tb = tuple(int(x) for x in b.split("."))

    def trim(t: tuple[int, ...]) -> tuple[int, ...]:
        while len(t) > 1 and t[-1] == 0:
            t = t[:-1]
        return t

    if trim(ta) < trim(tb):
        assert version_key(a) < version_key(b)


@pytest.mark.parametrize(("spec", "tool", "versions", "chosen"), [
    ("^20", "node", ["18.19.0", "20.10.0", "20.12.0", "22.1.0"], "20.12.0"),
    ("20.x", "node", ["18.19.0", "20.10.0", "20.12.0", "22.1.0"], "20.12.0"),
    (">=20 <22", "node", ["18.19.0", "20.12.0", "21.7.3", "22.1.0"], "21.7.3"),
    ("~20.10", "node", ["20.10.0", "20.10.5", "20.11.0"], "20.10.5"),
    (">=3.11,<3.13", "python", ["3.10.14", "3.11.9", "3.12.5", "3.13.0"], "3.12.5"),
    ("3.12.*", "python", ["3.11.9", "3.12.5", "3.13.0"], "3.12.5"),
    ("~> 3.2", "ruby", ["3.1.6", "3.2.4", "3.3.4", "4.0.0"], "3.3.4"),
    (">=1.21,<1.23", "go", ["1.20.14", "1.21.13", "1.22.6", "1.23.0"], "1.22.6"),
    ("^1.75", "rust", ["1.74.1", "1.75.0", "1.78.0", "2.0.0"], "1.78.0"),
    (">=17 <21", "java", ["11.0.23+9", "17.0.11+9", "21.0.3+9"], "17.0.11+9"),
    ("^22", "node", ["20.12.0", "22.0.0-rc.1"], None),  # npm: ranges skip pre-releases
])
def test_ranges_in_each_ecosystems_notation(spec: str, tool: str, versions: list[str],
                                            chosen: str | None) -> None:
    from omg.spec import select

    parsed = parse_tool_spec(f"{tool}@{spec}")
    assert select(parsed.spec, versions, tool) == chosen


@pytest.mark.parametrize("bad", ["node@^^20", "node@>=", "ruby@~>", "node@2 0",
                                 "python@>=3.11,,<", "node@1 <2"])
def test_malformed_ranges_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError, match="malformed"):
        parse_tool_spec(bad)


def test_the_parser_stays_off_the_hot_paths_imports() -> None:
    """`omg use` parses its arguments here: no re, no typing, no univers at import."""
    import subprocess
    import sys

    code = ("import sys, omg.spec; bad = {'re', 'typing', 'univers'} & set(sys.modules);"
            "print(sorted(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
