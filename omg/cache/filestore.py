"""A binary cache in a directory: ``file:///abs/path``.

Reads of a root that does not exist raise `NotFound` (a mistyped cache URL must
not look like an empty cache); the first put creates the root and its parents, so
a push to a new directory just works. A delete of an absent key is fine, in a
missing root `NotFound` (as in a missing S3 bucket).

A put writes a unique temporary name in the key's own directory (``.``-leading, so
never a valid key), fsyncs it, renames it over the key and fsyncs the directory:
a reader opens the old object or the new one, never a torn one, and a manifest put
after its objects is not durable before them. The temporary name is unique per
call, not per process: a push writes in threads, and two of them may put the same
object (two store paths sharing a file's content) at the same moment.
"""

from __future__ import annotations

import os
import secrets
import stat

from omg.cache.storage import check_key
from store.errors import NotFound, PermissionDenied
from store.fsutil import fsync_dir, unlink_quietly, write_all


class FileStorage:
    writable = True

    def __init__(self, root: str, url: str) -> None:
        self.root = root
        self.url = url

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *check_key(key).split("/"))

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                return f.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            self._check_root()
            return None
        except PermissionError as exc:
            raise self._denied("read", key) from exc

    def exists(self, key: str) -> bool:
        try:
            return stat.S_ISREG(os.stat(self._path(key)).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            self._check_root()
            return False
        except PermissionError as exc:
            raise self._denied("read", key) from exc

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        folder, name = os.path.split(path)
        try:
            os.makedirs(folder, exist_ok=True)
            self._write(folder, name, data)
        except PermissionError as exc:
            raise self._denied("write", key) from exc

    def _write(self, folder: str, name: str, data: bytes) -> None:
        tmp = os.path.join(folder, f".{name}.tmp-{os.getpid()}-{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            try:
                write_all(fd, data)
                os.fchmod(fd, 0o644)  # not the umask's: a web server serves these files
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, os.path.join(folder, name))
        except BaseException:
            unlink_quietly(tmp)
            raise
        fsync_dir(folder)

    def delete(self, key: str) -> None:
        try:
            os.unlink(self._path(key))
        except (FileNotFoundError, NotADirectoryError):
            self._check_root()
        except PermissionError as exc:
            raise self._denied("delete", key) from exc

    def close(self) -> None:
        pass

    def _check_root(self) -> None:
        if not os.path.isdir(self.root):
            what = "is not a directory" if os.path.lexists(self.root) else "does not exist"
            raise NotFound(f"{self.url}: the cache directory {what}",
                           hint="check the URL; a push creates the directory")

    def _denied(self, verb: str, key: str) -> PermissionDenied:
        return PermissionDenied(f"{self.url}: cannot {verb} {key}: permission denied")
