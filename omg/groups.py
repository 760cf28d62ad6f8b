"""Groups: named lists of specs in the config file, used wherever a command takes specs.

``[groups] dev = ["node@22", "python@3.12", "aur/foo", "@web"]``, then
``omg install @dev`` (or ``group:dev``) and ``omg use @dev`` name its members, in
order; a member may name another group, expanded in place. Expanded on the client, so
omgd only ever sees plain specs. Pure: the caller passes the ``[groups]`` table.
"""

from __future__ import annotations

from store.errors import NotFound, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: How an argument names a group: ``@dev`` (short) or ``group:dev`` (unambiguous in scripts).
PREFIXES = ("@", "group:")


def group_of(arg: str) -> str | None:
    """The group an argument names (``@dev``, ``group:dev`` -> ``dev``), else None."""
    for prefix in PREFIXES:
        if arg.startswith(prefix):
            return arg[len(prefix):]
    return None


def names_groups(args: Sequence[str]) -> bool:
    return any(group_of(a) is not None for a in args)


def expand(args: Sequence[str], groups: Mapping[str, Sequence[str]]) -> list[str]:
    """`args` with every group replaced by its members (recursively), in order; a spec
    named twice is kept once, where it first appears. Unknown group: NotFound naming
    those there are; a group that contains itself: UsageError naming the cycle."""
    out: list[str] = []

    def visit(arg: str, path: tuple[str, ...]) -> None:
        name = group_of(arg)
        if name is None:
            if arg not in out:
                out.append(arg)
            return
        if name in path:
            raise UsageError(f"group cycle: {' -> '.join('@' + n for n in (*path, name))}",
                             hint="a group may name other groups, never itself")
        members = groups.get(name)
        if members is None:
            from omg.config import valid_group_name

            key = name if valid_group_name(name) else "NAME"
            raise NotFound(f"unknown group {name!r} (groups: "
                           f"{', '.join(sorted(groups)) or 'none defined'})",
                           hint=f"omg config set groups.{key} "
                                "'[\"node@22\", \"python@3.12\"]' (docs/config.md)")
        for member in members:
            visit(member, (*path, name))

    for arg in args:
        visit(arg, ())
    return out


def expand_configured(args: Sequence[str]) -> list[str]:
    """`expand` with the ``[groups]`` of the config files (loaded only when a group is
    named: `omg use node@22` reads no config for this)."""
    if not names_groups(args):
        return list(args)
    from omg import config

    return expand(args, config.load().raw.get("groups", {}))
