"""`RemoteStore`: the store through omgd, with `LocalStore`'s method names and types.

In the shared mode a user reads store paths straight from the filesystem but
cannot write there (invariant 7); every change goes to the daemon, which
hashes content itself. `open_store` picks the implementation, so the rest of
omg never knows which one it has (after Nix's LocalStore and RemoteStore).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.record import PathRecord

if TYPE_CHECKING:  # the store's ingest stack is heavy to import; load it on use
    from store.ingest import AddResult
    from store.layout import Layout
    from store.local import LocalStore, Problem


class RemoteStore:
    def __init__(self, socket_path: Path | str, layout: Layout | None = None, *,
                 timeout: float = 600.0) -> None:
        self.socket_path = Path(socket_path)
        self.layout = layout  # for reading store paths directly, when known
        self.timeout = timeout
        self._local = threading.local()

    # Connection (one per thread, opened on first use) -----------------------------

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            from omg.daemon.client import Client

            client = Client(self.socket_path, timeout=self.timeout)
            self._local.client = client
        return client

    def call(self, method: str, params: dict[str, Any] | None = None, *,
             fd: int | None = None) -> Any:
        from store.errors import DaemonUnavailable

        try:
            return self._client().call(method, params, fd=fd)
        except DaemonUnavailable:
            self.close()
            raise

    def close(self) -> None:
        client = getattr(self._local, "client", None)
        if client is not None:
            client.close()
            self._local.client = None

    def ping(self) -> str:
        return str(self.call("ping"))

    def whoami(self) -> dict[str, Any]:
        return dict(self.call("whoami"))

    # The Store interface ------------------------------------------------------------

    def add(self, source: Path, name: str, version: str, *, references: Iterable[str] = (),
            origin: dict[str, Any] | None = None, strip_top: bool | None = None,
            progress: Any = None) -> AddResult:
        from store.ingest import AddResult
        params: dict[str, Any] = {"name": name, "version": version,
                                  "references": list(references), "filename": source.name}
        if origin is not None:
            params["origin"] = origin
        if strip_top is not None:
            params["strip_top"] = strip_top
        with tempfile.TemporaryDirectory(prefix="omg-add-") as tmp:
            archive = source
            if source.is_dir():
                # The daemon takes regular files only: pack the tree, keep its root.
                archive = _pack_directory(source, Path(tmp) / "tree.tar")
                params["filename"] = "tree.tar"
                params["strip_top"] = False
            fd = os.open(archive, os.O_RDONLY | os.O_CLOEXEC)
            try:
                out = self.call("store.add", params, fd=fd)
            finally:
                os.close(fd)
        return AddResult(PathRecord.from_index(out["record"]), bool(out["created"]),
                         int(out["added_bytes"]), [str(w) for w in out["warnings"]])

    def resolve_name(self, text: str) -> str:
        """A store path name from a name, a full path or a unique hash prefix.

        store/ is world-readable, so this reads it directly, as `LocalStore` does.
        """
        from store.local import LocalStore

        if self.layout is None:
            raise TypeError("RemoteStore.resolve_name needs the store's layout")
        return LocalStore(self.layout).resolve_name(text)

    def get(self, name: str) -> PathRecord:
        return PathRecord.from_index(self.call("store.get", {"name": name}))

    def records(self) -> list[PathRecord]:
        return [PathRecord.from_index(r) for r in self.call("store.records")]

    def names(self) -> list[str]:
        return [r.path for r in self.records()]

    def find(self, name: str, version: str | None = None) -> list[PathRecord]:
        params: dict[str, Any] = {"name": name}
        if version is not None:
            params["version"] = version
        return [PathRecord.from_index(r) for r in self.call("store.find", params)]

    def closure(self, names: Iterable[str]) -> set[str]:
        return set(self.call("store.closure", {"names": list(names)}))

    def verify(self, names: Iterable[str] | None = None) -> list[Problem]:
        from store.local import Problem
        params = {} if names is None else {"names": list(names)}
        return [Problem(p["path"], p["file"], p["what"])
                for p in self.call("store.verify", params)]

    def gc(self, *, dry_run: bool = False) -> dict[str, Any]:
        return dict(self.call("gc", {"dry_run": dry_run}))


def _pack_directory(source: Path, dest: Path) -> Path:
    import tarfile

    with tarfile.open(dest, "w") as tar:
        for entry in sorted(os.listdir(source)):
            tar.add(source / entry, arcname=entry, recursive=True)
    return dest


def remote_if_shared(settings: Any, environ: dict[str, str] | None = None
                     ) -> RemoteStore | None:
    """The daemon's RemoteStore when `settings` name a shared store, else None."""
    from omg import locate

    env = os.environ if environ is None else environ
    socket_path = locate.shared_socket(str(settings.home), dict(settings.raw), env)
    return None if socket_path is None else RemoteStore(socket_path, settings.layout)


def open_store(settings: Any, environ: dict[str, str] | None = None
               ) -> LocalStore | RemoteStore:
    """A RemoteStore in the shared mode, else the LocalStore of `settings`."""
    from store.local import LocalStore

    remote = remote_if_shared(settings, environ)
    if remote is not None:
        return remote
    return LocalStore(settings.layout, limits=settings.limits)
