"""The docs that state facts about the code are held to it: the exit-code table of
docs/errors.md to store/errors.py, and every test docs/invariants.md cites exists."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import store.errors

ROOT = Path(__file__).resolve().parent.parent


def test_the_exit_code_table_is_the_error_classes() -> None:
    text = (ROOT / "docs" / "errors.md").read_text()
    rows = dict(re.findall(r"^\|\s*`?(\d+)`?\s*\|\s*`(\w+)`", text, re.M))
    classes = {name: cls.exit_code for name, cls in inspect.getmembers(store.errors)
               if inspect.isclass(cls) and issubclass(cls, store.errors.OmgError)}
    for name, code in classes.items():
        if name in rows.values():
            assert rows.get(str(code)) == name or any(
                c == str(code) and n == name for c, n in rows.items()), (name, code)
    own_codes = {cls.exit_code for cls in vars(store.errors).values()
                 if inspect.isclass(cls) and issubclass(cls, store.errors.OmgError)
                 and "exit_code" in vars(cls)}
    assert own_codes <= {int(c) for c in rows}, "a class with its own code is not in the table"


def test_every_test_the_invariants_cite_exists() -> None:
    text = (ROOT / "docs" / "invariants.md").read_text()
    cited = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)", text))
    assert cited
    for path, name in sorted(cited):
        tree = ast.parse((ROOT / path).read_text())
        names = {n.name for n in ast.walk(tree)
                 if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
        names |= {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign)
                  for t in n.targets if isinstance(t, ast.Name)}  # TestX = Machine.TestCase
        assert name in names, f"docs/invariants.md cites {path}::{name}, which does not exist"
