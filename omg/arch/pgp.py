"""validpgpkeys: shown in review, imported into the build user's keyring only when asked.

makepkg checks a source's detached signature with the build user's keyring
(``GNUPGHOME``, or ``~/.gnupg`` as makepkg finds it) and accepts only the
fingerprints a PKGBUILD lists in ``validpgpkeys``. A key missing from that keyring
would fail the build after the download, with gpg's words; omg checks first and
offers to import it from a ``--pgp-key FILE`` or from ``[arch] keyserver``. Never
silently: a FILE the user named is their consent; otherwise omg asks, and with
--noconfirm only ``[arch] import_keys = true`` lets it import.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from omg.arch.build import as_user, build_user, gnupg_home
from omg.arch.settings import ArchSettings
from store.errors import BuildFailed, IntegrityError, NetworkError, NotFound, UsageError

FINGERPRINT = re.compile(r"[0-9A-F]{40}")
HKP_PORT = 11371
TIMEOUT = 30.0


def validpgpkeys(srcinfo: str) -> list[str]:
    """The ``validpgpkeys`` of a .SRCINFO (pkgbase and every pkgname), upper case, once."""
    keys = []
    for line in srcinfo.splitlines():
        key, sep, value = line.strip().partition(" = ")
        if sep and key == "validpgpkeys":
            keys.append(value.strip().upper())
    return list(dict.fromkeys(keys))


def review_lines(srcinfo: str) -> list[str]:
    """What review shows of the keys: who must have signed the sources."""
    keys = validpgpkeys(srcinfo)
    if not keys:
        return []
    return ["==> PGP keys the sources must be signed with (validpgpkeys):",
            *[f"    {k}" if FINGERPRINT.fullmatch(k) else
              f"    {k}  (not a full fingerprint: makepkg will reject it)" for k in keys]]


def srcinfo_of(srcdir: Path) -> str:
    path = srcdir / ".SRCINFO"
    return path.read_text(errors="replace") if path.is_file() else ""


def _gpg(arch: ArchSettings, args: list[str], data: bytes | None = None
         ) -> subprocess.CompletedProcess[bytes]:
    """gpg as the build user, on the keyring makepkg verifies with."""
    user = build_user(arch)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "HOME": user.pw_dir if user else os.environ.get("HOME", "/"),
           "GNUPGHOME": gnupg_home(user)}
    return subprocess.run(["gpg", "--batch", "--no-tty", *args], input=data, env=env,
                          capture_output=True, timeout=120, cwd="/", **as_user(user))


def has_key(arch: ArchSettings, fpr: str) -> bool:
    return _gpg(arch, ["--list-keys", "--with-colons", fpr]).returncode == 0


def fingerprints(arch: ArchSettings, data: bytes) -> set[str]:
    """The fingerprints in key data, read without importing it."""
    out = _gpg(arch, ["--with-colons", "--import-options", "show-only", "--import"], data)
    return {line.split(":")[9] for line in out.stdout.decode(errors="replace").splitlines()
            if line.startswith("fpr:") and len(line.split(":")) > 9}


def lookup_url(keyserver: str, fpr: str) -> str:
    """An HKP lookup (``hkps://`` is HTTPS, ``hkp://`` HTTP on port 11371 by default)."""
    scheme, _, rest = keyserver.rstrip("/").partition("://")
    if scheme == "hkp" and ":" not in rest.split("/", 1)[0]:
        host, slash, path = rest.partition("/")
        rest = f"{host}:{HKP_PORT}{slash}{path}"
    http = {"hkps": "https", "hkp": "http"}.get(scheme, scheme)
    return f"{http}://{rest}/pks/lookup?op=get&options=mr&search=0x{fpr}"


def fetch_key(keyserver: str, fpr: str) -> bytes:
    import httpx

    url = lookup_url(keyserver, fpr)
    try:
        resp = httpx.get(url, timeout=TIMEOUT, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise NetworkError(f"keyserver {keyserver} unreachable: {exc}",
                           hint="check the network, set [arch] keyserver, or use "
                                "--pgp-key FILE") from exc
    if resp.status_code == 404:
        raise NotFound(f"keyserver {keyserver} has no key {fpr}",
                       hint="get the key from the project and pass --pgp-key FILE")
    if resp.status_code != 200:
        raise NetworkError(f"keyserver {keyserver} answered HTTP {resp.status_code} for {fpr}")
    return resp.content


def _from_files(arch: ArchSettings, fpr: str) -> tuple[bytes, str] | None:
    for path in arch.pgp_key_files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read --pgp-key {path}: {exc.strerror}") from exc
        if fpr in fingerprints(arch, data):
            return data, str(path)
    return None


def import_key(arch: ArchSettings, fpr: str, data: bytes, where: str) -> None:
    """Import `data` if it holds `fpr` (a keyserver may answer anything)."""
    if fpr not in fingerprints(arch, data):
        raise IntegrityError(f"{where} holds no key {fpr}")
    proc = _gpg(arch, ["--import"], data)
    if not has_key(arch, fpr):
        why = proc.stderr.decode(errors="replace").strip().splitlines()
        raise IntegrityError(f"gpg did not import {fpr} from {where}"
                             + (f": {why[-1]}" if why else ""))


def ensure_keys(arch: ArchSettings, sources: Mapping[str, Path], *, noconfirm: bool,
                confirm: Callable[[str], bool] | None) -> list[str]:
    """Import every validpgpkeys key of `sources` (pkgbase -> directory) the build user's
    keyring lacks, as the user allows; returns the fingerprints imported."""
    user = build_user(arch)
    who = f"{user.pw_name}'s" if user else "your"
    imported = []
    for base, srcdir in sources.items():
        for fpr in validpgpkeys(srcinfo_of(srcdir)):
            if not FINGERPRINT.fullmatch(fpr) or has_key(arch, fpr):
                continue  # makepkg itself rejects a short id, with its own error
            found = _from_files(arch, fpr)
            if found is None:
                where = f"keyserver {arch.keyserver}"
                if noconfirm and not arch.import_keys:
                    raise UsageError(
                        f"PGP key {fpr} (validpgpkeys of {base}) is not in {who} keyring",
                        hint="import it with --pgp-key FILE, run without --noconfirm to be "
                             "asked, or set `[arch] import_keys = true`")
                if not noconfirm and (confirm is None or not confirm(
                        f"Import PGP key {fpr} (validpgpkeys of {base}) from {where} "
                        f"into {who} keyring?")):
                    raise BuildFailed(
                        f"PGP key {fpr} was not imported: makepkg cannot verify the "
                        f"sources of {base}",
                        hint="nothing was built; import it with --pgp-key FILE or accept")
                found = fetch_key(arch.keyserver, fpr), where
            data, source = found
            import_key(arch, fpr, data, source)
            imported.append(fpr)
    return imported
