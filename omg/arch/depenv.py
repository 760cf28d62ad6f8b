"""The build environment of AUR dependencies taken from the store (pure).

makepkg runs with `--nodeps` (pacman cannot see store paths), so an AUR dependency
built into the store is made visible to the build through the search paths that
compilers, linkers, pkg-config and shells read. Store paths keep the package's own
layout (``usr/bin``, ``usr/lib``...). Each variable lists the dependencies in the
order given (dependencies first); `omg.arch.build.makepkg` puts them before its own.
"""

from __future__ import annotations

from collections.abc import Sequence

#: variable -> directories of a package (relative to its store path) it searches.
SEARCH_DIRS: dict[str, tuple[str, ...]] = {
    "PATH": ("usr/bin",),
    "PKG_CONFIG_PATH": ("usr/lib/pkgconfig", "usr/share/pkgconfig"),
    "CPATH": ("usr/include",),
    "LIBRARY_PATH": ("usr/lib",),
    "LD_LIBRARY_PATH": ("usr/lib",),
    "ACLOCAL_PATH": ("usr/share/aclocal",),
    "CMAKE_PREFIX_PATH": ("usr",),
    "XDG_DATA_DIRS": ("usr/share",),
}


def dep_env(store_dir: str, paths: Sequence[str]) -> dict[str, str]:
    """The variables for store paths `paths` (names under `store_dir`); {} for none."""
    if not paths:
        return {}
    return {var: ":".join(f"{store_dir}/{p}/{d}" for p in dict.fromkeys(paths) for d in dirs)
            for var, dirs in SEARCH_DIRS.items()}
