"""pyalpm access: one handle per command over the configured root and dbpath.

The only module importing pyalpm. Foreign errors become omg errors here.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from omg.arch import pacmanconf
from omg.arch.settings import ArchSettings
from store.errors import IntegrityError, UsageError

#: pyalpm's Package and DB: pyalpm has no type stubs, so to the type checker they are Any.
Package = Any
Database = Any


def _pyalpm() -> ModuleType:
    try:
        import pyalpm
    except ImportError as exc:
        raise UsageError("pyalpm is not installed", hint="pip install pyalpm (needs libalpm)") \
            from exc
    module: ModuleType = pyalpm
    return module


class Alpm:
    def __init__(self, arch: ArchSettings) -> None:
        self.pyalpm = _pyalpm()
        self.conf = pacmanconf.parse(arch.pacman_conf)
        self.root = root = arch.root or self.conf.root
        self.dbpath = dbpath = arch.dbpath or self.conf.dbpath
        try:
            self.handle = self.pyalpm.Handle(root, dbpath)
            self.syncdbs = []
            for repo in self.conf.repos:
                if (Path(dbpath) / "sync" / f"{repo.name}.db").exists():
                    db = self.handle.register_syncdb(repo.name, 0)
                    db.servers = list(repo.servers)
                    self.syncdbs.append(db)
            self.localdb = self.handle.get_localdb()
        except self.pyalpm.error as exc:
            raise IntegrityError(f"libalpm: {exc}") from exc

    def _check(self, db: Database) -> list[Package]:
        try:
            packages: list[Package] = db.pkgcache
        except self.pyalpm.error as exc:
            raise IntegrityError(f"corrupt sync database {db.name}: {exc}",
                                 hint="refresh it with `pacman -Sy`") from exc
        return packages

    def find_repo(self, name: str) -> Package | None:
        for db in self.syncdbs:
            pkg = db.get_pkg(name)
            if pkg is not None:
                return pkg
        return None

    def satisfier(self, dep: str) -> Package | None:
        """A repo package satisfying `dep` (name, version constraint or provides)."""
        for db in self.syncdbs:
            pkg = self.pyalpm.find_satisfier(self._check(db), dep)
            if pkg is not None:
                return pkg
        return None

    def installed(self, dep: str) -> Package | None:
        return self.pyalpm.find_satisfier(self.localdb.pkgcache, dep)

    def foreign(self) -> list[Package]:
        """Local packages no sync db has: AUR or hand-installed."""
        return [p for p in self.localdb.pkgcache if self.find_repo(p.name) is None]

    def vercmp(self, a: str, b: str) -> int:
        return int(self.pyalpm.vercmp(a, b))


def vercmp(a: str, b: str) -> int:
    return int(_pyalpm().vercmp(a, b))
