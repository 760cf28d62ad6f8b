"""What both ends of omgd's socket agree on (docs/protocol.md), on `os` alone.

The client (`omg.daemon.client`) and the server's modules (`protocol`, `server`,
the methods) each import this module and never each other: the daemon runs no
client code, and the fast paths that import the client pay for these lines
only (no typing, dataclasses or struct). An import-linter contract in
pyproject.toml keeps the server off the client.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from omg.arch.fastconfig import SearchSettings
    from omg.arch.settings import ArchSettings
    from omg.config import Config

PROTO_VERSION = 1
CLIENT_NAME = "omg/0.1.0"
SERVER_NAME = "omgd/0.1.0"
#: Requests are small (content travels as a file descriptor): 1 MiB.
DEFAULT_MAX_FRAME = 1 << 20
#: Replies come from the trusted daemon and may list a whole store (store.records).
DEFAULT_MAX_REPLY = 64 << 20
#: A cold daemon may rebuild an index, ask the AUR or install before it answers.
TIMEOUT = 600.0


def client_hello(client: str = CLIENT_NAME) -> dict[str, object]:
    return {"proto": PROTO_VERSION, "client": client}


def request(rid: int, method: str, params: Mapping[str, object]) -> dict[str, object]:
    return {"id": rid, "method": method, "params": dict(params)}


def default_socket(home: Path | str, raw: Config | None = None,
                   environ: Mapping[str, str] | None = None) -> Path:
    """Where omgd listens: OMG_SOCKET, ``[daemon] socket``, or by mode (`omg.locate`)."""
    from pathlib import Path

    from omg import locate

    env = os.environ if environ is None else environ
    return Path(locate.default_socket(str(home), raw or {}, env))


def search_source(settings: ArchSettings | SearchSettings) -> dict[str, object]:
    """What a ``search`` answer depends on: the daemon sends it, the client compares it
    with its own settings (an `ArchSettings` or a `SearchSettings`) before using it."""
    return {"home": os.path.abspath(settings.home),
            "pacman_conf": os.path.abspath(settings.pacman_conf),
            "dbpath": os.path.abspath(settings.dbpath) if settings.dbpath else None,
            "aur_url": settings.aur_url}
