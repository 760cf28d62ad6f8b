"""The few settings `omg search` needs, computed without omg.config's imports.

`omg.config.load()` imports pathlib, typing and the store layout: about a third of
the search fast path's budget (DESIGN.md "Figures"). With no config file to read,
what it computes for search comes from a few environment variables; `load` does
the same with `os` alone, as plain strings. When a config file exists it returns
None and the caller uses omg.config itself (tomllib alone costs more than all of
this, and one reader of config files is enough). tests/arch checks both agree.
"""

from __future__ import annotations

import os

# Not `from typing import ...` (start-up cost); type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

#: omg.config.SYSTEM_CONFIG (a test keeps them equal).
SYSTEM_CONFIG = "/etc/omg/config.toml"
DEFAULT_AUR = "https://aur.archlinux.org"
DEFAULT_PACMAN_CONF = "/etc/pacman.conf"
#: omg.config.load() parses these and reports garbage in them: leave such runs to it.
_PARSED_BY_CONFIG = ("OMG_MAX_UNPACKED_BYTES", "OMG_MAX_FILES")


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


def _absent(path: str) -> bool:
    """No file at all; anything else (even unreadable) is omg.config's to judge."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def load(environ: Mapping[str, str] | None = None) -> SearchSettings | None:
    """The settings omg.config.load() would give search, or None to ask it instead."""
    env = os.environ if environ is None else environ
    if any(env.get(k) for k in _PARSED_BY_CONFIG):
        return None
    xdg_config = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"),
                                                            ".config")
    user_config = env.get("OMG_CONFIG") or os.path.join(xdg_config, "omg", "config.toml")
    if not (_absent(SYSTEM_CONFIG) and _absent(user_config)):
        return None
    home = env.get("OMG_HOME") or os.path.join(
        env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share"),
        "omg")
    values = arch_values({}, env)
    return SearchSettings(os.path.abspath(home), values["pacman_conf"], values["dbpath"],
                          values["aur_url"], values["aur_ttl"])


def from_config(settings: Any, environ: Mapping[str, str] | None = None) -> SearchSettings:
    """The same from an omg.config Settings (when a config file exists)."""
    env = os.environ if environ is None else environ
    raw = dict(getattr(settings, "raw", {}) or {})
    values = arch_values(raw, env)
    return SearchSettings(os.path.abspath(settings.home), values["pacman_conf"],
                          values["dbpath"], values["aur_url"], values["aur_ttl"], raw)


def default_socket(s: SearchSettings, environ: Mapping[str, str] | None = None) -> str:
    """omg.daemon.client.default_socket without its imports (a test keeps them equal)."""
    env = os.environ if environ is None else environ
    if env.get("OMG_SOCKET"):
        return env["OMG_SOCKET"]
    daemon_cfg = s.raw.get("daemon", {})
    if isinstance(daemon_cfg, dict) and daemon_cfg.get("socket"):
        return str(daemon_cfg["socket"])
    try:
        owner = os.stat(s.home).st_uid
    except OSError:
        return os.path.join(s.home, "omgd.sock")
    if owner == 0 or owner != os.getuid():
        return "/run/omg/omgd.sock"
    return os.path.join(s.home, "omgd.sock")
