"""The few settings `omg search` needs, computed without omg.config's imports.

`omg.config.load()` imports pathlib, typing and the store layout: about a third of
the search fast path's budget (docs/arch.md). With no config file to read,
what it computes for search comes from a few environment variables, through
`omg.locate` (the precedences omg.config itself uses). When a config file exists
`load` returns None and the caller uses omg.config (one reader of config files).
"""

from __future__ import annotations

import os

from omg import locate

# Not `from typing import ...` (start-up cost); type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

DEFAULT_AUR = "https://aur.archlinux.org"
DEFAULT_PACMAN_CONF = "/etc/pacman.conf"


class SearchSettings:
    """What search reads of the settings (a subset of ArchSettings), as strings.

    `raw` is the parsed config file (empty here); `default_socket` reads its
    ``[daemon] socket``.
    """

    __slots__ = ("aur_ttl", "aur_url", "dbpath", "home", "pacman_conf", "raw")

    def __init__(self, home: str, pacman_conf: str, dbpath: str | None, aur_url: str,
                 aur_ttl: float, raw: Mapping[str, Any] | None = None) -> None:
        self.home, self.pacman_conf, self.dbpath = home, pacman_conf, dbpath
        self.aur_url, self.aur_ttl, self.raw = aur_url, aur_ttl, raw or {}


def arch_values(raw: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """The ``[arch]`` search settings: environment, then config file, then defaults.

    The one place this precedence is written; `settings.from_raw` wraps the paths.
    """
    # hasattr, not isinstance(Mapping): collections.abc is not imported yet at this point.
    cfg: Mapping[str, Any] = raw.get("arch", {}) if hasattr(raw, "get") else {}
    if not hasattr(cfg, "get"):
        cfg = {}

    def pick(env_key: str, cfg_key: str, default: Any) -> Any:
        return env.get(env_key) or cfg.get(cfg_key) or default

    return {
        "pacman_conf": str(pick("OMG_PACMAN_CONF", "pacman_conf", DEFAULT_PACMAN_CONF)),
        "dbpath": pick("OMG_PACMAN_DBPATH", "dbpath", None),
        "aur_url": str(pick("OMG_AUR_URL", "aur_url", DEFAULT_AUR)).rstrip("/"),
        "aur_ttl": float(pick("OMG_AUR_TTL", "aur_cache_ttl", 3600)),
    }


def load(environ: Mapping[str, str] | None = None) -> SearchSettings | None:
    """The settings omg.config.load() would give search, or None to ask it instead."""
    env = os.environ if environ is None else environ
    if locate.needs_config(env):
        return None
    values = arch_values({}, env)
    return SearchSettings(locate.home({}, env), values["pacman_conf"], values["dbpath"],
                          values["aur_url"], values["aur_ttl"])


def from_config(settings: Any, environ: Mapping[str, str] | None = None) -> SearchSettings:
    """The same from an omg.config Settings (when a config file exists)."""
    env = os.environ if environ is None else environ
    raw = dict(getattr(settings, "raw", {}) or {})
    values = arch_values(raw, env)
    return SearchSettings(os.path.abspath(settings.home), values["pacman_conf"],
                          values["dbpath"], values["aur_url"], values["aur_ttl"], raw)


def default_socket(s: SearchSettings, environ: Mapping[str, str] | None = None) -> str:
    return locate.default_socket(s.home, s.raw, os.environ if environ is None else environ)
