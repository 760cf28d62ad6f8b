"""`omg search` matches as pacman -Ss does: name, description and (repo packages) the
names they provide; terms with regex characters are POSIX extended regexes,
case-insensitive. The AUR is asked for the plain part of a pattern."""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omg.arch import search, searchindex
from omg.arch.pacmanconf import parse
from store.errors import UsageError
from store.index import Index
from tests.arch.conftest import ArchWorld
from tests.conftest import OmgEnv
from tests.schema import check


def found(aenv: OmgEnv, *args: str) -> list[tuple[str, str, int]]:
    proc = aenv.run("search", *args, "--json")
    assert proc.returncode in (0, 1), proc.stderr
    return [(h["repo"], h["name"], h["rank"]) for h in check("search", proc.stdout)]


def test_provides_match_repo_packages(world: ArchWorld, aenv: OmgEnv) -> None:
    """pacman -Ss virtual-lib finds repolib, which provides virtual-lib=1.0."""
    assert found(aenv, "virtual-lib", "--repo") == [("testrepo", "repolib", 3)]
    text = aenv.run("search", "virtual-lib", "--repo", check=True).stdout
    assert text == "testrepo/repolib 1.0-1\n    a library in the repo\n"  # desc, not provides
    assert found(aenv, "virtual-lib=1.0", "--repo") == []  # the name only, as pacman


def test_regex_terms(world: ArchWorld, aenv: OmgEnv) -> None:
    assert found(aenv, "^python-") == [("testrepo", "python-repotool", 1),
                                       ("aur", "python-aurbig", 1),
                                       ("aur", "python-aursmall", 1)]
    assert "/rpc/v5/search/python-?by=name-desc" in world.aur.requests  # its plain part
    assert found(aenv, "^PYTHON$", "--repo") == [("testrepo", "python", 0)]
    assert found(aenv, "thing$") == [("aur", "python-aurbig", 3),
                                     ("aur", "python-aursmall", 3)]
    assert found(aenv, "python-aur[[:alpha:]]+$") == [("aur", "python-aurbig", 0),
                                                      ("aur", "python-aursmall", 0)]
    assert found(aenv, "aur[[:alpha:]]+$") == [("aur", "python-aurbig", 2),
                                               ("aur", "python-aursmall", 2)]
    assert found(aenv, "^virtual-l.b$", "--repo") == [("testrepo", "repolib", 3)]
    # several terms: each must match (AND), regex or not
    assert found(aenv, "^python", "tool") == [("testrepo", "python-repotool", 2)]


def test_a_pattern_without_a_plain_part(world: ArchWorld, aenv: OmgEnv) -> None:
    before = len(world.aur.requests)
    proc = aenv.run("search", "^(repo|python)l")
    assert proc.returncode == 0 and proc.stdout.startswith("testrepo/repolib 1.0-1\n")
    assert proc.stderr == f"warning: {search.NO_AUR_TERM}\n"
    assert len(world.aur.requests) == before


def test_invalid_regex_is_a_usage_error(world: ArchWorld, aenv: OmgEnv) -> None:
    proc = aenv.run("search", "foo(")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == (
        "error: invalid regular expression 'foo(': missing ), unterminated subpattern")


@pytest.mark.parametrize(("pattern", "literal"), [
    ("^python3-dj", "python3-dj"), ("foo.*barbaz", "barbaz"), ("colou?r-x", "colo"),
    ("lib[0-9]+-tools", "-tools"), (r"c\+\+-lib", "c++-lib"), ("(ab|cd)efg", "efg"),
    ("ab|cd", ""), (r"\w+thing", "thing"), ("x{2,3}yz", "yz"), ("^.$", ""),
    ("[^]a]bc", "bc"), (r"[a\]x]yz", "yz"), ("[]x]-abc", "-abc"),
])
def test_the_plain_part_of_a_pattern(pattern: str, literal: str) -> None:
    assert search.aur_term(search.prepare([pattern])) == literal


def test_prepare() -> None:
    plain, pattern = search.prepare(["PyThon", "^Py[[:digit:]]"])
    assert plain == "python" and not isinstance(pattern, str)
    assert pattern.search("py3") and pattern.search("PY3") and not pattern.search("pyx")
    with pytest.raises(UsageError, match="invalid regular expression"):
        search.prepare(["*x"])


def test_an_index_of_the_old_format_is_rebuilt(world: ArchWorld, tmp_path: os.PathLike[str],
                                               ) -> None:
    db = os.path.join(tmp_path, "db")
    os.makedirs(os.path.join(db, "sync"))
    shutil.copy(world.dbpath / "sync" / "testrepo.db", os.path.join(db, "sync", "testrepo.db"))
    conf = parse(None, f"[options]\nDBPath = {db}\n[testrepo]\n")
    ((_repo, _path, want),) = searchindex.sync_dbs(conf, None)
    old = want.replace(f"{searchindex.FORMAT}\0".encode(), b"3\0", 1)
    with Index(os.path.join(tmp_path, "index")) as index:
        searchindex.raw_put(index, searchindex.TABLE, {
            b"stamp:testrepo": old, b"text:testrepo": b"repolib\t1.0-1\ta library in the repo",
            b"lower:testrepo": b"repolib\t1.0-1\ta library in the repo"})
        (rows,) = searchindex.load(index, conf, None)
        assert rows.rebuilt and "\tvirtual-lib" in rows.text
        assert searchindex.raw_get(index, searchindex.TABLE, [b"stamp:testrepo"]) == [want]


PIECES = ["^", "$", ".", "a", "b", "y", "p", "py", "[ab]", "o?", "(ab|y)", "-", "\\.", "+",
          "[^]a]", "]", "{1,2}", "*"]


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.tuples(st.text("abpyo-.", min_size=1, max_size=6),
                                st.text("abpyo-. ", max_size=8),
                                st.lists(st.text("abpyo-.", min_size=1, max_size=4),
                                         max_size=2)), max_size=10),
       pattern=st.lists(st.sampled_from(PIECES), min_size=1, max_size=5))
def test_patterns_prefiltered_as_ranked_one_by_one(
        lines: list[tuple[str, str, list[str]]], pattern: list[str]) -> None:
    """The plain-part pre-filter never drops a line the pattern matches."""
    try:
        prepared = search.prepare(["".join(pattern)])
    except UsageError:
        return
    pkgs = sorted(lines)
    index = searchindex.build("core", "\n".join("\t".join([n, "1", d, *ps])
                                                 for n, d, ps in pkgs))
    got = [(row[1], row[9]) for row in search.rank_rows([index], [], prepared, {}, set())]
    want = sorted(((n, r) for n, d, ps in pkgs
                   if (r := search._rank(n, d, prepared, ps)) is not None),
                  key=lambda h: h[1])
    assert got == want
