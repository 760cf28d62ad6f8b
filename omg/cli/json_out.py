"""``--json``: the documented shapes of every command's output (docs/json.md).

The use cases' results (`store.results`) are also omgd's wire form, so they stay as
they are; this module maps them to the shapes ``omg/schemas/omg.schema.json`` states,
one function per shape, for the typer commands and the lean doors alike. The rules:
a store path is ``{"name", "path"}`` (`store_path`), a time is ISO 8601 UTC
(`iso_time`), an env value has its placeholders filled in for this user (`Paths`),
"nothing" is ``null``, and an object at the top level carries ``"schema":
SCHEMA_VERSION`` (lists keep their plain top level).

Imports nothing at module level but `os`: the search fast path prints through it.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from generations.gc import GcResult
    from generations.roots import GcRoot
    from omg import profiles as P
    from omg.arch.install import InstallResult
    from omg.arch.upgrade import UpdateResult
    from omg.config_edit import ConfigEntry
    from omg.doctor import RepairResult
    from omg.imports import Imported
    from omg.install import InstalledVersion
    from omg.install import InstallResult as RuntimeInstall
    from omg.install import Outdated as RuntimeOutdated
    from omg.store_cases import StoreInfo, VerifyResult
    from omg.venvs import VenvInfo
    from store.record import PathRecord

    Json = dict[str, object]

#: The version of the shapes below; a change that drops or retypes a field bumps it.
SCHEMA_VERSION = 1


class Paths:
    """Where this command's store is and this user's writable prefix: what turns names
    and placeholders into paths."""

    def __init__(self, home_dir: str, prefix: str | None = None) -> None:
        self.store_dir = f"{home_dir}/store"
        self._prefix = prefix

    @property
    def prefix(self) -> str:
        if self._prefix is None:
            from omg.providers.base import default_prefix

            self._prefix = str(default_prefix())
        return self._prefix

    def store_path(self, name_or_path: str) -> Json | None:
        """A store path (its name, or its full path) as ``{"name", "path"}``; None for ""."""
        if not name_or_path:
            return None
        name = os.path.basename(name_or_path.rstrip("/"))
        return {"name": name, "path": f"{self.store_dir}/{name}"}

    def store_paths(self, names: Iterable[str]) -> list[Json | None]:
        return [self.store_path(n) for n in names]

    def resolve(self, value: str, store_path: str) -> str:
        """A tool's recorded env value (generations.env) with its placeholders filled
        in: the tool's own store path, this user's writable prefix."""
        from generations.env import PREFIX, STORE_PATH

        value = value.replace(STORE_PATH, f"{self.store_dir}/{store_path}")
        return value.replace(PREFIX, self.prefix)


def iso_time(t: float | int | None) -> str | None:
    """Seconds since the epoch as ``2026-11-30T05:55:21Z``; None when unknown (0)."""
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t else None


def _time_of(value: object) -> str | None:
    """A time read from a file: seconds, if it is a number."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return iso_time(value) if ok else None  # type: ignore[arg-type]


def versioned(data: Json) -> Json:
    """A top-level object, with the version of its shape."""
    return {"schema": SCHEMA_VERSION, **data}


def plain(value: object) -> object:
    from store.results import to_plain

    return to_plain(value)


def _none_if_empty(value: str) -> str | None:
    return value or None


# Profiles -----------------------------------------------------------------------------


def tool(p: Paths, t: P.ResolvedTool) -> Json:
    return {"tool": t.tool, "version": t.version, "store_path": p.store_path(t.store_path),
            "env": {k: p.resolve(v, t.store_path) for k, v in t.env}}


def use(p: Paths, r: P.UseResult) -> Json:
    """`use` and `sync`."""
    return versioned({
        "profile": r.profile, "generation": r.generation, "env": p.store_path(r.env),
        "tools": [tool(p, t) for t in r.tools],
        "conflicts": [{"path": c.path, "winner": c.winner, "loser": c.loser}
                      for c in r.conflicts],
        "unchanged": r.unchanged, "version_files": list(r.version_files),
        "warnings": list(r.warnings)})


def switch(r: P.SwitchResult) -> Json:
    return versioned({"profile": r.profile, "previous": r.previous,
                      "generation": r.generation, "tools": dict(r.tools)})


def uninstall(p: Paths, r: P.UninstallResult) -> Json:
    return versioned({"profile": r.profile, "generation": r.generation,
                      "env": p.store_path(r.env), "removed": list(r.removed),
                      "unrooted": list(r.unrooted)})


def generations(p: Paths, gens: list[P.GenerationInfo]) -> list[Json]:
    return [{"number": g.number, "time": iso_time(g.time), "command": g.command,
             "current": g.current, "env": p.store_path(g.env), "tools": dict(g.tools),
             "changes": list(g.changes), "missing": g.missing} for g in gens]


def diff(d: P.GenerationDiff) -> Json:
    return versioned({"a": d.a, "b": d.b, "added": dict(d.added), "removed": dict(d.removed),
                      "changed": {t: {"from": a, "to": b}
                                  for t, (a, b) in d.changed.items()}})


def deleted(r: P.DeleteResult) -> Json:
    return versioned({"profile": r.profile, "deleted": list(r.deleted),
                      "kept_current": r.kept_current})


def current(p: Paths, c: P.CurrentInfo) -> Json:
    return versioned({"profile": c.profile, "generation": c.generation,
                      "env": p.store_path(c.env), "bin": c.bin,
                      "tools": [tool(p, t) for t in c.tools]})


def which(p: Paths, w: P.WhichInfo) -> Json:
    return versioned({"executable": w.executable, "tool": w.tool, "version": w.version,
                      "store_path": p.store_path(w.store_path), "path": w.path})


def gc(p: Paths, r: GcResult) -> Json:
    return versioned({
        "dry_run": r.dry_run, "dead": p.store_paths(r.dead), "freed_bytes": r.freed_bytes,
        "live": r.live,
        "deleted_generations": [{"profile": who, "generation": n}
                                for who, n in r.deleted_generations],
        "cache_files": r.cache_files, "cache_bytes": r.cache_bytes})


def env(p: Paths, c: P.CurrentInfo, variables: Mapping[str, str]) -> Json:
    """`omg env`: the variables are already filled in (`omg.environment.variables`)."""
    return versioned({"profile": c.profile, "generation": c.generation,
                      "env": p.store_path(c.env), "path": c.bin,
                      "variables": dict(variables)})


# Runtimes -----------------------------------------------------------------------------


def installed(p: Paths, rows: list[InstalledVersion]) -> list[Json]:
    return [{"tool": v.tool, "version": v.version, "store_path": p.store_path(str(v.store_path)),
             "size": v.size, "kept": v.kept} for v in rows]


def runtime_installs(p: Paths, results: list[RuntimeInstall]) -> list[Json]:
    return [{"tool": r.tool, "version": r.version,
             "store_path": p.store_path(str(r.store_path)), "created": r.created,
             "size": r.record.size, "urls": list(r.urls), "warnings": list(r.warnings)}
            for r in results]


def rows(items: Iterable[object]) -> list[Json]:
    """Results whose fields are all plain already (remote versions, outdated rows);
    an empty text (no date, no LTS line) is null."""
    out = []
    for item in items:
        data = plain(item)
        assert isinstance(data, dict), f"{type(item).__name__} is not a result"
        out.append({k: None if v == "" else v for k, v in data.items()})
    return out


def imported(p: Paths, results: list[Imported]) -> list[Json]:
    return [{"tool": r.tool, "version": r.version, "source": r.source, "path": r.path,
             "store_path": p.store_path(r.store_path), "created": r.created,
             "skipped": _none_if_empty(r.skipped)} for r in results]


def venv(p: Paths, v: VenvInfo) -> Json:
    return {"name": _none_if_empty(v.name), "path": v.path, "python": _none_if_empty(v.python),
            "store_path": p.store_path(v.store_path), "project": _none_if_empty(v.project)}


def config_entries(entries: list[ConfigEntry]) -> list[Json]:
    return [{"key": e.key, "value": e.value, "source": e.source, "type": e.type,
             "variable": _none_if_empty(e.variable)} for e in entries]


# The store ------------------------------------------------------------------------------


def record(p: Paths, r: PathRecord) -> Json:
    """A store path's record (`store ls`, `store info`, `store add`)."""
    return {"store_path": p.store_path(r.path), "name": r.name, "version": r.version,
            "hash": r.hash, "size": r.size, "files": r.files,
            "references": p.store_paths(r.references), "origin": r.origin,
            "metadata": r.metadata, "created_at": iso_time(r.created)}


def store_info(p: Paths, found: StoreInfo) -> Json:
    claims = [{"scope": c.get("scope"), "kind": c.get("kind"), "user": c.get("user"),
               "time": _time_of(c.get("time")), "detail": c.get("detail")}
              for c in found.claims]
    return versioned({**record(p, found.record), "claims": claims})


def roots(p: Paths, found: list[GcRoot]) -> list[Json]:
    """`store roots`: a root's name, the store path it holds (or null), its target."""
    return [{"name": r.name, "store_path": p.store_path(r.store_path), "target": r.target}
            for r in found]


def verify(p: Paths, r: VerifyResult) -> Json:
    return versioned({"checked": r.checked, "problems": [
        {"store_path": p.store_path(x.path), "file": _none_if_empty(x.file), "what": x.what}
        for x in r.problems]})


def doctor(problems: list[str], store_paths: int) -> Json:
    """`omg doctor`: each problem line is ``KIND: DETAIL`` (`omg.doctor.diagnose`)."""
    found = [dict(zip(("kind", "detail"), line.split(": ", 1), strict=True))
             for line in problems]
    return versioned({"ok": not problems, "store_paths": store_paths, "problems": found,
                      "repair": None})


def repaired(r: RepairResult) -> Json:
    """`omg doctor --repair`."""
    return versioned({"ok": True, "store_paths": r.store_paths, "problems": [],
                      "repair": {"generations": r.generations, "notes": list(r.notes),
                                 "old_index": r.old_index}})


# Arch packages --------------------------------------------------------------------------


def package_install(p: Paths, r: InstallResult) -> Json:
    return versioned({
        "built": [{"name": b.name, "version": b.version, "store_path": p.store_path(b.store_path),
                   "package_file": _none_if_empty(b.package_file), "reused": b.reused,
                   "substituted": _none_if_empty(b.substituted)}
                  for b in r.built],
        "order": list(r.order), "repo_deps": list(r.repo_deps),
        "repo_installed": list(r.repo_installed),
        "system_installed": list(r.system_installed),
        "findings": [f.to_json() for f in r.findings]})


def package_update(p: Paths, r: UpdateResult, runtimes: Iterable[RuntimeOutdated]) -> Json:
    """`omg update`: the builds as one `pkg-install` document, and the rest."""
    from omg.arch.install import InstallResult as Builds

    merged = Builds()
    for b in r.builds:
        for key in ("built", "repo_installed", "system_installed", "order", "repo_deps",
                    "findings"):
            getattr(merged, key).extend(getattr(b, key))
    return {**package_install(p, merged), "synced": r.synced,
            "repo_upgraded": rows(r.repo_upgraded),
            "outdated": [{"kind": "runtime", **x} for x in rows(runtimes)]
            + [{"kind": "package", **x} for x in rows(r.outdated)],
            "left": rows(r.left), "notes": list(r.notes)}


def package_info(data: Mapping[str, object]) -> Json:
    from omg.arch.info import DATES

    out = dict(data)
    for key in DATES:  # seconds since the epoch (the AUR's, libalpm's)
        if key in out:
            when = out[key]
            out[key] = iso_time(when) if isinstance(when, int | float) else None
    return versioned(out)
