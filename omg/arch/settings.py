"""Arch settings, from the environment and the `[arch]` table of the config file.

OMG_PACMAN_CONF / pacman_conf (default /etc/pacman.conf), OMG_PACMAN_ROOT / root,
OMG_PACMAN_DBPATH / dbpath (default: from pacman.conf), OMG_AUR_URL / aur_url,
OMG_BUILD_USER / build_user (default omg-build), OMG_BUILD_DIR / build_dir,
aur_cache_ttl seconds (default 3600), makepkg_args (default ["--nodeps"]),
review_findings ("warn" or "deny": what a high finding of the static check does), sandbox
(default true: makepkg runs in bubblewrap, omg/arch/build.py), keyserver (default
hkps://keys.openpgp.org) and import_keys (default false: with --noconfirm, a missing
validpgpkeys key is an error, omg/arch/pgp.py).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from omg.arch.fastconfig import DEFAULT_AUR, arch_values

DEFAULT_KEYSERVER = "hkps://keys.openpgp.org"

if TYPE_CHECKING:
    from omg.config import Config, Settings


class ArchSettings:
    """Immutable by convention; a plain class because the search fast path builds one
    and importing dataclasses there costs milliseconds."""

    __slots__ = ("aur_ttl", "aur_url", "build_dir", "build_user", "dbpath", "home",
                 "import_keys", "keyserver", "makepkg_args", "pacman_conf", "pgp_key_files",
                 "review_findings", "root", "sandbox")

    def __init__(self, home: Path, pacman_conf: Path = Path("/etc/pacman.conf"),
                 root: str | None = None, dbpath: str | None = None,
                 aur_url: str = DEFAULT_AUR, build_user: str = "omg-build",
                 build_dir: Path = Path("/var/tmp/omg-build"), aur_ttl: float = 3600.0,
                 makepkg_args: tuple[str, ...] = ("--nodeps",), review_findings: str = "warn",
                 sandbox: bool = True, keyserver: str = DEFAULT_KEYSERVER,
                 import_keys: bool = False) -> None:
        self.home, self.pacman_conf, self.root, self.dbpath = home, pacman_conf, root, dbpath
        self.aur_url, self.build_user, self.build_dir = aur_url, build_user, build_dir
        self.aur_ttl, self.makepkg_args, self.sandbox = aur_ttl, makepkg_args, sandbox
        self.review_findings = review_findings
        self.keyserver, self.import_keys = keyserver, import_keys
        #: `--pgp-key FILE`s: keys the user named for this command (`with_pgp_keys`).
        self.pgp_key_files: tuple[Path, ...] = ()

    def with_overrides(self, *, config: str | None = None, root: str | None = None,
                       dbpath: str | None = None) -> ArchSettings:
        new = copy.copy(self)
        new.pacman_conf = Path(config) if config else self.pacman_conf
        new.root, new.dbpath = root or self.root, dbpath or self.dbpath
        return new

    def with_pgp_keys(self, files: list[Path] | tuple[Path, ...]) -> ArchSettings:
        new = copy.copy(self)
        new.pgp_key_files = tuple(files)
        return new


def from_settings(settings: Settings, environ: Mapping[str, str] | None = None
                  ) -> ArchSettings:
    return from_raw(Path(settings.home), settings.raw, environ)


def from_raw(home: Path, raw: Config,
             environ: Mapping[str, str] | None = None) -> ArchSettings:
    env = os.environ if environ is None else environ
    cfg = raw.get("arch", {})
    values = arch_values(raw, env)  # the search settings' precedence, written once
    return ArchSettings(
        home=home,
        pacman_conf=Path(values["pacman_conf"]),
        root=env.get("OMG_PACMAN_ROOT") or cfg.get("root") or None,
        dbpath=values["dbpath"],
        aur_url=values["aur_url"],
        build_user=env.get("OMG_BUILD_USER") or cfg.get("build_user") or "omg-build",
        build_dir=Path(env.get("OMG_BUILD_DIR") or cfg.get("build_dir") or "/var/tmp/omg-build"),
        aur_ttl=values["aur_ttl"],
        makepkg_args=tuple(cfg.get("makepkg_args", ("--nodeps",))),
        review_findings=cfg.get("review_findings", "warn"),
        sandbox=bool(cfg.get("sandbox", True)),
        keyserver=str(cfg.get("keyserver") or DEFAULT_KEYSERVER),
        import_keys=bool(cfg.get("import_keys", False)),
    )
