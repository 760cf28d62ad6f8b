"""The feed fixtures (real upstream entries) served on 127.0.0.1 in each feed's mirror
layout, with a log of the requests, for the audit tests and the benchmark."""

from __future__ import annotations

import functools
import http.server
import io
import os
import shutil
import socketserver
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: feed key -> (fixture directory, path of the archive served, or "" for a tree)
ARCHIVES = {"python_vulns": ("python", "psf.tar.gz"), "ruby_vulns": ("ruby", "rubysec.tar.gz")}
TREES = {"node_vulns": "node", "go_vulns": "go", "arch_security": "arch"}


def build(root: Path) -> Path:
    """The mirror's files under `root`: the trees copied, the repositories packed as
    GitHub's tarballs are (one top directory)."""
    for sub in TREES.values():
        shutil.copytree(FIXTURES / sub, root / sub)
    for sub, archive in ARCHIVES.values():
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for top in sorted((FIXTURES / sub).iterdir()):
                tar.add(top, arcname=top.name)
        (root / archive).write_bytes(buf.getvalue())
    return root


def env_for(base: str) -> dict[str, str]:
    """OMG_<KEY>_MIRROR for every feed, pointing at the mirror served at `base`."""
    env = {f"OMG_{k.upper()}_MIRROR": f"{base}/{sub}" for k, sub in TREES.items()}
    env.update({f"OMG_{k.upper()}_MIRROR": f"{base}/{archive}"
                for k, (_, archive) in ARCHIVES.items()})
    return env


class Mirror:
    def __init__(self, root: Path, base: str, requests: list[str]) -> None:
        self.root, self.base, self.requests = root, base, requests

    @property
    def env(self) -> dict[str, str]:
        return env_for(self.base)


@contextmanager
def serve(root: Path) -> Iterator[Mirror]:
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), functools.partial(Handler, directory=os.fspath(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Mirror(root, f"http://127.0.0.1:{server.server_address[1]}", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
