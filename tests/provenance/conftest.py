"""The providers' local mirrors and settings (tests/providers/conftest.py)."""

from tests.providers.conftest import mirror, mirror_env, settings

__all__ = ["mirror", "mirror_env", "settings"]
