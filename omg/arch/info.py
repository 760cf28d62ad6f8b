"""`omg info`: one package from the sync databases (pyalpm) or the AUR (RPC info), shown
as `pacman -Si` / `-Qi` show it, and with `files=True` its file list (`pacman -Ql` when
it is installed, else `pacman -Fl` from the repository's .files database).

`info()` returns raw values (sizes in bytes, times in seconds since the epoch, lists),
what `--json` prints (dates there as ISO times, docs/json.md); `render()` is the text:
pacman's labels and layout, sizes as pacman's humanize_size, dates as its "%c".
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from omg.arch import aur
from omg.arch.names import split_target
from omg.arch.settings import ArchSettings, from_settings
from store.errors import NotFound
from store.local import LocalStore

if TYPE_CHECKING:
    from omg.arch.alpm import Alpm, Package
    from omg.config import Settings

#: pacman's humanize_size labels.
UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
#: The date fields (seconds since the epoch): `render` shows them as dates.
DATES = ("build_date", "install_date", "first_submitted", "last_modified", "out_of_date")

#: (label, key) in pacman -Si order, then what only -Qi or the AUR has.
LABELS = (
    ("Repository", "repo"), ("Name", "name"), ("Package Base", "package_base"),
    ("Version", "version"), ("Description", "description"),
    ("Architecture", "architecture"), ("URL", "url"), ("AUR URL", "aur_url"),
    ("Licenses", "licenses"), ("Groups", "groups"), ("Keywords", "keywords"),
    ("Provides", "provides"), ("Depends On", "depends"), ("Make Deps", "makedepends"),
    ("Check Deps", "checkdepends"), ("Optional Deps", "optdepends"),
    ("Conflicts With", "conflicts"), ("Replaces", "replaces"),
    ("Download Size", "size"), ("Installed Size", "installed_size"),
    ("Packager", "packager"), ("Build Date", "build_date"),
    ("Install Date", "install_date"), ("Validated By", "validated_by"),
    ("Maintainer", "maintainer"), ("Co-Maintainers", "co_maintainers"),
    ("Submitter", "submitter"), ("Votes", "votes"), ("Popularity", "popularity"),
    ("First Submitted", "first_submitted"), ("Last Modified", "last_modified"),
    ("Out Of Date", "out_of_date"),
)


def info(settings: Settings, name: str, arch: ArchSettings | None = None, *,
         files: bool = False) -> dict[str, object]:
    """The package `name` (``repo/name`` or ``aur/name`` to say where): a repository's
    first, else the AUR's. `files`: add its file list (`files`)."""
    arch = arch or from_settings(settings)
    repo, name = split_target(name)
    if repo != "aur":
        from omg.arch.alpm import Alpm

        alpm = Alpm(arch)
        pkg = alpm.find_repo(name) if repo is None else _in_repo(alpm, repo, name)
        if pkg is not None:
            data = repo_info(alpm, pkg)
            if files:
                data["files"] = _files(alpm, pkg)
            return data
        if repo is not None:
            raise NotFound(f"package {name!r} not found in repository {repo}")
    store = LocalStore(settings.layout, limits=settings.limits)
    got = aur.info(arch.aur_url, [name], index=store.index, ttl=arch.aur_ttl)
    if name not in got:
        raise NotFound(f"package {name!r} not found in the repositories or the AUR")
    if files:
        raise NotFound(f"no file list for {name}: the AUR has none",
                       hint=f"build it (omg aur build {name}), then list its store path")
    return aur_info(got[name], arch.aur_url)


def _in_repo(alpm: Alpm, repo: str, name: str) -> Package | None:
    for db in alpm.syncdbs:
        if db.name == repo:
            return db.get_pkg(name)
    raise NotFound(f"no repository {repo!r} in pacman.conf")


def repo_info(alpm: Alpm, pkg: Package) -> dict[str, object]:
    """What pacman -Si shows (and -Qi's install date and validation when installed)."""
    local = alpm.localdb.get_pkg(pkg.name)
    return {
        "repo": pkg.db.name, "name": pkg.name, "version": pkg.version,
        "description": pkg.desc, "architecture": pkg.arch, "url": pkg.url,
        "licenses": list(pkg.licenses), "groups": list(pkg.groups),
        "provides": list(pkg.provides), "depends": list(pkg.depends),
        "optdepends": list(pkg.optdepends), "makedepends": list(pkg.makedepends),
        "checkdepends": list(pkg.checkdepends), "conflicts": list(pkg.conflicts),
        "replaces": list(pkg.replaces), "size": pkg.size, "installed_size": pkg.isize,
        "packager": pkg.packager, "build_date": pkg.builddate or None,
        "validated_by": _sync_validation(pkg),
        "installed": local.version if local is not None else None,
        "install_date": (local.installdate or None) if local is not None else None,
    }


def _sync_validation(pkg: Package) -> list[str]:
    """libalpm's validation of a sync package: from the sums and signature it has."""
    out = [label for have, label in ((pkg.md5sum, "MD5 Sum"), (pkg.sha256sum, "SHA-256 Sum"),
                                     (pkg.base64_sig, "Signature")) if have]
    return out or ["None"]


def _files(alpm: Alpm, pkg: Package) -> list[str]:
    """Absolute paths: the installed package's (pacman -Ql), else the .files db's (-Fl)."""
    local = alpm.localdb.get_pkg(pkg.name)
    if local is not None:
        root = alpm.root.rstrip("/")
        return [f"{root}/{entry[0]}" for entry in local.files]
    from omg.arch import syncdb

    path = os.path.join(alpm.dbpath, "sync", f"{pkg.db.name}.files")
    try:
        listed = syncdb.read_files(path, f"{pkg.name}-{pkg.version}")
    except FileNotFoundError:
        raise NotFound(f"no file list for {pkg.db.name}/{pkg.name}: {path} is missing",
                       hint="download the files databases with `pacman -Fy`") from None
    return [f"/{p}" for p in listed]


def aur_info(i: aur.AurInfo, aur_url: str) -> dict[str, object]:
    """An AUR RPC info record under the names repo_info uses, plus the AUR's own."""
    def items(key: str) -> list[object]:
        value = i.get(key)
        return list(value) if isinstance(value, list) else []

    return {
        "repo": "aur", "name": i["Name"], "package_base": i.get("PackageBase"),
        "version": i.get("Version"), "description": i.get("Description"),
        "url": i.get("URL"), "aur_url": f"{aur_url.rstrip('/')}/packages/{i['Name']}",
        "licenses": items("License"), "groups": items("Groups"),
        "keywords": items("Keywords"), "provides": items("Provides"),
        "depends": items("Depends"), "makedepends": items("MakeDepends"),
        "checkdepends": items("CheckDepends"), "optdepends": items("OptDepends"),
        "conflicts": items("Conflicts"), "replaces": items("Replaces"),
        "maintainer": i.get("Maintainer"), "co_maintainers": items("CoMaintainers"),
        "submitter": i.get("Submitter"), "votes": i.get("NumVotes"),
        "popularity": i.get("Popularity"), "first_submitted": i.get("FirstSubmitted"),
        "last_modified": i.get("LastModified"), "out_of_date": i.get("OutOfDate"),
    }


def humanize_size(size: int) -> str:
    """pacman's humanize_size: divide by 1024 while above 2048, two decimals."""
    value, index = float(size), 0
    while index < len(UNITS) - 1 and not -2048.0 <= value <= 2048.0:
        value /= 1024.0
        index += 1
    return f"{value:.2f} {UNITS[index]}"


def _value(key: str, value: object) -> str:
    if isinstance(value, list):
        return "  ".join(str(v) for v in value) or "None"
    if value is None or value == "":
        return "No" if key == "out_of_date" else "None"
    if key in DATES and isinstance(value, int | float):
        return time.strftime("%c", time.localtime(value))
    if key in ("size", "installed_size") and isinstance(value, int):
        return humanize_size(value)
    if key == "popularity" and isinstance(value, int | float):
        return f"{value:.2f}"
    return str(value)


def render(data: dict[str, object]) -> str:
    """pacman -Si's text: `Label           : value`, optional deps one per line."""
    out = []
    for label, key in LABELS:
        if key not in data or (key == "install_date" and data[key] is None):
            continue
        value = data[key]
        if key == "optdepends" and isinstance(value, list) and value:
            pad = "\n" + " " * 18
            out.append(f"{label:<16}: {pad.join(str(v) for v in value)}")
            continue
        out.append(f"{label:<16}: {_value(key, value)}")
    return "\n".join(out) + "\n"


def render_files(data: dict[str, object]) -> str:
    """pacman -Ql's text: `name path` per line."""
    files = data.get("files")
    paths = files if isinstance(files, list) else []
    return "".join(f"{data['name']} {p}\n" for p in paths)
