"""The filesystem half of the sweep: trash, removal by directory fds, the pool, orphans.

A dead store path leaves ``store/`` with ONE rename(2) into ``store/.trash/``
(same filesystem) before any of its files is deleted, so whatever stops gc
(SIGKILL, Ctrl-C, a full disk) a store path under its final name is either
whole or gone (invariant 1): never half deleted, never linked or listed as
if it were whole. The trash is not a store path name, so nothing that lists
``store/`` sees it; the next gc empties it first, each tree with
`store.fsutil.force_remove` (directory fds, any depth).

`StopSignals` turns SIGINT and SIGTERM into a flag the sweep polls between
store paths, so an interrupted gc finishes the path in hand and stops.

Only `os` at import time: ``omg gc`` without typer (omg/fast.py) is timed
whole-process against ``nix-store --gc``. A few threads delete at once (`_each`).
"""

from __future__ import annotations

import os

from store.fsutil import force_remove

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from types import ModuleType
    from typing import TypeVar

    T = TypeVar("T")

TRASH = ".trash"
RECORD_SUFFIX = ".meta"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_B32 = frozenset("abcdefghijklmnopqrstuvwxyz234567")


def is_store_name(name: str) -> bool:
    """`store.layout.store_hash_of` for a bare directory entry, without `re`."""
    return (len(name) >= 34 and name[32] == "-" and not name.endswith(RECORD_SUFFIX)
            and set(name[:32]) <= _B32)


def store_names(store_dir: str) -> list[str]:
    """Store path names in `store_dir`, sorted (no records, trash, staging or pool)."""
    try:
        return sorted(n for n in os.listdir(store_dir) if is_store_name(n))
    except FileNotFoundError:
        return []


class StopSignals:
    """``with StopSignals() as stop:`` -- SIGINT and SIGTERM set `stop.signum`.

    Installed only in the main thread (the daemon collects in a worker thread:
    its own SIGTERM handling stays) and not over an inherited SIG_IGN (a
    background job of a shell must keep ignoring Ctrl-C). The previous
    handlers come back on exit. `_signal`, not `signal`: the latter imports enum.
    """

    def __init__(self) -> None:
        self.signum = 0
        self._saved: list[tuple[int, object]] = []

    def __bool__(self) -> bool:
        return self.signum != 0

    def _caught(self, signum: int, _frame: object) -> None:
        self.signum = signum

    def __enter__(self) -> StopSignals:
        _signal = _signals()
        for signum in (_signal.SIGINT, _signal.SIGTERM):
            try:
                old = _signal.getsignal(signum)
                if old is _signal.SIG_IGN:
                    continue
                _signal.signal(signum, self._caught)
            except ValueError:  # not the main thread
                return self
            self._saved.append((signum, old))
        return self

    def __exit__(self, *exc: object) -> None:
        _signal = _signals()
        for signum, old in reversed(self._saved):
            _signal.signal(signum, old)
        self._saved.clear()


def sigterm_interrupts() -> None:
    """Let SIGTERM raise KeyboardInterrupt, as SIGINT does (unless it is ignored)."""
    _signal = _signals()
    if _signal.getsignal(_signal.SIGTERM) is not _signal.SIG_IGN:
        _signal.signal(_signal.SIGTERM, _signal.default_int_handler)


def _signals() -> ModuleType:
    """The `_signal` module (no type stub; `signal` itself would import enum)."""
    import _signal  # type: ignore[import-not-found]

    module: ModuleType = _signal
    return module


def _dir_fd(path: str) -> int:
    return os.open(path, _DIR_FLAGS)


def to_trash(store_dir: str, names: Iterable[str], stop: Callable[[], bool] | None = None
             ) -> list[str]:
    """Move each store path into ``.trash/`` with one rename(2); the names moved.

    Stops early (between two renames) when `stop()` says so. The store
    directory is fsynced once at the end, so the renames are durable before
    the caller deletes the records or a single file.
    """
    moved: list[str] = []
    names = list(names)
    if not names:
        return moved
    store_fd = _dir_fd(store_dir)
    try:
        try:  # noqa: SIM105 (contextlib costs an import on the lean path)
            os.mkdir(TRASH, 0o700, dir_fd=store_fd)
        except FileExistsError:
            pass
        trash_fd = os.open(TRASH, _DIR_FLAGS, dir_fd=store_fd)
        try:
            for name in names:
                if stop is not None and stop():
                    break
                if _rename_out(store_fd, trash_fd, name, os.path.join(store_dir, TRASH)):
                    moved.append(name)
        finally:
            os.close(trash_fd)
        if moved:
            os.fsync(store_fd)
    finally:
        os.close(store_fd)
    return moved


def _rename_out(store_fd: int, trash_fd: int, name: str, trash: str) -> bool:
    """One rename(2) of ``store/<name>`` to ``.trash/<name>``; False if it is gone."""
    import errno

    for _ in range(3):
        try:
            os.rename(name, name, src_dir_fd=store_fd, dst_dir_fd=trash_fd)
            return True
        except FileNotFoundError:
            return False
        except PermissionError:
            # Moving a directory to another parent rewrites its "..": the sealed
            # (0555) root must be writable first, unless we are root. The path
            # stays whole meanwhile: only its top directory's mode changes.
            os.chmod(name, 0o755, dir_fd=store_fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            force_remove(os.path.join(trash, name))  # a leftover of an earlier, killed gc
    os.rename(name, name, src_dir_fd=store_fd, dst_dir_fd=trash_fd)
    return True


def pool_keys(entries: Iterable[Sequence[object]]) -> list[str]:
    """The pool names of a record's file entries (`store.unpack.link_key` on a record
    entry: the hex digest, ``x`` appended for an executable)."""
    return [f"{e[2]}x" if e[1] == "x" else str(e[2]) for e in entries if e[1] in ("f", "x")]


def empty_trash(store_dir: str, stop: Callable[[], bool] | None = None, *,
                first: Iterable[Callable[[], object]] = (),
                pool: tuple[str, Mapping[str, list[str]]] | None = None) -> tuple[int, bool]:
    """Delete everything in ``.trash/``: (bytes freed in the pool, True if all went).

    `first`: other deletions to start before the trees and run alongside them
    (the moved paths' records and claims, in other directories). `pool`: the
    pool directory and, per trashed path, the pool names of its files; once a
    tree is gone, each of its files left with the pool's link alone is
    released at once, while other trees are still being deleted (`sweep_pool`
    then only has to look at what is left). Nothing in the trash is a store
    path any more, so stopping halfway is safe: the next gc carries on.
    """
    trash = os.path.join(store_dir, TRASH)
    try:
        names = sorted(os.listdir(trash))
    except FileNotFoundError:
        names = []
    links_fd = -1
    if pool is not None and names:
        try:  # noqa: SIM105 (contextlib costs an import on the lean path)
            links_fd = _dir_fd(pool[0])
        except FileNotFoundError:
            pass
    keys = pool[1] if pool is not None else {}

    def tree(name: str) -> Callable[[], int]:
        def job() -> int:
            force_remove(os.path.join(trash, name))
            return _release(links_fd, keys.get(name, ())) if links_fd >= 0 else 0
        return job

    def run(job: Callable[[], object]) -> int:
        done = job()
        return done if isinstance(done, int) else 0

    first = list(first)
    try:
        return _each([*first, *(tree(name) for name in names)], run, stop, must=len(first))
    finally:
        if links_fd >= 0:
            os.close(links_fd)


def _release(links_fd: int, keys: Iterable[str]) -> int:
    """Unlink the pool entries among `keys` whose only link is the pool's; bytes freed."""
    freed = 0
    for key in keys:
        try:
            st = os.stat(key, dir_fd=links_fd, follow_symlinks=False)
            if st.st_nlink == 1:
                os.unlink(key, dir_fd=links_fd)
                freed += st.st_size
        except FileNotFoundError:
            continue  # another worker released it (the same content in two dead paths)
    return freed


def sweep_pool(links_dir: str, stop: Callable[[], bool] | None = None) -> int:
    """Unlink pooled files whose only link is the pool's own; the bytes freed."""
    try:
        fd = _dir_fd(links_dir)
    except FileNotFoundError:
        return 0
    try:
        names = os.listdir(fd)
        chunks = [names[i:i + _CHUNK] for i in range(0, len(names), _CHUNK)]
        return _each(chunks, lambda chunk: _release(fd, chunk), stop)[0]
    finally:
        os.close(fd)


#: Threads deleting at once, and the pool entries one of them takes at a time.
WORKERS = 4
_CHUNK = 256


def _each(items: list[T], work: Callable[[T], int], stop: Callable[[], bool] | None,
          must: int = 0) -> tuple[int, bool]:
    """The sum of `work(item)` over `items`, and True unless `stop()` cut it short.

    Deleting is bound by the filesystem's latency (its journal, the disk), not
    by the CPU, and the GIL is released in each syscall: a few threads with a
    call in flight each get through a trash of a thousand store paths several
    times faster than one. Each item is one whole store path (or one chunk of
    the pool), so stopping never splits one; the first `must` items run even
    after `stop()` (they finish what was already decided).
    """
    if not items:
        return 0, True
    # (index, item), last first: list.pop is atomic, each item goes to one worker
    todo = list(reversed(list(enumerate(items))))
    totals: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        total = 0
        try:
            while True:
                try:
                    at, item = todo.pop()
                except IndexError:
                    break
                if at >= must and stop is not None and stop():
                    todo.append((at, item))  # left undone: the caller sees it
                    break
                total += work(item)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)
        totals.append(total)

    if len(items) <= 2:
        worker()
    else:
        import threading

        threads = [threading.Thread(target=worker, daemon=True)
                   for _ in range(min(WORKERS, len(items)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return sum(totals), not todo


def orphan_records(store_dir: str) -> list[str]:
    """File names of records whose store path is gone (a crash between record and
    rename, or a gc killed after moving the path to the trash)."""
    try:
        listing = os.listdir(store_dir)
    except FileNotFoundError:
        return []
    names = {n for n in listing if is_store_name(n)}
    return sorted(n for n in listing
                  if n.endswith(RECORD_SUFFIX) and n[: -len(RECORD_SUFFIX)] not in names
                  and is_store_name(n[: -len(RECORD_SUFFIX)]))


def remove_records(store_dir: str, files: Iterable[str]) -> None:
    """Unlink record files (``<name>.meta``) of `store_dir`."""
    files = list(files)
    if not files:
        return
    fd = _dir_fd(store_dir)
    try:
        for f in files:
            try:  # noqa: SIM105 (contextlib costs an import on the lean path)
                os.unlink(f, dir_fd=fd)
            except FileNotFoundError:
                pass
    finally:
        os.close(fd)
