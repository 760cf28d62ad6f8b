"""What a runtime adds to a profile's ``bin/`` beyond its own bin/ entries.

Upstream layouts do not always put every command in ``bin/``: Bun's release is
one ``/bun`` (its installer makes ``bin/bun`` and the ``bunx`` link), and
python-build-standalone ships ``python3``/``pip3`` but neither ``python`` nor
``pip``. `ALIASES` names those; the profile env links them like the tool's own
executables (generations/env.py `Export`).

`LAUNCHED` names programs that find their own files from the path they were
started by, resolved textually: CPython's prefix. Through a profile (a symlinked
directory) that path is wrong, so the env starts them with a launcher that execs
them by their store path.

Data and one small function, read when `omg use` plans an env: importing the
providers (dataclasses, pathlib, the network code) is not affordable there.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from generations.env import Export, Lister
    from generations.manifest import ToolInput

#: tool -> {command name -> path inside its store path}, linked when bin/ lacks the name.
ALIASES: dict[str, dict[str, str]] = {
    "bun": {"bun": "bun", "bunx": "bun"},
    "python": {"python": "bin/python3", "pip": "bin/pip3"},
}
#: tool -> names of programs started by store path: a name, or it followed by ``.N``
#: (``python3`` covers ``python3.11``, not ``python3.11-config``).
LAUNCHED: dict[str, tuple[str, ...]] = {
    "python": ("python3",),
}
BIN_DIR = "bin"


def launched(tool: str, name: str) -> bool:
    for base in LAUNCHED.get(tool, ()):
        rest = name[len(base):] if name.startswith(base) else None
        if rest == "" or (rest is not None and rest[:1] == "." and rest[1:].isdigit()):
            return True
    return False


def tool_exports(tool: str, entries: Callable[[str], list[tuple[str, bool]] | None]
                 ) -> list[Export]:
    """The exports of one store path of `tool`; `entries(rel)` lists (name, is_dir)
    inside it (None: no such directory)."""
    from generations.env import Export

    out: list[Export] = []
    own = entries(BIN_DIR) or []
    for name, is_dir in own:
        if not is_dir and launched(tool, name):
            out.append(Export(name, f"{BIN_DIR}/{name}", launcher=True))
    names = {name for name, _ in own}
    for alias, rel in sorted(ALIASES.get(tool, {}).items()):
        parent, _, name = rel.rpartition("/")
        if alias not in names and (name, False) in (entries(parent) or []):
            out.append(Export(alias, rel, launcher=launched(tool, name)))
    return out


def env_exports(lister: Lister) -> Callable[[ToolInput], list[Export]]:
    """For `generations.env.plan_env`: each tool's exports, read through its `lister`."""
    def exports(tool: ToolInput) -> list[Export]:
        return tool_exports(tool.tool, lambda rel: lister(tool.store_path, rel))

    return exports
