"""Profile envs, built: a planned forest becomes a store path (invariant 1 for envs).

The forest (relative links into the tools' store paths, plus the manifest and
the env files the shell integration sources) is written into a private staging
area of the store and added like any other directory with `LocalStore.add`,
naming the tools' store paths as references and as the only paths its links
may point into (``links_into``). So an env is
hashed, deduplicated, sealed, recorded, renamed into place and indexed by the
store's own ingest; a crash leaves only staging debris, which the next ingest
removes. The same plan always gives the same tree, hence the same env path.

The caller holds ``gc_guard()`` shared from resolving the tools until the new
generation link exists, so the collector never sees the env unrooted.
"""

from __future__ import annotations

import os
from pathlib import Path

from generations.env import ENV_NAME, HOMES_DIR, EnvPlan, env_scripts, launcher_script
from generations.manifest import MANIFEST_NAME
from store.claims import UNCLAIMED, Claim
from store.index import Index
from store.ingest import staging_area
from store.layout import Layout
from store.local import LocalStore

ENV_ORIGIN = {"kind": "profile-env"}
#: An env is found by its plan (the catalogue checks its manifest), never by name.
ENV_CLAIM = Claim(UNCLAIMED, "")


def build_env(layout: Layout, index: Index, plan: EnvPlan) -> str:
    """Make sure the env for `plan` is in the store; return its store path name."""
    store = LocalStore(layout, index=index)  # not closed: the index is the caller's
    with staging_area(layout) as (_work_id, work):
        root = work / "env"
        materialise(root, plan)
        result = store.add(root, ENV_NAME, plan.version_label, references=plan.references,
                           links_into=plan.references, origin=dict(ENV_ORIGIN),
                           claim=ENV_CLAIM)
    return result.record.path


def materialise(root: Path, plan: EnvPlan) -> None:
    """Write the forest of `plan`, its manifest and env files under `root` (not existing).

    ``tools/<tool>`` links to a whole tool store path, for variables such as
    JAVA_HOME that name a tool's home through the profile (see generations/env.py).
    """
    root.mkdir()
    for d in plan.dirs:
        (root / d).mkdir(parents=True, exist_ok=True)
    for rel, target in plan.links.items():
        os.symlink(target, root / rel)
    for rel, target in plan.launchers.items():
        (root / rel).write_bytes(launcher_script(target))
        os.chmod(root / rel, 0o755)
    if plan.homes:
        (root / HOMES_DIR).mkdir()
        for tool, target in sorted(plan.homes.items()):
            os.symlink(target, root / HOMES_DIR / tool)
    for name, data in env_scripts(plan.env).items():
        (root / name).write_bytes(data)
    (root / MANIFEST_NAME).write_bytes(plan.manifest_bytes())
