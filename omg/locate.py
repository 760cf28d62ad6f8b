"""Where omg's files are: config files, OMG_HOME, the user, omgd's socket.

The one place these precedences are written. `omg.config.load` builds its
`Settings` on them, and the fast paths (omg/fast.py, omg/arch/fastsearch.py)
call them directly, because with no config file to parse the whole answer is
a few environment variables and stats. Only `os` at import time, on plain
strings: pathlib, typing or tomllib would cost the fast paths more than they
spend on their work.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from omg.config import Config

SYSTEM_CONFIG = "/etc/omg/config.toml"
#: Parsed by omg.config.load (its ENV_SCHEMA), which reports garbage in them: the
#: fast paths defer to it when one is set.
PARSED_VARIABLES = ("OMG_MAX_UNPACKED_BYTES", "OMG_MAX_FILES", "OMG_MAX_DEPTH",
                    "OMG_NET_RETRIES", "OMG_NET_BACKOFF", "OMG_NET_TIMEOUT", "OMG_NET_JOBS",
                    "OMG_INDEX_TTL", "OMG_NET_UNREACHABLE_TTL", "OMG_AUR_TTL", "OMG_LIBC",
                    "OMG_SIGNATURES")
SHARED_SOCKET = "/run/omg/omgd.sock"


def config_files(env: Mapping[str, str]) -> tuple[str, str]:
    """(system, user) config file paths; the user's wins where both set a key."""
    xdg_config = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return SYSTEM_CONFIG, env.get("OMG_CONFIG") or os.path.join(xdg_config, "omg",
                                                                "config.toml")


def _absent(path: str) -> bool:
    """No file at all; anything else (even an unreadable one) is omg.config's to judge."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def needs_config(env: Mapping[str, str]) -> bool:
    """A config file or a parsed variable is there: only omg.config.load gets it right."""
    return any(env.get(k) for k in PARSED_VARIABLES) or not all(
        _absent(p) for p in config_files(env))


def user_data(env: Mapping[str, str] = os.environ) -> str:
    """``$XDG_DATA_HOME/omg`` (``~/.local/share/omg``): this user's own omg files (the
    writable prefixes, named venvs, the static init lines), wherever OMG_HOME is."""
    xdg = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(os.path.abspath(xdg), "omg")


def user_cache(env: Mapping[str, str] = os.environ) -> str:
    """``$XDG_CACHE_HOME/omg`` (``~/.cache/omg``): what this user's commands remember
    and may lose (unreachable hosts, versions for completion, the command table)."""
    xdg = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "omg")


def home(raw: Config, env: Mapping[str, str]) -> str:
    """OMG_HOME, then ``home`` in the config file, then ``$XDG_DATA_HOME/omg``; absolute.

    ``~`` is expanded (omg.config has checked that a configured home is a path).
    """
    found = env.get("OMG_HOME") or raw.get("home") or user_data(env)
    return os.path.abspath(os.path.expanduser(found))


def current_user() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def default_socket(home_dir: str, raw: Config, env: Mapping[str, str]) -> str:
    """OMG_SOCKET, then ``[daemon] socket``, then a default by mode.

    A home owned by someone else (or by root: a system home such as
    /var/lib/omg) is the shared mode: ``/run/omg/omgd.sock``. A home of one's
    own (single-user, tests) keeps its socket inside: ``$OMG_HOME/omgd.sock``.
    """
    if env.get("OMG_SOCKET"):
        return env["OMG_SOCKET"]
    daemon_cfg = raw.get("daemon", {})
    if isinstance(daemon_cfg, dict) and daemon_cfg.get("socket"):
        return daemon_cfg["socket"]
    try:
        owner = os.stat(home_dir).st_uid
    except OSError:
        return os.path.join(home_dir, "omgd.sock")
    if owner == 0 or owner != os.getuid():
        return SHARED_SOCKET
    return os.path.join(home_dir, "omgd.sock")


def shared_socket(home_dir: str, raw: Config, env: Mapping[str, str]
                  ) -> str | None:
    """omgd's socket when this user is in the shared mode, else None.

    Shared: this user cannot write the home, and a daemon socket is there to
    ask. The first test is one access(2), so single-user runs pay nothing more.
    """
    if os.access(home_dir, os.W_OK):
        return None
    socket_path = default_socket(home_dir, raw, env)
    return socket_path if os.path.exists(socket_path) else None
