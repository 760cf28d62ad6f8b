"""Upstream's versions of each tool as omg last read them, for shell completion.

`omg list --remote` and every install read a tool's upstream index; they keep its
versions here (``$XDG_CACHE_HOME/omg/versions/<tool>``, one ``version<TAB>note``
line each, newest first) so that a TAB (omg/completion.py) can offer them without
the index, the config or the network. Per user: in the shared mode the client keeps
what omgd answered.
"""

from __future__ import annotations

import os


def _versions_file(tool: str) -> str:
    from omg.locate import user_cache

    return f"{user_cache()}/versions/{tool}"


def remember_versions(tool: str, rows: list[tuple[str, object]]) -> None:
    """Keep upstream's versions of `tool` (version, LTS name or flag), newest first, for
    TAB: written whenever omg reads the index (`omg list --remote`, an install), read
    by `remembered` without the index, the config or the network. Never fails a command."""
    if "/" in tool or not tool:
        return
    lines = []
    for version, lts in rows:
        note = f"lts {lts}" if isinstance(lts, str) and lts else ("lts" if lts is True else "")
        if "\n" not in version and "\t" not in version:
            lines.append(f"{version}\t{note}\n" if note else f"{version}\n")
    try:
        from store.fsutil import atomic_write

        path = _versions_file(tool)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write(path, "".join(lines).encode(), 0o644, durable=False)
    except OSError:
        pass


def remembered(tool: str) -> list[tuple[str, str]]:
    """(version, note) as `remember_versions` kept them; nothing before the first read."""
    try:
        with open(_versions_file(tool)) as f:
            rows = [line.rstrip("\n").partition("\t") for line in f]
    except OSError:
        return []
    return [(v, note) for v, _, note in rows if v]
