"""`omg info`: one package from the sync databases (pyalpm) or the AUR (RPC info).

Moved out of omg/arch/install.py: showing a package is not installing one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omg.arch import aur
from omg.arch.names import split_target
from omg.arch.settings import ArchSettings, from_settings
from store.errors import NotFound
from store.local import LocalStore

if TYPE_CHECKING:
    from omg.config import Settings


def info(settings: Settings, name: str, arch: ArchSettings | None = None
         ) -> dict[str, object]:
    arch = arch or from_settings(settings)
    repo, name = split_target(name)
    if repo != "aur":
        from omg.arch.alpm import Alpm

        try:
            return Alpm(arch).info(name)
        except NotFound:
            if repo is not None:
                raise
    store = LocalStore(settings.layout, limits=settings.limits)
    got = aur.info(arch.aur_url, [name], index=store.index, ttl=arch.aur_ttl)
    if name not in got:
        raise NotFound(f"package {name!r} not found in the repositories or the AUR")
    i = got[name]
    return {
        "repo": "aur", "name": i["Name"], "version": i.get("Version"),
        "description": i.get("Description"), "url": i.get("URL"),
        "depends": i.get("Depends") or [], "makedepends": i.get("MakeDepends") or [],
        "optdepends": i.get("OptDepends") or [], "provides": i.get("Provides") or [],
        "votes": i.get("NumVotes"), "popularity": i.get("Popularity"),
        "out_of_date": i.get("OutOfDate"), "maintainer": i.get("Maintainer"),
        "package_base": i.get("PackageBase"),
    }
