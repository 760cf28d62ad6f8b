"""The `omg search` fast path answers exactly as the typer CLI (the reference) does.

Ranking is checked against a straight transcription of the rule (rank every line,
then one sort) with hypothesis; whole commands against the CLI over the real
repo-add db and the local AUR.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omg import config, locate
from omg.arch import aur, fastconfig, search, searchindex
from omg.daemon import wire as daemon_wire
from store import index as store_index
from tests.arch.conftest import ArchWorld
from tests.conftest import OmgEnv

# Letters whose lower-casing is special: final sigma, dotted capital I (longer lower).
ALPHABET = "abcyhnoptPYTHON-_ .Σσİ"
words = st.text(ALPHABET, min_size=1, max_size=12)
descs = st.text(ALPHABET + "\t\n", max_size=30)
AUR_ROWS = st.lists(st.tuples(words, st.just("1.0-1"), descs, st.integers(0, 5),
                              st.sampled_from([0.0, 0.5, 1.5]), st.booleans()), max_size=6)


Pkg = tuple[str, str, str, list[str]]  # name, version, description, provides


def reference(repos: list[tuple[str, list[Pkg]]],
              aur_rows: list[aur.AurRow], terms: list[str]) -> list[tuple[Any, ...]]:
    """The rule as first written: rank each line in db order, then one sort."""
    terms = [t.lower() for t in terms if t]
    hits: list[tuple[Any, ...]] = []
    order = {name: i for i, (name, _) in enumerate(repos)}
    for repo, pkgs in repos:
        for name, version, desc, provides in pkgs:
            r = search._rank(name, desc, terms, provides)
            if r is not None:
                hits.append((repo, name, version, desc, None, False, None, None, False, r))
    seen = {h[1] for h in hits}
    for name, version, desc, votes, pop, ood in aur_rows:
        r = search._rank(name, desc, terms)
        if r is not None and name not in seen:
            hits.append(("aur", name, version, desc, None, False, votes, pop, ood, r))
    big = len(order)
    hits.sort(key=lambda h: (h[9], order.get(h[0], big), -(h[7] or 0.0), -(h[6] or 0), h[1]))
    return hits


def clean(s: str) -> str:
    return s.replace("\t", " ").replace("\n", " ")


@settings(max_examples=300, deadline=None)
@given(repos=st.lists(st.tuples(st.sampled_from(["core", "extra", "aur"]),
                                st.lists(st.tuples(words, words, descs,
                                                   st.lists(words, max_size=2)),
                                         max_size=8)),
                      min_size=1, max_size=3, unique_by=lambda r: r[0]),
       aur_rows=AUR_ROWS,
       terms=st.lists(st.text(ALPHABET + "\t", max_size=4), min_size=1, max_size=3))
def test_ranking_matches_the_rule(repos: list[tuple[str, list[Pkg]]],
                                  aur_rows: list[aur.AurRow], terms: list[str]) -> None:
    cleaned = [(r, [(clean(n), clean(v), clean(d), [clean(p) for p in ps])
                    for n, v, d, ps in pkgs]) for r, pkgs in repos]
    indexes = []
    for repo, pkgs in cleaned:
        pkgs_sorted = sorted(pkgs, key=lambda p: p[0])  # as parse_db stores them
        indexes.append(searchindex.build(repo, "\n".join(
            "\t".join([n, v, d, *ps]) for n, v, d, ps in pkgs_sorted)))
    lowered = [t.lower() for t in terms if t]
    got = search.rank_rows(indexes, aur_rows, lowered, {}, set())
    assert got == reference(cleaned, aur_rows, terms)


@given(st.lists(st.tuples(st.text(), st.text(), st.text(), st.integers(0, 10**6),
                          st.floats(allow_nan=False), st.booleans()), max_size=5))
def test_aur_cache_rows_round_trip(rows: list[aur.AurRow]) -> None:
    data = aur.encode_rows(1000.0, rows)
    assert aur.decode_rows(data, ttl=10, now=1005.0) == rows
    with pytest.raises(aur.CacheMiss):
        aur.decode_rows(data, ttl=10, now=1011.0)  # expired


def test_light_settings_equal_omg_config(tmp_path: Path) -> None:
    base = {"HOME": str(tmp_path / "h"), "XDG_CONFIG_HOME": str(tmp_path / "nocfg")}
    variants = [
        {},
        {"OMG_HOME": str(tmp_path / "omg")},
        {"XDG_DATA_HOME": str(tmp_path / "data")},
        {"OMG_HOME": "rel/home", "OMG_PACMAN_CONF": "/x/pacman.conf",
         "OMG_PACMAN_DBPATH": "/x/db", "OMG_AUR_URL": "http://h/"},
    ]
    for extra in variants:
        env = {**base, **extra}
        light = fastconfig.load(env)
        assert light is not None
        full = config.load(env)
        assert light.home == str(full.home)
        from omg.arch.settings import from_raw

        arch = from_raw(full.home, dict(full.raw), env)
        assert (light.pacman_conf, light.dbpath, light.aur_url, light.aur_ttl) == (
            str(arch.pacman_conf), arch.dbpath, arch.aur_url, arch.aur_ttl)
        assert fastconfig.default_socket(light, env) == str(
            daemon_wire.default_socket(full.home, dict(full.raw), env))
    cfg = tmp_path / "omg.toml"
    cfg.write_text('[arch]\naur_url = "http://cfg"\n[daemon]\nsocket = "/s.sock"\n')
    env = {**base, "OMG_CONFIG": str(cfg)}
    assert fastconfig.load(env) is None  # omg.config reads config files
    from_cfg = fastconfig.from_config(config.load(env), env)
    assert from_cfg.aur_url == "http://cfg"
    assert fastconfig.default_socket(from_cfg, env) == "/s.sock"
    assert fastconfig.load({**base, "OMG_MAX_FILES": "x"}) is None
    assert fastconfig.load({**base, "OMG_AUR_TTL": "5"}) is None  # omg.config checks it


def test_copied_constants_agree() -> None:
    """The index format is checked without msgpack, against its packed bytes."""
    assert store_index.pack(store_index.INDEX_FORMAT) == store_index.PACKED_FORMAT


def cli_reference(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The typer CLI's `omg search`, never the fast path."""
    code = "import sys; from omg.cli import run; sys.exit(run(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, "search", *args], env=env,
                          capture_output=True, text=True)


def test_fast_path_answers_as_the_cli(world: ArchWorld, aenv: OmgEnv) -> None:
    aenv.run("search", "python", check=True)  # index and AUR cache filled
    aenv.run("search", "thing", check=True)
    aenv.run("search", "^python-", check=True)
    code = ("import sys; from omg.arch import fastsearch; rc = fastsearch.run(sys.argv[1:]); "
            "print('RC', rc, file=sys.stderr); sys.exit(rc)")
    for args in (["python"], ["PYTHON", "--repo"], ["python", "--json"], ["thing"],
                 ["python", "tool"], ["repolib", "--json", "--repo"], ["nomatch", "--repo"],
                 ["virtual-lib", "--repo"], ["^python-"], ["^PYTHON-.*TOOL$", "--repo"]):
        fast = subprocess.run([sys.executable, "-c", code, "search", *args], env=aenv.env,
                              capture_output=True, text=True)
        assert "RC None" not in fast.stderr, args  # answered, not handed over
        ref = cli_reference(aenv.env, *args)
        assert (fast.stdout, fast.returncode) == (ref.stdout, ref.returncode), args
        if "--json" in args:
            assert json.loads(fast.stdout)


def test_warm_search_imports_little(world: ArchWorld, aenv: OmgEnv) -> None:
    if os.path.exists(locate.SYSTEM_CONFIG):
        pytest.skip(f"{locate.SYSTEM_CONFIG} exists: omg.config reads it")
    aenv.run("search", "python", check=True)
    code = ("import sys; from omg.arch import fastsearch; rc = fastsearch.run(['search', "
            "'python']); print('RC', rc, sorted({m.split('.')[0] for m in sys.modules} & "
            "{'typer', 'rich', 'httpx', 'pyalpm', 'typing', 'pathlib', 'msgpack', 'json', "
            "'store'} - {'store'}), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], env=aenv.env, capture_output=True,
                          text=True, check=True)
    assert "RC 0 []" in proc.stderr


def test_aur_cache_expires(world: ArchWorld, aenv: OmgEnv) -> None:
    aenv.run("search", "python", check=True)
    before = len(world.aur.requests)
    aenv.run("search", "python", check=True)
    assert len(world.aur.requests) == before  # cached
    expired = aenv.run("search", "python", check=True, extra_env={"OMG_AUR_TTL": "0"})
    assert len(world.aur.requests) == before + 1  # asked again
    assert "aur/python-aurbig" in expired.stdout


def test_search_with_the_aur_down_answers_from_the_repositories(world: ArchWorld,
                                                                aenv: OmgEnv) -> None:
    aenv.env["OMG_AUR_URL"] = "http://127.0.0.1:9"  # refused
    first = aenv.run("search", "python")
    assert first.returncode == 0 and "AUR unreachable" in first.stderr
    assert "testrepo/python-repotool" in first.stdout and "aur/" not in first.stdout
    code = ("import sys; from omg.arch import fastsearch; rc = fastsearch.run(sys.argv[1:]); "
            "print('RC', rc, file=sys.stderr); sys.exit(rc)")
    fast = subprocess.run([sys.executable, "-c", code, "search", "python"], env=aenv.env,
                          capture_output=True, text=True)
    assert "RC 0" in fast.stderr  # answered on the fast path, not handed to the CLI
    assert "did not answer" in fast.stderr and fast.stdout == first.stdout


def test_completion_names_repository_packages(world: ArchWorld, aenv: OmgEnv) -> None:
    aenv.run("search", "python", check=True)  # the search index is made
    asked = len(world.aur.requests)
    for words in (["search", "python-r"], ["info", "python-r"], ["remove", "pyth"],
                  ["install", "python-r"]):
        out = aenv.run("__complete", "bash", *words, check=True)
        assert "python-repotool" in [ln.split("\t")[0] for ln in out.stdout.splitlines()]
    assert aenv.run("__complete", "bash", "search", "p", check=True).stdout == ""
    tools = aenv.run("__complete", "bash", "install", "pyth", check=True).stdout.splitlines()
    assert tools[0] == "python@\tCPython"  # the tool first, then the packages
    assert "python-repotool" in [ln.split("\t")[0] for ln in tools[1:]]
    assert len(world.aur.requests) == asked  # a TAB never asks the AUR
