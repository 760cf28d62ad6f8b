"""Use cases of the full upgrade: which AUR packages are outdated (store and system).

Moved out of install.py so the upgrade flow (`omg update`) grows here, apart from the
install/build flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from omg.arch import aur
from omg.arch.settings import ArchSettings, from_settings
from store.local import LocalStore

if TYPE_CHECKING:
    from omg.config import Settings


@dataclass
class Outdated:
    name: str
    current: str
    latest: str
    where: str  # "store" or "system"


def outdated(settings: Settings, arch: ArchSettings | None = None) -> list[Outdated]:
    """AUR packages (store paths of AUR origin, foreign local packages) the AUR has newer."""
    arch = arch or from_settings(settings)
    from omg.arch.alpm import Alpm, vercmp

    alpm = Alpm(arch)
    current: dict[tuple[str, str], str] = {}
    store = LocalStore(settings.layout, limits=settings.limits)
    for rec in store.records():
        origin = rec.origin or {}
        if origin.get("kind") == "aur":
            key = (rec.name, "store")
            v = str(origin.get("version", rec.version))
            if key not in current or vercmp(v, current[key]) > 0:
                current[key] = v
    for pkg in alpm.foreign():
        current[(pkg.name, "system")] = pkg.version
    if not current:
        return []
    infos = aur.info(arch.aur_url, sorted({n for n, _ in current}), index=store.index, ttl=0)
    out = []
    for (name, where), version in sorted(current.items()):
        info = infos.get(name)
        if info is not None and vercmp(str(info["Version"]), version) > 0:
            out.append(Outdated(name, version, str(info["Version"]), where))
    return out
