"""A hypothesis state machine over use/rollback/delete/gc/store add: invariants 2 and 3.

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
from store.errors import NotFound

from .helpers import USER, World

VERSIONS = ["1.0.0", "1.1.0", "2.0.0"]
TOOLS = ["node", "python"]


class Profiles(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="omg-sm-"))
        self.w = World(self.tmp)
        self.added: set[tuple[str, str]] = set()
        self.issued: list[int] = []  # every generation number ever created, in order
        self.deleted: set[int] = set()
        self.counter = 0

    def teardown(self) -> None:
        self.w.close()
        subprocess.run(["chmod", "-R", "u+w", str(self.tmp)], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def ref(self) -> gp.ProfileRef:
        return self.w.home.ref()

    @rule(tool=st.sampled_from(TOOLS), version=st.sampled_from(VERSIONS))
    def store_add(self, tool: str, version: str) -> None:
        self.counter += 1
        exes = [tool, "shared"] if version != "2.0.0" else [tool]
        self.w.add(tool, version, exes, extra={f"lib/{tool}/n{self.counter % 2}": "x"})
        self.added.add((tool, version))

    @rule(tool=st.sampled_from(TOOLS), spec=st.sampled_from(["1", "2", "latest", "1.1.0"]))
    def use(self, tool: str, spec: str) -> None:
        try:
            r = P.use(self.w.home, [f"{tool}@{spec}"])
        except NotFound:
            return
        if not r.unchanged:
            assert not self.issued or r.generation > max(self.issued)
            self.issued.append(r.generation)

    @rule()
    def rollback(self) -> None:
        with contextlib.suppress(NotFound):
            P.rollback(self.w.home)

    @rule(data=st.data())
    @precondition(lambda self: bool(self.issued))
    def rollback_to(self, data: st.DataObject) -> None:
        n = data.draw(st.sampled_from(self.issued))
        try:
            P.rollback(self.w.home, to=n)
        except NotFound:
            assert n in self.deleted
        else:
            assert gp.current_number(self.ref) == n

    @rule(data=st.data())
    @precondition(lambda self: bool(self.issued))
    def delete(self, data: st.DataObject) -> None:
        n = data.draw(st.sampled_from(self.issued))
        cur = gp.current_number(self.ref)
        try:
            P.delete_generations(self.w.home, [n])
        except Exception:
            assert n == cur or n in self.deleted
        else:
            assert n != cur
            self.deleted.add(n)

    @rule(dry=st.booleans())
    def gc(self, dry: bool) -> None:
        P.gc(self.w.layout, dry_run=dry, store=self.w.store)
        if not dry:
            live = {(r.name, r.version) for r in self.w.store.records()}
            self.added &= live

    @invariant()
    def profile_points_at_a_complete_generation(self) -> None:
        cur = gp.current_number(self.ref)
        if not self.issued:
            assert cur is None
            return
        assert cur is not None and cur in self.issued and cur not in self.deleted
        env = self.w.layout.profiles / USER / "default"
        assert (env / "manifest.json").is_file()
        for dirpath, dirnames, filenames in os.walk(env):
            for name in dirnames + filenames:
                full = os.path.join(dirpath, name)
                assert os.path.exists(full), f"dangling {full}"

    @invariant()
    def numbers_are_not_lost_or_reused(self) -> None:
        on_disk = [g.number for g in gp.generations(self.ref)]
        assert on_disk == sorted(set(self.issued) - self.deleted)

    @invariant()
    def every_root_closure_is_in_the_store(self) -> None:
        names = set(self.w.store.names())
        for ref in gp.all_profiles(self.w.layout):
            for g in gp.generations(ref):
                assert g.env in names
                assert self.w.store.closure([g.env]) <= names


Profiles.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
TestProfiles = Profiles.TestCase
