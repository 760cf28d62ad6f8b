"""The omg.lock format (omg/lockfile.py), pure: round trips, byte stability, refusals."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omg import lockfile as L
from store.errors import FormatTooNew, UsageError

# Text a lock may hold: any Unicode but surrogates (which no file's UTF-8 decodes to).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
NAMES = st.one_of(st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True), TEXT.filter(bool))
SHA = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
ARTIFACT = st.builds(L.Artifact, TEXT, SHA, TEXT)
TARGET = st.builds(L.Target, NAMES, st.lists(ARTIFACT, min_size=1, max_size=3), TEXT)
TOOL = st.builds(L.Tool, NAMES, TEXT, TEXT, TEXT,
                 st.lists(TARGET, max_size=3, unique_by=lambda t: t.platform))
PACKAGE = st.builds(L.Package, NAMES, TEXT, TEXT, TEXT)
LOCK = st.builds(L.Lock, st.lists(TOOL, max_size=3, unique_by=lambda t: t.tool),
                 st.lists(PACKAGE, max_size=2, unique_by=lambda p: p.name))


@given(LOCK)
def test_write_read_round_trip_is_byte_stable(lock: L.Lock) -> None:
    text = L.dumps(lock)
    back = L.loads(text)
    assert back == L.normalized(lock)
    assert L.dumps(back) == text
    tomllib.loads(text)  # any TOML reader reads it


@given(LOCK, st.randoms())
def test_the_order_given_does_not_change_the_bytes(lock: L.Lock, rnd: object) -> None:
    import random

    assert isinstance(rnd, random.Random)
    tools = [t._replace(targets=rnd.sample(t.targets, len(t.targets))) for t in lock.tools]
    shuffled = L.Lock(rnd.sample(tools, len(tools)), rnd.sample(lock.packages,
                                                                len(lock.packages)))
    assert L.dumps(shuffled) == L.dumps(lock)
    assert L.fingerprint(shuffled, "linux-x64-gnu") == L.fingerprint(lock, "linux-x64-gnu")


def _lock(sha: str = "a" * 64, store_path: str = "") -> L.Lock:
    return L.Lock([L.Tool("node", "20", ".node-version", "20.12.0", [
        L.Target("linux-x64-gnu", [L.Artifact("https://x/node.tar.xz", sha)], store_path)])])


def test_the_fingerprint_follows_what_is_installed_not_where_it_came_from() -> None:
    base = L.fingerprint(_lock(), "linux-x64-gnu")
    assert base == L.fingerprint(_lock()._replace(tools=[_lock().tools[0]._replace(
        spec="20.12", file=".tool-versions")]), "linux-x64-gnu")
    assert base != L.fingerprint(_lock(sha="b" * 64), "linux-x64-gnu")
    assert base != L.fingerprint(_lock(store_path="x-node-20.12.0"), "linux-x64-gnu")
    assert base != L.fingerprint(_lock(), "linux-arm64-gnu")
    assert len(base) == 64 and int(base, 16) >= 0


@pytest.mark.parametrize(("text", "why"), [
    ("format = 1\n[tools.node]\nspec = 3\n", "tools.node: `spec` is missing or not a string"),
    ('format = 1\n[tools.node]\nspec = "20"\nfile = "f"\nversion = "1"\n'
     '[tools.node.platforms.p]\nartifacts = []\n', "tools.node.platforms.p: no artifacts"),
    ('format = 1\n[tools.node]\nspec = "20"\nfile = "f"\nversion = "1"\n'
     '[tools.node.platforms.p]\nartifacts = [{url = "u", sha256 = "XYZ"}]\n',
     "tools.node.platforms.p: 'XYZ' is not a sha256"),
    ("tools = 1\n", "no `format = 1`"),
    ("format = 1\ntools = 3\n", "`tools` is not a table"),
    ("format = [\n", "Invalid value"),
])
def test_malformed_locks_are_usage_errors_naming_the_file(text: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        L.loads(text, "/p/omg.lock")
    assert info.value.message.startswith("/p/omg.lock: not a valid lock file: ")
    assert why in info.value.message


def test_a_newer_format_is_refused_not_misread() -> None:
    with pytest.raises(FormatTooNew) as info:
        L.loads("format = 2\n[tools.node]\nwhatever = true\n", "omg.lock")
    assert info.value.exit_code == 5 and info.value.hint == "upgrade omg"
