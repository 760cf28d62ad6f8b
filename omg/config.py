"""Settings: one frozen object built once from the environment and the config file.

Precedence: environment variables, then ``$XDG_CONFIG_HOME/omg/config.toml``
(or ``OMG_CONFIG``), then ``/etc/omg/config.toml``, then defaults. Nothing here
is global: the CLI builds a `Settings` and passes it down. Light to import
(no archive readers, no dataclasses): the fast path of `omg use` loads it.
"""

# No `from __future__ import annotations` here, on purpose: see omg/fast.py.
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from omg import locate
from store.errors import UsageError
from store.layout import Layout
from store.limits import DEFAULT_LIMITS, Limits

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Settings(NamedTuple):
    home: Path
    user: str
    limits: Limits = DEFAULT_LIMITS
    mirrors: Mapping[str, str] = _EMPTY
    raw: Mapping[str, Any] = _EMPTY

    @property
    def layout(self) -> Layout:
        return Layout(self.home)

    def mirror(self, tool: str, default: str) -> str:
        """A provider's base URL: OMG_<TOOL>_MIRROR, then [mirrors] in config, then upstream."""
        env = os.environ.get(f"OMG_{tool.upper()}_MIRROR")
        return (env or self.mirrors.get(tool) or default).rstrip("/")


current_user = locate.current_user


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, PermissionError):
        return {}
    import tomllib

    try:
        return tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: invalid config file: {exc}") from exc


def load(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for path in map(Path, locate.config_files(env)):
        for key, value in _read_toml(path).items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
    home = Path(locate.home(config, env))
    store_cfg = config.get("store", {})
    limits = Limits(
        max_bytes=int(env.get("OMG_MAX_UNPACKED_BYTES") or store_cfg.get("max_unpacked_bytes")
                      or DEFAULT_LIMITS.max_bytes),
        max_files=int(env.get("OMG_MAX_FILES") or store_cfg.get("max_files")
                      or DEFAULT_LIMITS.max_files),
    )
    return Settings(home=home, user=current_user(), limits=limits,
                    mirrors=dict(config.get("mirrors", {})), raw=config)
