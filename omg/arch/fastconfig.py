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
    from typing import TypedDict

    from omg.config import Config, Settings

    class SearchValues(TypedDict):
        pacman_conf: str
        dbpath: str | None
        aur_url: str
        aur_ttl: float

DEFAULT_AUR = "https://aur.archlinux.org"
DEFAULT_PACMAN_CONF = "/etc/pacman.conf"


class SearchSettings:
    """What search reads of the settings (a subset of ArchSettings), as strings.

    `raw` is the parsed config file (empty here); `default_socket` reads its
    ``[daemon] socket``.
    """

    __slots__ = ("aur_ttl", "aur_url", "dbpath", "home", "pacman_conf", "raw")

    def __init__(self, home: str, pacman_conf: str, dbpath: str | None, aur_url: str,
                 aur_ttl: float, raw: Config | None = None) -> None:
        self.home, self.pacman_conf, self.dbpath = home, pacman_conf, dbpath
        self.aur_url, self.aur_ttl, self.raw = aur_url, aur_ttl, raw or {}


def arch_values(raw: Config, env: Mapping[str, str]) -> SearchValues:
    """The ``[arch]`` search settings: environment, then config file, then defaults.

    The one place this precedence is written; `settings.from_raw` wraps the paths.
    """
    cfg = raw.get("arch", {})
    return {
        "pacman_conf": env.get("OMG_PACMAN_CONF") or cfg.get("pacman_conf")
        or DEFAULT_PACMAN_CONF,
        "dbpath": env.get("OMG_PACMAN_DBPATH") or cfg.get("dbpath") or None,
        "aur_url": (env.get("OMG_AUR_URL") or cfg.get("aur_url") or DEFAULT_AUR).rstrip("/"),
        "aur_ttl": _seconds(env.get("OMG_AUR_TTL") or cfg.get("aur_cache_ttl"), 3600.0),
    }


def _seconds(value: str | float | None, default: float) -> float:
    """A configured number of seconds; 0 is a value (always re-read), not "unset"."""
    return default if value is None or value == "" else float(value)


def load(environ: Mapping[str, str] | None = None) -> SearchSettings | None:
    """The settings omg.config.load() would give search, or None to ask it instead."""
    env = os.environ if environ is None else environ
    if locate.needs_config(env):
        return None
    values = arch_values({}, env)
    return SearchSettings(locate.home({}, env), values["pacman_conf"], values["dbpath"],
                          values["aur_url"], values["aur_ttl"])


def from_config(settings: Settings, environ: Mapping[str, str] | None = None
                ) -> SearchSettings:
    """The same from an omg.config Settings (when a config file exists)."""
    env = os.environ if environ is None else environ
    raw = settings.raw
    values = arch_values(raw, env)
    return SearchSettings(os.path.abspath(settings.home), values["pacman_conf"],
                          values["dbpath"], values["aur_url"], values["aur_ttl"], raw)


def default_socket(s: SearchSettings, environ: Mapping[str, str] | None = None) -> str:
    return locate.default_socket(s.home, s.raw, os.environ if environ is None else environ)
