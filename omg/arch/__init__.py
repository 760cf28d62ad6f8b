"""Arch Linux packages and the AUR: the only part of omg that imports pyalpm or runs
makepkg and pacman.

Modules (each imported lazily; nothing heavy happens at import time):
- `settings`: `ArchSettings` (pacman.conf, root, dbpath, AUR URL, build user) from Settings.
- `names`: package-name validation and the epoch mapping for store versions (pure).
- `pacmanconf`: pacman.conf parsing (pure).
- `syncdb`: reading sync database files (the `desc` format) without libalpm.
- `searchindex`: the LMDB search index, rebuilt only when a sync db's (mtime, size) changes.
- `search`: ranking and merging repo and AUR results (no typer, rich, httpx or pyalpm).
- `fastsearch`: the `omg search` fast path for omg.entry; `fastconfig`: the few settings
  it needs, without omg.config's imports; `daemonsearch`: asking omgd in the shared mode.
- `memsearch`: the search index held in memory by omgd (`omg.daemon.search_methods`).
- `aur`: the AUR RPC v5 client and snapshot download (the one module importing httpx),
  with an expiring LMDB cache.
- `alpm`: pyalpm access (handles, info, satisfiers, local db, vercmp).
- `resolve`: dependency resolution and topological build order (pure).
- `review`: the gate before a build (files or their diff, findings, dependency tree);
  `lint`: the static check of PKGBUILDs and install scripts (pure).
- `build`: makepkg as an unprivileged build user; `install`: the use cases
  (`install_packages`, `build_aur`); `upgrade`: `omg update` and
  `outdated`; `devel`: devel packages by their git sources; `remove`: `omg remove`.
"""

from __future__ import annotations

# Not `from typing import ...`: this package's __init__ runs on the `omg search` fast
# path, where importing typing costs a sixth of the budget. Type checkers treat any
# name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from omg.arch.install import InstallResult
    from omg.config import Settings


# **kwargs: Any: the keyword arguments of `omg.arch.install.install_packages`, passed on.
def install_packages(settings: Settings, names: list[str], **kwargs: Any) -> InstallResult:
    """Install `aur/NAME` (built into the store) or plain repo names (pacman -S); see install."""
    from omg.arch.install import install_packages as _impl

    return _impl(settings, names, **kwargs)
