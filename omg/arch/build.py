"""makepkg as an unprivileged user, in a bubblewrap sandbox, in a clean build directory.

Never as root: when omg runs as root, makepkg runs as the configured build user, in a
fresh directory under `build_dir` owned by that user. The directory is removed
afterwards whatever happens, so a failed build leaves nothing.

The sandbox (docs/arch.md, "Sandboxed builds"): a PKGBUILD is code from the AUR, and
makepkg runs it twice, in two bwrap sandboxes whose only writable bind is the
package's own directory: `makepkg --verifysource` (download, checksums, signatures)
with the network, then the build (`--holdver`: VCS sources are not fetched again)
without it. Without bwrap omg refuses to build unless ``[arch] sandbox = false``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from omg.arch.depenv import dep_env
from omg.arch.settings import ArchSettings
from store.errors import BuildFailed, IntegrityError, PermissionDenied, UnsafeInput, UsageError
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


def _work_root(build_dir: Path) -> Path:
    """Where this caller's work directories go. Root: `build_dir` itself, 0755 (the build
    user traverses it). A user: a 0700 directory of their own in it, `build_dir` made
    like /tmp (world-writable, sticky) by whoever creates it first, so that several
    users share the default one; a `build_dir` they cannot write is a clear error."""
    if os.geteuid() == 0:
        build_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        if build_dir.stat().st_uid == 0:
            os.chmod(build_dir, 0o755)
        return build_dir
    mine = build_dir / f"user-{os.getuid()}"
    try:
        try:
            build_dir.mkdir(parents=True, mode=0o1777)
            os.chmod(build_dir, 0o1777)  # mkdir's mode went through the umask
        except FileExistsError:
            pass
        mine.mkdir(mode=0o700, exist_ok=True)
    except PermissionError as exc:
        raise PermissionDenied(f"cannot make a build directory in {build_dir}: {exc.strerror}",
                               hint="set [arch] build_dir (or OMG_BUILD_DIR) to a "
                                    "directory you can write") from exc
    st = os.lstat(mine)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise UnsafeInput(f"{mine} is not a directory of yours",
                          hint="another user made it: remove it, or set [arch] build_dir")
    return mine


@contextlib.contextmanager
def build_area(arch: ArchSettings, pkgbase: str) -> Iterator[Path]:
    """A fresh work directory; the tools a build needs are checked first, so a build
    that cannot run fails before anything is downloaded or reviewed."""
    _tools(arch)
    work = Path(tempfile.mkdtemp(prefix=f"{pkgbase}-", dir=_work_root(arch.build_dir)))
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


def _tools(arch: ArchSettings) -> str | None:
    """bwrap's path (None when the user opted out of the sandbox)."""
    if shutil.which("makepkg") is None:
        raise UsageError("makepkg is not installed", hint="install pacman's makepkg")
    if not arch.sandbox:
        return None
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise UsageError("bubblewrap (bwrap) is not installed: AUR builds run in a sandbox",
                         hint="install bubblewrap (apt-get install bubblewrap / pacman -S "
                              "bubblewrap), or build unsandboxed with `omg config set "
                              "arch.sandbox false` (docs/arch.md, \"Sandboxed builds\")")
    return bwrap


def gnupg_home(user: pwd.struct_passwd | None) -> str:
    """The keyring makepkg verifies sources with: the build user's, as makepkg finds it."""
    if user is None:
        return os.environ.get("GNUPGHOME") or os.path.expanduser("~/.gnupg")
    return os.path.join(user.pw_dir, ".gnupg")


def sandbox_args(bwrap: str, srcdir: Path, home: str, gnupg: str, *,
                 network: bool) -> list[str]:
    """bwrap's command line: the system read-only, private /tmp, /dev, /proc and home
    (its keyring read-only), srcdir the one writable place; every namespace
    new, the network's too unless `network`."""
    args = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    # tmpfs over /tmp (private and writable: builds use it) and over what holds the
    # user's secrets (home, agent sockets under /run/user); mounted before srcdir,
    # which may lie inside one. /var/tmp stays, read-only: build_dir and the file://
    # sources next to it live there.
    for hidden in dict.fromkeys(("/tmp", "/run/user", home)):
        if hidden != "/" and os.path.isdir(hidden):
            args += ["--tmpfs", hidden]
    if os.path.isdir(gnupg):
        args += ["--ro-bind", gnupg, gnupg]
    args += ["--bind", str(srcdir), str(srcdir), "--chdir", str(srcdir),
             "--unshare-all", *(["--share-net"] if network else []),
             # bwrap sets no_new_privs itself; --new-session stops TIOCSTI typing into
             # the caller's terminal; omg's death ends the sandbox.
             "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--"]
    return args


def as_user(user: pwd.struct_passwd | None) -> dict[str, Any]:
    """`subprocess` arguments that run a child as `user` (None: as omg's own user)."""
    return {} if user is None else {"user": user.pw_uid, "group": user.pw_gid,
                                    "extra_groups": []}


def _chown_tree(top: Path, user: pwd.struct_passwd) -> None:
    for dirpath, dirnames, filenames in walk_tree(top):
        if dirpath == str(top) and ".store" in dirnames:
            dirnames.remove(".store")  # hard links to the store: never chown those
        for n in [*dirnames, *filenames, ""]:
            os.lchown(os.path.join(dirpath, n) if n else dirpath, user.pw_uid, user.pw_gid)


def _run_logged(cmd: list[str], *, srcdir: Path, env: dict[str, str],
                user: pwd.struct_passwd | None, out: BinaryIO, pkgbase: str) -> int:
    """Run one makepkg step (as `user` when given) with its output to `out`."""
    # Dropping to the build user in the child itself, not through runuser: then omg is
    # bwrap's parent and --die-with-parent ends the build when omg is killed.
    proc = subprocess.Popen(cmd, cwd=srcdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            **as_user(user))
    assert proc.stdout is not None
    for line in proc.stdout:  # all of it to the log; its steps on a terminal
        out.write(line)
        _show_step(pkgbase, line)
    return proc.wait()


def _dependencies_beside(srcdir: Path, store_dir: Path | None, deps: Sequence[str]) -> str:
    """The dependencies' store paths, hard-linked (else copied) into ``<work>/.store``.

    The build user may not reach the store (root's is under a 0700 home), and the
    sandbox hides /tmp and homes, where a user's store often lives; the work directory
    is readable by the build and read-only inside the sandbox. Links inside and between
    store paths are relative, so they hold in the copy (references are dependencies
    too). Removed with the work directory."""
    if store_dir is None:
        raise UsageError("dependencies from the store need the store's directory")
    dest = srcdir.parent / ".store"
    dest.mkdir(exist_ok=True, mode=0o755)
    for name in dict.fromkeys(deps):
        if not (dest / name).exists():
            shutil.copytree(store_dir / name, dest / name, symlinks=True,
                            copy_function=_link_or_copy)
    return str(dest)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)  # store files are immutable: a link is as good as a copy
    except OSError:
        shutil.copy2(src, dst)


def makepkg(arch: ArchSettings, srcdir: Path, pkgbase: str, *, store_dir: Path | None = None,
            deps: Sequence[str] = ()) -> list[Path]:
    """Run makepkg in srcdir (sandboxed unless opted out); return the built package files.
    `deps`: store paths (names in `store_dir`) the build finds on its search paths
    (omg.arch.depenv), through copies beside srcdir (`_dependencies_beside`)."""
    user = build_user(arch)
    bwrap = _tools(arch)
    if user is not None:
        _chown_tree(srcdir.parent, user)
    home = user.pw_dir if user else os.environ.get("HOME", "/tmp")
    gnupg = gnupg_home(user)
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "PKGEXT": ".pkg.tar.zst", "LANG": "C.UTF-8", "HOME": home, "GNUPGHOME": gnupg,
           "BUILDDIR": str(srcdir / ".build"), "PKGDEST": str(srcdir / ".out"),
           "SRCDEST": str(srcdir / ".src")}
    if user is not None:
        env["USER"] = env["LOGNAME"] = user.pw_name
    seen_store = _dependencies_beside(srcdir, store_dir, deps) if deps else ""
    for key, value in dep_env(seen_store, deps).items():  # before the defaults
        env[key] = f"{value}:{env[key]}" if env.get(key) else value
    if "SOURCE_DATE_EPOCH" in os.environ:
        env["SOURCE_DATE_EPOCH"] = os.environ["SOURCE_DATE_EPOCH"]
    common = ["--noconfirm", "--noprogressbar", *arch.makepkg_args]
    steps = [["makepkg", "-f", *common]] if bwrap is None else [
        [*sandbox_args(bwrap, srcdir, home, gnupg, network=True),
         "makepkg", "--verifysource", *common],
        [*sandbox_args(bwrap, srcdir, home, gnupg, network=False),
         "makepkg", "-f", "--holdver", *common]]
    log = srcdir.parent / f"{pkgbase}.makepkg.log"
    with open(log, "wb") as out:
        for cmd in steps:
            code = _run_logged(cmd, srcdir=srcdir, env=env, user=user, out=out,
                               pkgbase=pkgbase)
            if code != 0:
                break
    if code != 0:
        tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL:]
        raise MakepkgFailed(f"makepkg failed for {pkgbase} (exit {code})",
                            log_tail=tail, hint="nothing was installed")
    pkgs = sorted((srcdir / ".out").glob("*.pkg.tar.*"))
    pkgs = [p for p in pkgs if not p.name.endswith(".sig")]
    if not pkgs:
        raise BuildFailed(f"makepkg built no package for {pkgbase}")
    return pkgs
