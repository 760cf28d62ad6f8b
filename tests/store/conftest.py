"""Fixtures of the store tests: an in-process LocalStore in an isolated OMG_HOME."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store.fsutil import force_remove
from store.local import LocalStore
from tests.conftest import OmgEnv


@pytest.fixture
def store(omg_env: OmgEnv) -> Iterator[LocalStore]:
    s = omg_env.store()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def deep_tmp(tmp_path: Path) -> Iterator[Path]:
    """`tmp_path`, removed by `force_remove` after the test: for trees deeper than
    Python's recursion limit, which pytest's own clean-up of old temporary dirs
    (shutil.rmtree, recursive) cannot remove, in every later session."""
    yield tmp_path
    force_remove(tmp_path)
