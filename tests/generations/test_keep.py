"""What `omg gc` expires besides store paths: generations (`--older-than`, the keep
policy of ``[gc]``) and the download cache (omg/cache_prune.py). Pure planning with
hypothesis; the whole through the CLI."""

from __future__ import annotations

import json
import os
import time

from hypothesis import given
from hypothesis import strategies as st

from generations.keep import DAY, KeepPolicy, expired
from omg.cache_prune import CachedFile, CachePolicy, plan
from tests.conftest import OmgEnv

from .helpers import cli_add

NOW = 1_000_000_000.0
gens_st = st.lists(st.floats(min_value=0, max_value=NOW), max_size=30).map(
    lambda times: [(i + 1, t) for i, t in enumerate(times)])


@given(gens_st, st.integers(0, 10), st.floats(0, 20_000), st.data())
def test_the_keep_policy_keeps_what_any_rule_keeps(gens: list[tuple[int, float]], keep: int,
                                                    days: float, data: st.DataObject) -> None:
    current = data.draw(st.sampled_from([None] + [n for n, _ in gens]))
    doomed = expired(gens, current, NOW, policy=KeepPolicy(keep, days))
    assert current not in doomed
    assert set(doomed) <= {n for n, _ in gens} and doomed == sorted(doomed)
    if not keep and not days:
        assert doomed == []
        return
    newest = sorted(n for n, _ in gens)[-keep:] if keep else []
    for n, t in gens:
        if n in newest or t >= NOW - days * DAY:
            assert n not in doomed  # some rule keeps it
        elif n != current:
            assert n in doomed


@given(gens_st, st.floats(0, NOW))
def test_older_than_deletes_exactly_the_older_ones(gens: list[tuple[int, float]],
                                                   age: float) -> None:
    current = gens[-1][0] if gens else None
    doomed = expired(gens, current, NOW, older_than=age)
    assert doomed == sorted(n for n, t in gens if t < NOW - age and n != current)


files_st = st.lists(st.tuples(st.integers(0, 10_000), st.floats(0, NOW)), max_size=40).map(
    lambda rows: [CachedFile(f"/c/{i}", size, used) for i, (size, used) in enumerate(rows)])


@given(files_st, st.floats(0, 1000), st.integers(0, 200_000))
def test_cache_pruning_by_age_then_least_recently_used(files: list[CachedFile], days: float,
                                                       max_bytes: int) -> None:
    doomed = plan(files, NOW, CachePolicy(days, max_bytes))
    kept = [f for f in files if f not in doomed]
    assert len(set(doomed)) == len(doomed)
    if days:
        assert all(f.used >= NOW - days * DAY for f in kept)
    if max_bytes:
        assert sum(f.size for f in kept) <= max_bytes
        # By size, the least recently used go first: nothing kept is older than what went.
        by_size = [f for f in doomed if not days or f.used >= NOW - days * DAY]
        if by_size and kept:
            assert max(f.used for f in by_size) <= min(f.used for f in kept)
    if not days and not max_bytes:
        assert doomed == []


def _generation_times(env: OmgEnv, when: dict[int, float]) -> None:
    """Back-date generation records (their `time`), as if made days ago."""
    import pwd

    d = env.home / "profiles" / pwd.getpwuid(os.getuid()).pw_name
    for n, t in when.items():
        rec = d / f"default-{n}.json"
        data = json.loads(rec.read_text())
        data["time"] = t
        os.chmod(rec, 0o644)
        rec.write_text(json.dumps(data))


def test_gc_dry_run_lists_the_generations_and_paths_older_than(omg_env: OmgEnv) -> None:
    for v in ("1.0", "2.0", "3.0"):
        cli_add(omg_env, "tool", v)
        omg_env.run("use", f"tool@{v}", check=True)
    _generation_times(omg_env, {1: time.time() - 10 * DAY, 2: time.time() - 9 * DAY})
    before = omg_env.run("generations", "--json", check=True).stdout
    out = omg_env.run("gc", "--older-than", "9.5d", "--dry-run", check=True).stdout.splitlines()
    assert out[0].startswith("would delete generation 1 of ")
    assert any(line.endswith("-tool-1.0") and line.startswith("would delete /") for line in out)
    assert not any("tool-2.0" in line for line in out)
    assert omg_env.run("generations", "--json", check=True).stdout == before  # nothing changed
    real = omg_env.run("gc", "--older-than", "9.5d", check=True).stdout
    assert "deleted generation 1 of " in real and "-tool-1.0" in real


def test_the_keep_policy_applies_on_every_gc(omg_env: OmgEnv) -> None:
    for v in ("1.0", "2.0", "3.0", "4.0"):
        cli_add(omg_env, "tool", v)
        omg_env.run("use", f"tool@{v}", check=True)
    omg_env.run("config", "set", "gc.keep_generations", "2", check=True)
    data = json.loads(omg_env.run("gc", "--json", check=True).stdout)
    assert [g["generation"] for g in data["deleted_generations"]] == [1, 2]
    assert sorted(p["name"].split("-", 1)[1] for p in data["dead"]) == ["profile-tool-1.0",
                                                                 "profile-tool-2.0",
                                                                 "tool-1.0", "tool-2.0"]
    gens = json.loads(omg_env.run("generations", "--json", check=True).stdout)
    assert [g["number"] for g in gens] == [3, 4]
    bad = omg_env.run("config", "set", "gc.keep_days", "-1")
    assert bad.returncode == 2


def test_gc_prunes_the_download_cache(omg_env: OmgEnv) -> None:
    downloads = omg_env.home / "cache" / "downloads"
    partial = omg_env.home / "cache" / "partial"
    downloads.mkdir(parents=True)
    partial.mkdir(parents=True)
    old, fresh, stuck = downloads / "aa-node-old.tar.xz", downloads / "bb-node-new.tar.xz", \
        partial / "cc.part"
    for f, size in ((old, 3000), (fresh, 5000), (stuck, 100)):
        f.write_bytes(b"x" * size)
    long_ago = time.time() - 40 * DAY
    os.utime(old, (long_ago, long_ago))
    os.utime(stuck, (time.time() - 2 * DAY, time.time() - 2 * DAY))
    dry = omg_env.run("gc", "--dry-run", check=True).stdout
    assert "download cache: 2 files would be removed" in dry and old.exists()
    out = omg_env.run("gc", check=True).stdout
    assert "download cache: 2 files removed, 3.0 KiB freed" in out
    assert not old.exists() and not stuck.exists() and fresh.exists()
    omg_env.run("config", "set", "gc.cache_max_bytes", "1000", check=True)
    assert "download cache: 1 file removed" in omg_env.run("gc", check=True).stdout
    assert not fresh.exists()
