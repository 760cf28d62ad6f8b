"""Small shell-script "runtimes" and an in-process profile home for the profile tests."""

from __future__ import annotations

import os
from pathlib import Path

from omg import profiles
from store.layout import Layout
from store.local import LocalStore
from tests.conftest import OmgEnv

USER = "tester"


def fake_tool(root: Path, tool: str, version: str, exes: tuple[str, ...] | list[str] = (),
              extra: dict[str, str] | None = None) -> Path:
    """A directory laid out like a runtime: bin/<exe> scripts printing tool and version."""
    d = root / f"src-{tool}-{version}"
    (d / "bin").mkdir(parents=True, exist_ok=True)
    for exe in exes or (tool,):
        p = d / "bin" / exe
        p.write_text(f"#!/bin/sh\necho {exe} {tool} {version}\n")
        p.chmod(0o755)
    for rel, text in (extra or {}).items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text)
    return d


def cli_add(env: OmgEnv, tool: str, version: str, exes: tuple[str, ...] = ()) -> str:
    """`omg store add` of a fake tool, as a user would; the store path it prints."""
    src = fake_tool(env.root, tool, version, exes)
    return env.run("store", "add", str(src), "--name", tool, "--version", version,
                   check=True).stdout.strip()


def add_tool(store: LocalStore, root: Path, tool: str, version: str,
             exes: tuple[str, ...] | list[str] = (), extra: dict[str, str] | None = None) -> str:
    return store.add(fake_tool(root, tool, version, exes, extra), tool, version).record.path


class World:
    """A store plus a profile Home, in-process (fast)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.layout = Layout(root / "omg")
        self.store = LocalStore(self.layout, user=USER)
        self.home = profiles.Home(self.layout, USER, index=self.store.index)

    def add(self, tool: str, version: str, exes: tuple[str, ...] | list[str] = (),
            extra: dict[str, str] | None = None) -> str:
        return add_tool(self.store, self.root, tool, version, exes, extra)

    def close(self) -> None:
        self.home.close()
        self.store.close()


def snapshot(*dirs: Path) -> dict[str, tuple[str, int, str]]:
    """Every entry under `dirs` (kind, size, link target): "nothing changed" checks."""
    out: dict[str, tuple[str, int, str]] = {}
    for base in dirs:
        for dirpath, dirnames, filenames in os.walk(base):
            for name in dirnames + filenames:
                full = os.path.join(dirpath, name)
                if name.endswith(".lock") or name == ".catalogue.json":
                    continue
                st = os.lstat(full)
                link = os.readlink(full) if os.path.islink(full) else ""
                out[full] = ("l" if link else "d" if os.path.isdir(full) else "f",
                             0 if os.path.isdir(full) else st.st_size, link)
    return out
