"""The layers (omg > shims > generations > store) hold for what import-linter cannot see.

import-linter checks imports; a lower layer could still depend on a higher one by
naming its source files (to stat, read or stamp them), as the catalogue once named
omg/spec.py and omg/profiles.py. Any Python file name in the code (not docstrings) of
store/, generations/ or shims/ must be one of that layer's own files, or a lower one's.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("omg", "shims", "generations", "store")  # highest first, as pyproject.toml
SOURCE_NAME = re.compile(r"^[\w./-]*[\w-]\.py$")


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                and node.body and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)):
            found.add(id(node.body[0].value))
    return found


def named_sources(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each string in `path`'s code (not a docstring) naming a .py file."""
    tree = ast.parse(path.read_text(), str(path))
    docs = _docstrings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docs and SOURCE_NAME.match(node.value)]


def foreign(path: Path, layer: str, root: Path = ROOT) -> list[str]:
    """The names in `path` of a file that is not its layer's or a lower layer's own."""
    allowed = LAYERS[LAYERS.index(layer):]
    bad = []
    for line, name in named_sources(path):
        top = name.split("/", 1)[0]
        if "/" in name and top in LAYERS:
            ok = top in allowed and (root / name).is_file()
        else:  # a bare name: a file beside this module
            ok = (path.parent / name).is_file()
        if not ok:
            bad.append(f"{path.relative_to(root)}:{line}: {name!r}")
    return bad


@pytest.mark.parametrize("layer", LAYERS[1:])
def test_no_lower_layer_names_a_file_of_a_higher_one(layer: str) -> None:
    bad = [b for path in sorted((ROOT / layer).rglob("*.py")) for b in foreign(path, layer)]
    assert bad == []


def test_a_path_or_a_bare_name_of_a_higher_layer_is_caught(tmp_path: Path) -> None:
    """What the catalogue once held (omg/spec.py) is caught, spelled either way; its
    own layer's files and a docstring are not."""
    for rel in ("omg/spec.py", "generations/env.py"):
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_text("")
    probe = tmp_path / "generations" / "probe.py"
    probe.write_text('"""Names omg/spec.py in a docstring."""\n'
                     'A = ("omg/spec.py", "spec.py", "env.py", "generations/env.py")\n')
    assert foreign(probe, "generations", tmp_path) == [
        "generations/probe.py:2: 'omg/spec.py'", "generations/probe.py:2: 'spec.py'"]
