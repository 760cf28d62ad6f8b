"""A hypothesis state machine over use/rollback/delete/gc/store add: invariants 2 and 3.

`use` and `rollback` run, at hypothesis' choice, as the hot commands' door runs them
(omg/fast.py: no copy of generation records in the index) or as the typer CLI does;
both are the same use cases, answered from the catalogue when it knows the answer.
After every step: the profile link points at a generation whose env is complete
(every link resolves into the store), numbers are never reused, and every
generation's closure (and every gcroot's) is still in the store.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from generations import profile as gp
from omg import profiles as P
from store.errors import NotFound, OmgError

from .helpers import USER, World

VERSIONS = ["1.0.0", "1.1.0", "2.0.0"]
TOOLS = ["node", "python"]
PROFILES = ["default", "work"]
profiles_st = st.sampled_from(PROFILES)


class Profiles(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="omg-sm-"))
        self.w = World(self.tmp)
        self.added: set[tuple[str, str]] = set()
        # per profile: every generation number ever created, and those deleted
        self.issued: dict[str, list[int]] = {p: [] for p in PROFILES}
        self.deleted: dict[str, set[int]] = {p: set() for p in PROFILES}
        self.counter = 0

    def teardown(self) -> None:
        self.w.close()
        subprocess.run(["chmod", "-R", "u+w", str(self.tmp)], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def ref(self, profile: str = "default") -> gp.ProfileRef:
        return self.w.home.ref(profile)

    @rule(tool=st.sampled_from(TOOLS), version=st.sampled_from(VERSIONS))
    def store_add(self, tool: str, version: str) -> None:
        self.counter += 1
        exes = [tool, "shared"] if version != "2.0.0" else [tool]
        self.w.add(tool, version, exes, extra={f"lib/{tool}/n{self.counter % 2}": "x"})
        self.added.add((tool, version))

    @rule(tool=st.sampled_from(TOOLS), spec=st.sampled_from(["1", "2", "latest", "1.1.0"]),
          profile=profiles_st, door=st.booleans())
    def use(self, tool: str, spec: str, profile: str, door: bool) -> None:
        try:
            r = P.use(self.home(door), [f"{tool}@{spec}"], profile=profile)
        except NotFound:
            return
        generation, unchanged = r.generation, r.unchanged
        issued = self.issued[profile]
        if not unchanged:
            assert not issued or generation > max(issued)
            issued.append(generation)

    def home(self, door: bool) -> P.Home:
        """The World's Home, or one as the door makes it (mirror=False), on the same index."""
        if not door:
            return self.w.home
        return P.Home(self.w.layout, USER, index=self.w.store.index, mirror=False)

    @rule(profile=profiles_st, door=st.booleans())
    def rollback(self, profile: str, door: bool) -> None:
        with contextlib.suppress(NotFound):
            P.rollback(self.home(door), profile=profile)

    @rule(data=st.data())
    @precondition(lambda self: bool(self.issued["default"]))
    def rollback_to(self, data: st.DataObject) -> None:
        n = data.draw(st.sampled_from(self.issued["default"]))
        try:
            P.rollback(self.w.home, to=n)
        except NotFound:
            assert n in self.deleted["default"]
        else:
            assert gp.current_number(self.ref()) == n

    @rule(data=st.data(), profile=profiles_st)
    def delete(self, data: st.DataObject, profile: str) -> None:
        if not self.issued[profile]:
            return
        n = data.draw(st.sampled_from(self.issued[profile]))
        cur = gp.current_number(self.ref(profile))
        try:
            P.delete_generations(self.w.home, [n], profile=profile)
        except OmgError:
            assert n == cur or n in self.deleted[profile]
        else:
            assert n != cur
            self.deleted[profile].add(n)

    @rule(keep=st.integers(0, 3), profile=profiles_st)
    def delete_keep(self, keep: int, profile: str) -> None:
        if not self.issued[profile]:
            return
        r = P.delete_generations(self.w.home, keep=keep, profile=profile)
        assert gp.current_number(self.ref(profile)) not in r.deleted
        self.deleted[profile] |= set(r.deleted)

    @rule(dry=st.booleans())
    def gc(self, dry: bool) -> None:
        P.gc(self.w.layout, dry_run=dry, store=self.w.store)
        if not dry:
            live = {(r.name, r.version) for r in self.w.store.records()}
            self.added &= live

    @invariant()
    def profile_points_at_a_complete_generation(self) -> None:
        for profile in PROFILES:
            cur = gp.current_number(self.ref(profile))
            if not self.issued[profile]:
                assert cur is None
                continue
            assert cur in self.issued[profile] and cur not in self.deleted[profile]
            env = self.w.layout.profiles / USER / profile
            assert (env / "manifest.json").is_file()
            for dirpath, dirnames, filenames in os.walk(env):
                for name in dirnames + filenames:
                    full = os.path.join(dirpath, name)
                    assert os.path.exists(full), f"dangling {full}"

    @invariant()
    def numbers_are_not_lost_or_reused(self) -> None:
        for profile in PROFILES:
            on_disk = [g.number for g in gp.generations(self.ref(profile))]
            assert on_disk == sorted(set(self.issued[profile]) - self.deleted[profile])

    @invariant()
    def every_root_closure_is_in_the_store(self) -> None:
        names = set(self.w.store.names())
        for ref in gp.all_profiles(self.w.layout):
            for g in gp.generations(ref):
                assert g.env in names
                assert self.w.store.closure([g.env]) <= names


Profiles.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestProfiles = Profiles.TestCase
