"""`omg pkg fetch NAME...`: repository packages into the store, checked as pacman would.

The package file comes from its repository's `Server` (pacman.conf; `file://`,
`http://`, `https://`), must have the sha256 the sync db records, and its signature
is checked per SigLevel: the repository's over `[options]`'s over pacman's built-in
`Optional TrustedOnly`, only the package half (`Package...` or unprefixed tokens)
counting. `Never`: not checked; `Optional`: checked when there is one; `Required`:
there must be one. The signature is `<file>.sig` on the server, else the db's
PGPSIG. gpgv checks it against pacman's keyring, `<GPGDir>/pubring.gpg`; gpgv knows
no trust levels, so `TrustedOnly` is read as `TrustAll` (the key must be in that
keyring). Like pacman, a bad signature, or one by a key not in the keyring, is
refused under any level but `Never`. Nothing reaches the store before every check
passed; what is added is kept (an install root) until `omg uninstall`.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from omg.arch.names import check_name, split_target, store_version
from omg.arch.settings import ArchSettings
from store.errors import IntegrityError, NotFound, UsageError

if TYPE_CHECKING:
    from omg.arch.alpm import Alpm, Package
    from omg.backend import Backend

LEVELS = ("Never", "Optional", "Required")
MIRROR_VAR = "Server in pacman.conf"


@dataclass
class Fetched:
    name: str
    version: str
    repo: str
    store_path: str
    signature: str  # "verified by <fpr>", "unsigned", "not checked (SigLevel Never)"


def package_siglevel(options: str | None, repo: str | None) -> str:
    """When a package's signature is checked: never, optional or required."""
    level = "Optional"
    for value in (options, repo):  # the repository's tokens override [options]'s
        for token in (value or "").split():
            if not token.startswith("Database") and token.removeprefix("Package") in LEVELS:
                level = token.removeprefix("Package")
    return level.lower()


def _download(url: str, dest: Path, sha256: str = "") -> bool:
    """Fetch url into dest (checked against `sha256` when given); False when the server
    has no such file."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        src = Path(urllib.parse.unquote(parts.path))
        if not src.is_file():
            return False
        shutil.copyfile(src, dest)
        return True
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"unsupported Server URL {url}", hint="file://, http:// or https://")
    from omg import net

    opts = net.NetOptions()
    try:
        if sha256:
            job = net.DownloadJob(url, sha256, dest.name, mirror_var=MIRROR_VAR)
            shutil.move(net.download(job, dest.parent / ".cache", opts=opts), dest)
        else:
            dest.write_bytes(net.fetch(url, mirror_var=MIRROR_VAR, opts=opts))
    except NotFound:
        return False
    return True


def _package_file(pkg: Package, servers: tuple[str, ...], work: Path
                  ) -> tuple[Path, bytes | None]:
    """The package file (its sha256 checked) and its detached signature, if any."""
    dest = work / pkg.filename
    for server in servers:
        url = f"{server.rstrip('/')}/{pkg.filename}"
        if not _download(url, dest, pkg.sha256sum or ""):
            continue
        digest = hashlib.sha256(dest.read_bytes()).hexdigest()
        if pkg.sha256sum and digest != pkg.sha256sum:
            raise IntegrityError(f"{url}: sha256 {digest} is not the sync db's "
                                 f"{pkg.sha256sum}", hint="refresh the db (pacman -Sy)")
        sig_file = work / f"{pkg.filename}.sig"
        if _download(f"{url}.sig", sig_file):
            return dest, sig_file.read_bytes()
        return dest, base64.b64decode(pkg.base64_sig) if pkg.base64_sig else None
    raise NotFound(f"{pkg.filename} is on none of {pkg.db.name}'s servers",
                   hint="refresh the db (pacman -Sy) or check Server in pacman.conf")


def verify(pkgfile: Path, sig: bytes | None, level: str, keyring: Path, label: str) -> str:
    """Check `pkgfile` under `level`; what the record says of its signature."""
    from omg.signatures import _status, gpgv

    if level == "never":
        return "not checked (SigLevel Never)"
    if sig is None:
        if level == "required":
            raise IntegrityError(f"{label} is not signed, and its SigLevel requires a "
                                 "signature", hint="nothing was added to the store")
        return "unsigned"
    tool = gpgv()
    if tool is None:
        raise UsageError("gpgv is not installed: cannot check pacman signatures",
                         hint="install gpgv (apt install gpgv; pacman -S gnupg)")
    if not keyring.is_file():
        raise IntegrityError(f"pacman's keyring {keyring} does not exist",
                             hint="pacman-key --init, or set GPGDir in pacman.conf")
    sig_path = pkgfile.with_name(pkgfile.name + ".sig")
    sig_path.write_bytes(sig)
    proc = subprocess.run([tool, "--homedir", str(pkgfile.parent), "--keyring", str(keyring),
                           "--status-fd", "1", str(sig_path), str(pkgfile)],
                          capture_output=True, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    status = _status(proc.stdout.decode("utf-8", "replace"))
    if proc.returncode == 0 and "VALIDSIG" in status:
        return f"verified by {status['VALIDSIG'][-1]}"
    if "NO_PUBKEY" in status and "BADSIG" not in status:
        why = f"signed by key {status['NO_PUBKEY'][0]}, which is not in pacman's keyring"
    else:
        why = "bad signature"
    raise IntegrityError(f"{label}: {why}", hint="nothing was added to the store")


def _find(alpm: Alpm, target: str) -> Package:
    repo, name = split_target(target)
    check_name(name)
    for db in alpm.syncdbs:
        if repo is None or db.name == repo:
            pkg = db.get_pkg(name)
            if pkg is not None:
                return pkg
    raise NotFound(f"package {target!r} is in no repository of {alpm.conf.path}")


def fetch_packages(backend: Backend, arch: ArchSettings, targets: list[str]
                   ) -> list[Fetched]:
    """Download, check and add `targets` (NAME or REPO/NAME); all checked before any add."""
    from omg.arch.alpm import Alpm

    alpm = Alpm(arch)
    conf = alpm.conf
    keyring = Path(conf.options.get("GPGDir", "/etc/pacman.d/gnupg/")) / "pubring.gpg"
    repos = {r.name: r for r in conf.repos}
    out = []
    with tempfile.TemporaryDirectory(prefix="omg-fetch-") as tmp:
        checked = []
        for target in targets:
            pkg = _find(alpm, target)
            repo = repos[pkg.db.name]
            work = Path(tmp) / f"{repo.name}-{pkg.name}"
            work.mkdir()
            pkgfile, sig = _package_file(pkg, repo.servers, work)
            level = package_siglevel(conf.options.get("SigLevel"), repo.siglevel)
            note = verify(pkgfile, sig, level, keyring, f"{repo.name}/{pkg.name}")
            checked.append((pkg, repo.name, pkgfile, note))
        for pkg, repo_name, pkgfile, note in checked:
            added = backend.store_add(
                pkgfile, pkg.name, store_version(pkg.version), keep=True,
                origin={"kind": "repo", "repo": repo_name, "pkgname": pkg.name,
                        "version": pkg.version, "signature": note})
            out.append(Fetched(pkg.name, pkg.version, repo_name, added.record.path, note))
    return out
