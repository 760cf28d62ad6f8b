"""Fixtures of the store tests: an in-process LocalStore in an isolated OMG_HOME."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from store.local import LocalStore
from tests.conftest import OmgEnv


@pytest.fixture
def store(omg_env: OmgEnv) -> Iterator[LocalStore]:
    s = omg_env.store()
    try:
        yield s
    finally:
        s.close()
