"""makepkg in bubblewrap (omg/arch/build.py): real bwrap, real makepkg, the real build user.

A build may write only inside its own directory, reaches the network only while
makepkg fetches the sources, and omg refuses to build without bwrap unless the user
opted out.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from omg.arch import build
from omg.arch.settings import ArchSettings
from tests.arch import httpserve
from tests.arch.conftest import BUILD_USER, ArchWorld
from tests.conftest import OmgEnv

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("bwrap") is None,
                                 reason="bubblewrap is not installed (apt-get install "
                                        "bubblewrap)")]


def pkgbuild(name: str, package: str, *, source: str = "", sha256: str = "") -> str:
    src = f"source=('{source}')\nsha256sums=('{sha256}')\n" if source else ""
    return (f"pkgname={name}\npkgver=1.0\npkgrel=1\npkgdesc='sandbox test'\narch=('any')\n"
            f"license=('MIT')\n{src}package() {{\n{package}\n}}\n")


def run_makepkg(world: ArchWorld, tmp_path: Path, text: str, *, sandbox: bool = True
                ) -> list[str]:
    arch = ArchSettings(home=tmp_path, build_dir=world.base / "builds" / tmp_path.name,
                        build_user=BUILD_USER, sandbox=sandbox)
    with build.build_area(arch, "sbx") as work:
        src = work / "sbx"
        src.mkdir()
        (src / "PKGBUILD").write_text(text)
        return [p.name for p in build.makepkg(arch, src, "sbx")]


@pytest.fixture
def token() -> str:
    return f"omg-sbx-{uuid.uuid4().hex[:12]}"


def test_a_build_writes_nowhere_but_its_directory(world: ArchWorld, tmp_path: Path,
                                                  token: str) -> None:
    """The build user's home and /tmp (writable by that user on the host) are private
    to the sandbox; the rest of the system is read-only, /var/tmp too, so writing there
    fails the build."""
    home = pwd.getpwnam(BUILD_USER).pw_dir
    canaries = [Path(home) / token, Path("/tmp") / token]
    writes = "\n".join(f"echo pwned > {c}" for c in canaries)
    text = pkgbuild("sbx-escape", f"{writes}\necho pwned > /var/tmp/{token}")
    with pytest.raises(build.MakepkgFailed) as err:
        run_makepkg(world, tmp_path, text)
    assert any(f"/var/tmp/{token}: Read-only file system" in line
               for line in err.value.log_tail), err.value.log_tail
    for path in [*canaries, Path("/var/tmp") / token]:
        assert not path.exists(), path


class Recorder(http.server.BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []
    body = b"the source\n"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.paths.append(self.path)
        httpserve.reply(self, self.body, "text/plain")


@pytest.fixture
def source_server() -> Iterator[tuple[str, list[str]]]:
    Recorder.paths = []
    server, url = httpserve.start(Recorder)
    try:
        yield url, Recorder.paths
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("sandbox", [True, False])
def test_network_only_while_the_sources_are_fetched(world: ArchWorld, tmp_path: Path,
                                                    source_server: tuple[str, list[str]],
                                                    sandbox: bool) -> None:
    """Sandboxed, package() reaches nothing on the server the source came from; opted
    out (the control), the same build reaches it."""
    url, paths = source_server
    port = url.rsplit(":", 1)[1]
    package = (f"exec 3<>/dev/tcp/127.0.0.1/{port} || exit 1\n"
               "printf 'GET /from-build HTTP/1.0\\r\\n\\r\\n' >&3\ncat <&3 >/dev/null\n")
    text = pkgbuild("sbx-net", package, source=f"{url}/src.txt",
                    sha256=hashlib.sha256(Recorder.body).hexdigest())
    if not sandbox:
        assert run_makepkg(world, tmp_path, text, sandbox=False) == [
            "sbx-net-1.0-1-any.pkg.tar.zst"]
        assert paths == ["/src.txt", "/from-build"]
        return
    with pytest.raises(build.MakepkgFailed) as err:
        run_makepkg(world, tmp_path, text)
    assert paths == ["/src.txt"]  # phase 1 downloaded; the build reached nothing
    assert any("/dev/tcp/127.0.0.1" in line for line in err.value.log_tail), err.value.log_tail


NORMAL_USER_BUILD = """
import sys
import time
from pathlib import Path
from omg.arch import build
from omg.arch.settings import ArchSettings
arch = ArchSettings(home=Path(sys.argv[1]), build_dir=Path(sys.argv[1]) / "builds")
with build.build_area(arch, "sbx") as work:
    (work / "sbx").mkdir()
    (work / "sbx" / "PKGBUILD").write_text(sys.argv[2])
    print(*[p.name for p in build.makepkg(arch, work / "sbx", "sbx")])
"""


def test_as_a_normal_user_the_caller_s_home_is_hidden(world: ArchWorld, tmp_path: Path,
                                                     token: str) -> None:
    """Not root: makepkg runs as the caller, sandboxed the same way; writes to the
    caller's home and /tmp go to the sandbox's private copies and the build succeeds."""
    user = pwd.getpwnam(BUILD_USER)
    base = world.base / "user-builds" / tmp_path.name
    base.mkdir(parents=True)
    os.chown(base, user.pw_uid, user.pw_gid)
    canaries = [Path(user.pw_dir) / token, Path("/tmp") / token]
    package = "\n".join(f"echo pwned > {c}" for c in canaries) + \
        '\nmkdir -p "$pkgdir/usr/share/sbx"; echo "$HOME" > "$pkgdir/usr/share/sbx/home"'
    env = {"PATH": os.environ["PATH"], "HOME": user.pw_dir, "LANG": "C.UTF-8"}
    proc = subprocess.run([sys.executable, "-c", NORMAL_USER_BUILD, str(base),
                           pkgbuild("sbx-user", package)], env=env, user=user.pw_uid,
                          group=user.pw_gid, extra_groups=[], capture_output=True, text=True,
                          cwd="/")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["sbx-user-1.0-1-any.pkg.tar.zst"]
    for path in canaries:
        assert not path.exists(), path


def _path_without_bwrap(tmp_path: Path) -> str:
    """A PATH with makepkg (and what omg runs around it) but no bwrap."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("makepkg", "pacman", "fakeroot", "bsdtar", "env", "bash"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_without_bwrap_omg_refuses_before_downloading(world: ArchWorld, aenv: OmgEnv,
                                                      tmp_path: Path) -> None:
    proc = aenv.run("aur", "build", "aur-tool", "--noconfirm",
                    extra_env={"PATH": _path_without_bwrap(tmp_path)})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == "error: bubblewrap (bwrap) is not installed: AUR builds run in a sandbox"
    assert lines[1].startswith("hint: install bubblewrap") and "arch.sandbox false" in lines[1]
    assert not [r for r in world.aur.requests if "/snapshot/" in r]
    assert aenv.store().names() == []


def test_opted_out_it_builds_without_bwrap(world: ArchWorld, aenv: OmgEnv,
                                           tmp_path: Path) -> None:
    aenv.run("config", "set", "arch.sandbox", "false", check=True)
    proc = aenv.run("aur", "build", "aur-tool", "--noconfirm",
                    extra_env={"PATH": _path_without_bwrap(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert aenv.store().find("aur-tool")


def _processes_with(token: str) -> list[int]:
    """The processes named `token` (argv[0], set by the build with `exec -a`)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.split(b"\0")[0] == token.encode():
            found.append(int(pid))
    return found


def test_killing_omg_ends_the_sandboxed_build(world: ArchWorld, tmp_path: Path,
                                              token: str) -> None:
    """omg is bwrap's parent (no runuser between them): --die-with-parent and the pid
    namespace end every process of the build when omg is SIGKILLed."""
    script = NORMAL_USER_BUILD.replace('build_dir=Path(sys.argv[1]) / "builds"',
                                       f'build_dir=Path({str(world.base / "kill")!r}), '
                                       f'build_user={BUILD_USER!r}')
    text = pkgbuild("sbx-kill", f"(exec -a {token} sleep 300)")
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path), text],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if _processes_with(token):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the build never reached package()")
    finally:
        proc.kill()
        proc.wait()
    for _ in range(50):
        if not _processes_with(token):
            break
        time.sleep(0.1)
    left = _processes_with(token)
    for pid in left:  # what a failing build left behind, so the suite does not keep it
        os.kill(pid, signal.SIGKILL)
    assert left == []
