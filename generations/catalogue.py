"""A small cache of what the store holds, so `omg use` needs neither LMDB nor hashing.

``profiles/.catalogue.json`` maps each store path name to its package name,
version and exported environment, and each env plan key to the env built for
it. It is only a cache: every read is checked against the store directory
listing (a path no longer on disk is ignored, a path on disk but not in the
file is looked up in the store and added), and an env hit is confirmed by
comparing the env's manifest with the plan's. Losing the file, or a lost
update between two concurrent writers, costs a slower next run, nothing else.

Two more maps hold answers `omg.profiles.use` computed, so that the next `use` of
the same tools plans nothing:

- ``specs``: ``user:tool@spec`` -> the store path a spec resolved to and the
  tool's store paths that user could resolve at that time (`store.claims`).
  Resolution is a pure function of those names (versions come from the
  immutable records), so the answer stands while that list is exactly the same:
  it is checked against the store listing and the claims, which are a stat or
  two per path of the tool.
- ``uses``: (current env, resolved tools) -> the env `use` made and the
  conflicts it reported. Store paths never change under their name, so the
  env plan is a pure function of that key; a hit stands while the env exists.

Both maps are answers of code as much as of data, so they are kept per code stamp
(size and mtime of the env planner's sources and of those the caller names, such as
its spec resolver, `code_stamp`): an upgrade or an edit of that code starts afresh,
and two installations of omg sharing one OMG_HOME (each with its own stamp) keep
their own answers instead of dropping each other's. A caller naming no sources reads
what the store holds and keeps no answers. This layer never names the code above it:
the caller passes its source paths.

Import cost: this is on the path of `omg use` timed against ``python -c pass``, so
it imports only `os` at the top, works on path strings, and reads JSON with
`store.leanjson`; the store is opened only to learn a path the file does not know.
A newer catalogue format is simply ignored (it is a cache).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, TypeGuard

    from store.index import Index

    #: One resolved tool as the hot path keys it: (tool, version, store path, env pairs).
    ToolTuple = tuple[str, str, str, tuple[tuple[str, str], ...]]
    #: A store path of a package: (version, store path name, the env its record names).
    Installed = tuple[str, str, dict[str, object]]
    #: ``[package, version, env, added]``, as the catalogue file holds it
    #: (`_path_entry_ok` checks that shape): a list, so its items are Any to mypy.
    PathEntry = list[Any]

CATALOGUE_FORMAT = 1
FILE_NAME = ".catalogue.json"
ENV_PACKAGE = "profile"
#: Bounds of the answer maps; the oldest entries go first (insertion order).
MAX_SPECS = 512
MAX_USES = 512
#: Code stamps whose answers are kept (installations of omg sharing this home).
MAX_STAMPS = 4



def store_names(store_dir: str) -> list[str]:
    """Store path names on disk (not records, staging or the link pool)."""
    try:
        return [n for n in os.listdir(store_dir)
                if len(n) > 33 and n[32] == "-" and not n.endswith(".meta")]
    except FileNotFoundError:
        return []


#: This layer's code whose answers ``specs`` and ``uses`` cache (the env planner and
#: builder), beside this file; the caller names its own (`Catalogue`'s `sources`).
STAMPED_SOURCES = ("env.py", "envstore.py", "manifest.py")


def code_stamp(sources: Sequence[str]) -> str:
    """Size and mtime of `STAMPED_SOURCES` and of the caller's `sources` (absolute
    paths, stat-ed, never imported); "" if one cannot be stat-ed: no caching."""
    here = os.path.dirname(os.path.abspath(__file__))
    parts = []
    for path in [here + "/" + name for name in STAMPED_SOURCES] + list(sources):
        try:
            st = os.stat(path)
        except OSError:
            return ""
        parts.append(f"{st.st_size}.{st.st_mtime_ns}")
    return "/".join(parts)


def spec_key(tool: str, spec: str, user: str) -> str:
    """Per user: two users may resolve the same spec differently (`store.claims`)."""
    return f"{user}:{tool}@{spec}"


def use_key(cur_env: str, tools: Sequence[tuple[object, ...]]) -> str:
    """The ``uses`` key; `tools` in priority order, each as a plain `ToolTuple`."""
    return repr((cur_env, tuple(tuple(t) for t in tools)))


def _read(path: str) -> dict[str, object]:
    from store.leanjson import loads

    try:
        with open(path, "rb") as f:
            data = loads(f.read())
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if isinstance(data, dict) and data.get("format") == CATALOGUE_FORMAT:
        return data
    return {}


def _dict(data: dict[str, object], key: str) -> dict[str, object]:
    value = data.get(key)
    return dict(value) if isinstance(value, dict) else {}


def _answers(data: dict[str, object], stamp: str) -> dict[str, dict[str, dict[str, object]]]:
    """Every stamp's answers (``{stamp: {"specs": ..., "uses": ...}}``), damaged ones out."""
    found = _dict(data, "answers")
    return {k: {"specs": _dict(v, "specs"), "uses": _dict(v, "uses")}
            for k, v in found.items() if isinstance(v, dict) and k}


def _path_entry_ok(entry: object) -> TypeGuard[PathEntry]:
    """[package, version, env, added], as `_learn` and `remember_env` write them."""
    return (isinstance(entry, list) and len(entry) == 4 and isinstance(entry[0], str)
            and isinstance(entry[1], str) and isinstance(entry[2], dict)
            and isinstance(entry[3], int | float) and not isinstance(entry[3], bool))


def _by_age(names: list[str], paths: dict[str, PathEntry]) -> list[str]:
    """Oldest first, so that of several store paths with one version (a rebuild of
    it, or another source's bytes) the one added last comes last and wins."""
    return sorted(names, key=lambda n: (paths[n][3], n))


class Catalogue:
    """The catalogue of one OMG_HOME, as `user` asks it; read once, saved once.

    `index` returns the process's open `Index` (LMDB wants one per process); it is
    called only when a store path must be learned. `sources` are the absolute paths
    of the caller's code the ``specs`` and ``uses`` answers depend on (its resolver
    and planner); without them the catalogue keeps no answers.
    """

    def __init__(self, home: str, user: str,
                 index: Callable[[], Index | None] | None = None,
                 sources: Sequence[str] = ()) -> None:
        self.home = home
        self.store = home + "/store"
        self.user = user
        self.path = home + "/profiles/" + FILE_NAME
        self._index = index
        data = _read(self.path)
        # A damaged entry is dropped (and learned again), never trusted.
        self._paths: dict[str, PathEntry] = {
            k: v for k, v in _dict(data, "paths").items() if _path_entry_ok(v)}
        self._envs: dict[str, str] = {
            k: v for k, v in _dict(data, "envs").items() if isinstance(v, str)}
        self._stamp = code_stamp(sources) if sources else ""
        self._answers = _answers(data, self._stamp)
        mine = self._answers.get(self._stamp, {})
        self._specs: dict[str, object] = mine.get("specs", {})
        self._uses: dict[str, object] = mine.get("uses", {})
        self._names: list[str] | None = None
        self._dirty = False

    def on_disk(self) -> list[str]:
        """Store path names on disk, sorted (listed once per command)."""
        if self._names is None:
            self._names = sorted(store_names(self.store))
        return self._names

    # What the store holds ----------------------------------------------------------

    def packages(self) -> dict[str, list[Installed]]:
        """package name -> [(version, store path name, env)] for every non-env store path,
        learning the paths the file does not know from the store."""
        names = self.on_disk()
        missing = [n for n in names if n not in self._paths]
        if missing:
            self._learn(missing)
        on_disk = set(names)
        for n in [n for n in self._paths if n not in on_disk]:
            del self._paths[n]
            self._dirty = True
        out: dict[str, list[Installed]] = {}
        for name in _by_age([n for n in names if n in self._paths], self._paths):
            entry = self._paths.get(name)
            if not entry or entry[0] == ENV_PACKAGE:
                continue
            out.setdefault(entry[0], []).append((entry[1], name, entry[2] or {}))
        return out

    def _learn(self, names: list[str]) -> None:
        from pathlib import Path

        from store.layout import Layout
        from store.local import LocalStore

        store = LocalStore(Layout(Path(self.home)),
                           index=self._index() if self._index else None)
        try:
            for name in names:
                try:
                    rec = store.get(name)
                except Exception:  # mid-ingest or damaged: not a candidate this time
                    continue
                origin = rec.origin if isinstance(rec.origin, dict) else {}
                env = origin.get("env") if isinstance(origin.get("env"), dict) else {}
                self._paths[name] = [rec.name, rec.version, env, rec.created]
                self._dirty = True
        finally:
            if self._index is None:
                store.close()

    def known(self, tool: str) -> list[str] | None:
        """`tool`'s store paths on disk that this user may resolve (`store.claims`),
        sorted; None while the disk holds paths this file has not learned."""
        from store.claims import resolvable

        names = self.on_disk()
        if any(not _path_entry_ok(self._paths.get(n)) for n in names):
            return None  # new to the catalogue (or damaged): `packages` learns it
        return _by_age([n for n in names if self._paths[n][0] == tool
                        and resolvable(self.store, n, self.user)], self._paths)

    # Answers -------------------------------------------------------------------------

    def resolved(self, tool: str, spec: str) -> ToolTuple | None:
        """(tool, version, store path, env pairs) for `tool@spec` when known for certain:
        an exact version among the user's paths, or a remembered answer still valid."""
        have = self.known(tool)
        if have is None:
            return None
        # An exact version resolves to itself (omg.spec.select); the last added wins.
        chosen = next((n for n in reversed(have) if self._paths[n][1] == spec), None)
        if chosen is None:
            cached = self._specs.get(spec_key(tool, spec, self.user))
            if not (isinstance(cached, list) and len(cached) == 2
                    and cached[1] == sorted(have)):
                return None
            chosen = cached[0]
            if chosen not in have:
                return None
        _, version, env, _ = self._paths[chosen]
        pairs = tuple(sorted((str(k), str(v)) for k, v in env.items()))
        return tool, version, chosen, pairs

    def used(self, cur_env: str, tools: Sequence[tuple[object, ...]]
             ) -> tuple[str, list[tuple[str, str, str]]] | None:
        """(env, conflicts) a `use` of `tools` on `cur_env` made, if known and on disk."""
        entry = self._uses.get(use_key(cur_env, tools))
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            return None
        env, conflicts = entry
        if not (isinstance(conflicts, list) and all(
                isinstance(c, list) and len(c) == 3 and all(isinstance(x, str) for x in c)
                for c in conflicts)):
            return None
        if len(env) < 34 or "/" in env or not os.path.isdir(self.store + "/" + env):
            return None
        return env, [(p, w, lo) for p, w, lo in conflicts]

    def env(self, key: str, manifest: bytes) -> str | None:
        """The env built for plan `key`, confirmed by its manifest's bytes."""
        name = self._envs.get(key)
        if not name:
            return None
        try:
            with open(f"{self.store}/{name}/manifest.json", "rb") as f:
                if f.read() == manifest:
                    return name
        except OSError:
            pass
        return None

    def remember_env(self, key: str, name: str) -> None:
        if self._envs.get(key) != name:
            self._envs[key] = name
            self._dirty = True
        if name not in self._paths:
            self._paths[name] = [ENV_PACKAGE, name[33:].partition("-")[2], {}, 0.0]
            self._dirty = True

    def remember_spec(self, tool: str, spec: str, candidates: Sequence[str],
                      chosen: str) -> None:
        """`tool@spec` chose `chosen` among the tool's store paths `candidates` that
        this user may resolve."""
        self._remember(self._specs, spec_key(tool, spec, self.user),
                       [chosen, sorted(candidates)], MAX_SPECS)

    def remember_use(self, cur_env: str, tools: Sequence[tuple[object, ...]], env: str,
                     conflicts: Sequence[tuple[str, str, str]]) -> None:
        """`use` of `tools` on top of `cur_env` made `env`, reporting `conflicts`."""
        self._remember(self._uses, use_key(cur_env, tools),
                       [env, [list(c) for c in conflicts]], MAX_USES)

    def _remember(self, answers: dict[str, object], key: str, entry: list[object],
                  limit: int) -> None:
        """Keep `entry` as the newest answer (oldest dropped past `limit`); not without a
        code stamp, since an answer of unknown code could never be checked."""
        if self._stamp and answers.get(key) != entry:
            answers.pop(key, None)
            answers[key] = entry
            for old in list(answers)[:max(0, len(answers) - limit)]:
                del answers[old]
            self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        import json

        from store.fsutil import atomic_write

        answers = {k: v for k, v in self._answers.items() if k != self._stamp}
        if self._stamp:  # this installation's answers last: the newest stamp kept longest
            answers[self._stamp] = {"specs": self._specs, "uses": self._uses}
        for old in list(answers)[:max(0, len(answers) - MAX_STAMPS)]:
            del answers[old]
        data = json.dumps({"format": CATALOGUE_FORMAT, "paths": self._paths,
                           "envs": self._envs, "answers": answers}, sort_keys=False).encode()
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            atomic_write(self.path, data, 0o644, durable=False)
        except OSError:
            pass  # a cache: a read-only profiles/ (shared store) just stays slower
        self._dirty = False
