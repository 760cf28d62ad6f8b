"""makepkg as an unprivileged user in a clean build directory.

Never as root: when omg runs as root, makepkg runs as the configured build user
(`runuser -u USER`), in a fresh directory under `build_dir` owned by that user. The
directory is removed afterwards whatever happens, so a failed build leaves nothing.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from omg.arch.settings import ArchSettings
from store.errors import BuildFailed, IntegrityError, UsageError
from store.fsutil import force_remove, walk_tree

LOG_TAIL = 15


class MakepkgFailed(BuildFailed):
    def __init__(self, message: str, *, log_tail: list[str], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.log_tail = log_tail


#: Home of the build user omg creates (`build_user`): makepkg and gpg write below it.
BUILD_HOME = "/var/lib/omg-build"


def build_user(arch: ArchSettings) -> pwd.struct_passwd | None:
    """None when omg is not root (makepkg runs as the caller); as root, the configured
    build user, created (a system user, no login shell) the first time it is missing."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam(arch.build_user)
    except KeyError:
        user = _create_build_user(arch.build_user)
    if user.pw_uid == 0:
        raise UsageError(f"build user {arch.build_user!r} is root: makepkg never runs as root")
    return user


_USER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")


def _create_build_user(name: str) -> pwd.struct_passwd:
    if not (0 < len(name) <= 32 and name[0] not in "-0123456789" and set(name) <= _USER_CHARS):
        raise UsageError(f"invalid build user name {name!r}: use a-z 0-9 _ - "
                         "(see [arch] build_user)")
    # Arch's nologin is /usr/bin's; Debian (the test machines) has only /usr/sbin's.
    shell = next((p for p in ("/usr/bin/nologin", "/usr/sbin/nologin") if os.path.exists(p)),
                 "/usr/bin/nologin")
    proc = subprocess.run(["useradd", "--system", "--create-home", "--home-dir", BUILD_HOME,
                           "--shell", shell, name],
                          capture_output=True, text=True, check=False)
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise UsageError(f"build user {name!r} does not exist and useradd failed: "
                         f"{proc.stderr.strip() or proc.returncode}",
                         hint=f"useradd -r -m {name} (or set [arch] build_user)") from None


@contextlib.contextmanager
def build_area(arch: ArchSettings, pkgbase: str) -> Iterator[Path]:
    arch.build_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
    os.chmod(arch.build_dir, 0o755)  # the build user must traverse it
    work = Path(tempfile.mkdtemp(prefix=f"{pkgbase}-", dir=arch.build_dir))
    try:
        yield work
    finally:
        force_remove(work)


def extract_snapshot(tarball: Path, dest: Path, pkgbase: str) -> Path:
    """Unpack an AUR snapshot with the store's unpacker and return its directory.

    A snapshot is untrusted input like any archive: the store's checks (no `..`,
    no absolute names, no writes through symlinks, no devices, size limits) apply.
    """
    from store.archive import open_members
    from store.unpack import unpack

    unpacked = dest / f".snapshot-{pkgbase}"
    try:
        with open_members(tarball) as members:
            unpack(members, unpacked, label=f"AUR snapshot of {pkgbase}", strip_top=False)
        if (unpacked / pkgbase).is_dir():
            (unpacked / pkgbase).rename(dest / pkgbase)
    finally:
        force_remove(unpacked)
    src = dest / pkgbase
    if not (src / "PKGBUILD").is_file():
        raise IntegrityError(f"AUR snapshot for {pkgbase} has no {pkgbase}/PKGBUILD")
    return src


def _show_step(pkgbase: str, line: bytes) -> None:
    """makepkg's own step lines (``==> Starting build()...``) as progress, on a
    terminal only: a build takes minutes, and the log holds the rest."""
    if line.startswith(b"==> ") and sys.stderr.isatty():
        sys.stderr.write(f"{pkgbase}: {line[4:].decode(errors='replace').rstrip()}\n")
        sys.stderr.flush()


def makepkg(arch: ArchSettings, srcdir: Path, pkgbase: str) -> list[Path]:
    """Run makepkg in srcdir; return the built package files."""
    user = build_user(arch)
    if shutil.which("makepkg") is None:
        raise UsageError("makepkg is not installed", hint="install pacman's makepkg")
    if user is not None:
        for dirpath, dirnames, filenames in walk_tree(srcdir.parent):
            for n in [*dirnames, *filenames, ""]:
                os.lchown(os.path.join(dirpath, n) if n else dirpath, user.pw_uid, user.pw_gid)
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "PKGEXT": ".pkg.tar.zst", "LANG": "C.UTF-8",
           "HOME": user.pw_dir if user else os.environ.get("HOME", "/tmp"),
           "BUILDDIR": str(srcdir / ".build"), "PKGDEST": str(srcdir / ".out"),
           "SRCDEST": str(srcdir / ".src")}
    if "SOURCE_DATE_EPOCH" in os.environ:
        env["SOURCE_DATE_EPOCH"] = os.environ["SOURCE_DATE_EPOCH"]
    cmd = ["makepkg", "-f", "--noconfirm", "--noprogressbar", *arch.makepkg_args]
    if user is not None:
        cmd = ["runuser", "-u", user.pw_name, "--", "env", *[f"{k}={v}" for k, v in env.items()],
               *cmd]
    log = srcdir.parent / f"{pkgbase}.makepkg.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=srcdir, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        assert proc.stdout is not None
        for line in proc.stdout:  # all of it to the log; its steps on a terminal
            out.write(line)
            _show_step(pkgbase, line)
        proc.wait()
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL:]
        raise MakepkgFailed(f"makepkg failed for {pkgbase} (exit {proc.returncode})",
                            log_tail=tail, hint="nothing was installed")
    pkgs = sorted((srcdir / ".out").glob("*.pkg.tar.*"))
    pkgs = [p for p in pkgs if not p.name.endswith(".sig")]
    if not pkgs:
        raise BuildFailed(f"makepkg built no package for {pkgbase}")
    return pkgs
