"""Fixtures shared by the profile tests that run omg as a user would."""

from __future__ import annotations

import pytest

from tests.conftest import OmgEnv

from .helpers import cli_add


@pytest.fixture
def env(omg_env: OmgEnv) -> OmgEnv:
    """An omg home whose store holds node 18 and 20 and a python (which also has `node`)."""
    cli_add(omg_env, "node", "18.19.0", ("node", "npm"))
    cli_add(omg_env, "node", "20.10.0", ("node", "npm"))
    cli_add(omg_env, "python", "3.12.1", ("python", "node"))
    return omg_env
