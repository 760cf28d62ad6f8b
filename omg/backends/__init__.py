"""Which backend serves this command: chosen once, here (as pipx picks its backend).

The shared mode is when this user cannot write OMG_HOME and omgd's socket is there
(`omg.locate.shared_socket`: one access(2) when it is not): then a `DaemonBackend`,
else a `LocalBackend` on this user's store. Everything after the choice is the same
code for both (omg/backend.py).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from omg.backend import Backend
    from omg.config import Config, Settings


def open_backend(home: str, user: str, settings: Settings | Callable[[], Settings], *,
                 raw: Config | None = None,
                 environ: Mapping[str, str] | None = None, mirror: bool = True) -> Backend:
    """The backend for OMG_HOME `home` as `user`. `settings` may be a loader: the hot
    path hands one over, so a `use` between installed versions parses no config file.
    `raw` is the config's raw table when known (the socket may be set there)."""
    from omg import locate

    env = os.environ if environ is None else environ
    if raw is None:
        raw = {} if callable(settings) else settings.raw
    socket = locate.shared_socket(home, raw, env)
    if socket is not None:
        from omg.backends.daemon import DaemonBackend

        return DaemonBackend(socket, home, user, settings)
    from omg.backends.local import LocalBackend

    return LocalBackend(home, user, settings, mirror=mirror)


def for_settings(settings: Settings) -> Backend:
    """The backend for a command that loaded its settings (the typer CLI)."""
    return open_backend(str(settings.home), settings.user, settings)
