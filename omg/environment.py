"""The environment a set of tools gives: for `omg exec` (tools without a profile) and
`omg env` (a profile's, for scripts and CI that do not run the shell integration).

`exec_env` is the use case: it resolves the specs as `omg use` does (installing what
the store lacks), builds or reuses the env store path those tools make, and keeps it
alive with a temporary root for the calling process (generations/temproots.py), so
a `omg gc` while the command runs cannot delete what it runs. No generation is
made and no profile changes. `environ` turns an env into the variables a process
gets: its ``bin/`` first on PATH, and the tools' own variables (JAVA_HOME, the
writable prefixes) with the env's placeholders filled in.
"""

from __future__ import annotations

import os

from omg.profiles import ResolvedTool
from store.results import SHAPES, Result, many, shaped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from omg.profiles import Check, Home, Resolver


class ExecEnv(Result):
    env: str  # the env store path's name
    tools: list[ResolvedTool]
    root: str  # the temporary root that keeps `env` while the process lives
    warnings: list[str] = []  # what installing a missing version said  # noqa: RUF012


SHAPES[ExecEnv] = {"tools": many(shaped(ResolvedTool))}


def exec_env(home: Home, specs: Sequence[str], *, pid: int,
             resolver: Resolver | None = None, check: Check | None = None) -> ExecEnv:
    """The env of `specs` alone (later wins), rooted while process `pid` lives; `check`
    judges the tools before the env is built (`[policy]`)."""
    from generations.temproots import hold
    from omg.profiles import env_for, resolve, tool_input
    from omg.spec import parse_tool_spec
    from store.errors import UsageError

    parsed = [parse_tool_spec(s) for s in specs]
    if not parsed:
        raise UsageError("nothing to run with: give TOOL@VERSION, e.g. omg exec node@20 -- "
                         "node --version")
    try:
        # Held from choosing the store paths until the root names them (gc's protocol).
        with home.gc_guard():
            resolved = resolve(home, parsed, resolver)
            judged = check(resolved) if check is not None else []
            env, _ = env_for(home, [tool_input(home, t) for t in resolved])
            root = hold(str(home.layout.home), home.user, pid, [env])
    finally:
        home.catalogue.save()
    return ExecEnv(env, resolved, root, judged)


def variables(store_dir: str, env: str, reached_as: str,
              prefix: str | None = None) -> dict[str, str]:
    """The variables env `env` sets, for a process that reaches it as `reached_as`
    (the env itself, or a profile's link to it) and the writable prefix `prefix`."""
    from generations.env import PREFIX, PROFILE
    from generations.manifest import read_manifest

    if prefix is None:
        from omg.providers.base import default_prefix

        prefix = str(default_prefix())
    values = read_manifest(store_dir, env).get("env", {})
    return {name: value.replace(PROFILE, reached_as).replace(PREFIX, prefix)
            for name, value in sorted(values.items())}


def environ(store_dir: str, env: str, reached_as: str,
            base: Mapping[str, str]) -> dict[str, str]:
    """`base` with the env's ``bin/`` first on PATH and its variables set."""
    out = dict(base)
    out.update(variables(store_dir, env, reached_as))
    path = base.get("PATH", os.defpath)
    out["PATH"] = f"{reached_as}/bin" + (f":{path}" if path else "")
    return out
