"""The docs that state facts about the code are held to it: the exit-code table of
docs/errors.md to store/errors.py, and every test docs/invariants.md cites exists."""

from __future__ import annotations

import ast
import importlib
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


def _error_classes() -> list[type[store.errors.OmgError]]:
    """Every `OmgError` subclass the code defines (found by name, then imported)."""
    found = []
    for package in ("store", "generations", "shims", "omg"):
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text()
            if "Error" not in text and "Failed" not in text:
                continue
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.parse(text).body:
                if isinstance(node, ast.ClassDef) and node.bases:
                    cls = getattr(importlib.import_module(module), node.name)
                    if isinstance(cls, type) and issubclass(cls, store.errors.OmgError):
                        found.append(cls)
    return found


def test_every_error_class_is_in_the_row_of_its_exit_code() -> None:
    """Each class is a row of its own (`store/errors.py`) or named as `module.Class` in
    its code's row, so a class added later cannot miss the table."""
    rows = re.findall(r"^\|\s*(\d+)\s*\|(.*)$", (ROOT / "docs" / "errors.md").read_text(),
                      re.M)
    classes = _error_classes()
    assert len(classes) > 12
    for cls in classes:
        own = f"`{cls.__name__}`" + ("" if cls.__module__ == "store.errors"
                                     else f" (`{cls.__module__}`")
        named = f"`{cls.__module__}.{cls.__name__}`"
        assert any(int(code) == cls.exit_code and (named in text or text.strip().startswith(
            own)) for code, text in rows), (
            f"docs/errors.md has no row of exit code {cls.exit_code} naming {named}")


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
