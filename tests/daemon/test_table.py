"""omgd's method table: built explicitly from each module's tuple, and documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from omg.daemon import table
from omg.daemon.base import Method

PROTOCOL_MD = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def documented() -> dict[str, str]:
    """The rows of docs/protocol.md's methods table: method name -> its params cell."""
    text = PROTOCOL_MD.read_text()
    section = text.split("## Methods (version 1)", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([a-z.]+)` \| ([^|]*) \|", section, re.M)
    assert rows, "no methods table in docs/protocol.md"
    names = [name for name, _ in rows]
    assert len(names) == len(set(names)), "a method listed twice in docs/protocol.md"
    return dict(rows)


def test_the_table_and_the_doc_list_the_same_methods() -> None:
    methods = table.build()
    docs = documented()
    assert sorted(methods) == sorted(docs)
    # The descriptor column too: "**1 fd**" in the doc is `fds=1` in the table.
    assert {n for n, m in methods.items() if m.fds} == {n for n, p in docs.items() if "fd" in p}


def test_a_name_declared_twice_is_refused() -> None:
    def handler(*args: object) -> None:
        return None
    with pytest.raises(ValueError, match="'ping' is declared twice"):
        table.build([*table.GROUPS, (Method("ping", handler),)])


def test_base_and_the_methods_modules_register_nothing_by_import() -> None:
    """Importing a methods module (or base) loads no other methods module and no table."""
    modules = ("base", "store_methods", "profile_methods", "runtime_methods", "search_methods")
    for name in modules:
        code = (f"import sys, omg.daemon.{name}; "
                "print(' '.join(m for m in sys.modules if m.startswith('omg.daemon.')))")
        loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                    text=True, check=True).stdout.split())
        others = {f"omg.daemon.{m}" for m in (*modules, "table", "client")} - {
            f"omg.daemon.{name}", "omg.daemon.base"}
        assert not loaded & others, (name, loaded & others)
