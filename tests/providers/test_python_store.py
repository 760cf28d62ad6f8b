"""Python in the immutable store: byte-code compiled unchecked-hash and the PEP 668
marker written at ingest, before the tree is hashed."""

from __future__ import annotations

import importlib.util
import os
import py_compile
import sys
from pathlib import Path

import pytest

from omg import install
from omg.config import Settings
from omg.providers.python import EXTERNALLY_MANAGED, PythonProvider
from store.errors import BuildFailed
from tests.conftest import OmgEnv

TAG = sys.implementation.cache_tag


def _flags(pyc: Path) -> int:
    """PEP 552 flags: 0 timestamp, 0b11 checked hash, 0b01 unchecked hash."""
    data = pyc.read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    return int.from_bytes(data[4:8], "little")


def _tree(root: Path) -> Path:
    """A prefix whose interpreter is this one (compileall is version-specific, and this
    one is real), with a stdlib holding a stale timestamp-based .pyc."""
    lib = root / "lib" / "python3.99"
    (lib / "json").mkdir(parents=True)
    (lib / "os.py").write_text("X = 1\n")
    (lib / "json" / "__init__.py").write_text("Y = 2\n")
    (lib / "bad_syntax.py").write_text("def (:\n")  # as the stdlib's test data has
    py_compile.compile(str(lib / "os.py"),
                       invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    (root / "bin").mkdir()
    os.symlink(sys.executable, root / "bin" / "python3.99")
    return lib


def test_prepare_compiles_unchecked_hash_for_every_level_and_marks_the_stdlib(tmp_path: Path
                                                                             ) -> None:
    lib = _tree(tmp_path)
    assert PythonProvider().prepare(tmp_path) == []
    for opt in ("", ".opt-1", ".opt-2"):
        assert _flags(lib / "__pycache__" / f"os.{TAG}{opt}.pyc") == 0b01
        assert _flags(lib / "json" / "__pycache__" / f"__init__.{TAG}{opt}.pyc") == 0b01
    marker = (lib / "EXTERNALLY-MANAGED").read_text()
    assert marker == EXTERNALLY_MANAGED and "omg venv create NAME" in marker
    assert marker.startswith("[externally-managed]\nError=")


def test_an_interpreter_that_cannot_run_is_a_build_failure(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / "bin" / "python3.99").unlink()
    (tmp_path / "bin" / "python3.99").write_bytes(b"\x7fELF not really\n")
    (tmp_path / "bin" / "python3.99").chmod(0o755)
    with pytest.raises(BuildFailed, match="cannot compile the byte-code"):
        PythonProvider().prepare(tmp_path)


def test_an_interpreter_that_cannot_find_its_stdlib_is_a_build_failure(tmp_path: Path
                                                                        ) -> None:
    _tree(tmp_path)
    (tmp_path / "bin" / "python3.99").unlink()
    (tmp_path / "bin" / "python3.99").write_text(
        "#!/bin/sh\necho 'Fatal Python error: init_fs_encoding' >&2\nexit 1\n")
    (tmp_path / "bin" / "python3.99").chmod(0o755)
    with pytest.raises(BuildFailed, match=r"exit 1\): Fatal Python error: init_fs_encoding"):
        PythonProvider().prepare(tmp_path)


def test_the_installed_store_path_holds_the_marker_and_verifies(settings: Settings,
                                                                omg_env: OmgEnv) -> None:
    [r] = install.install(settings, ["python@3.12"])
    marker = r.store_path / "lib" / "python3.12" / "EXTERNALLY-MANAGED"
    assert marker.read_text() == EXTERNALLY_MANAGED
    # Part of the hashed content: verify recomputes the hash over the tree.
    omg_env.run("store", "verify", check=True)
    [again] = install.install(settings, ["python@3.12"])
    assert not again.created and again.store_path == r.store_path
