"""A real, relocatable CRuby in jdx/ruby's release layout, for the end-to-end Ruby test.

No registry this machine reaches carries a relocatable Ruby build (PyPI and npm have
none; Debian's ruby3.1 is configured for /usr without ``--enable-load-relative``, so
moved elsewhere it looks for /usr/lib/ruby). Debian's archive does serve the source
package, whose ``.orig.tar.xz`` is the upstream ruby-3.1.2 release tarball; it is
built here the way jdx/ruby builds (libexec/package.rb): ``--enable-load-relative``,
static libruby, into ``ruby-<ver>/``. OpenSSL, libyaml and libffi are the system's
(jdx/ruby links its own in statically), so this tree runs on this machine only.

Built once (about 4 minutes on 2 cores) and cached under <cache>/ruby-build/; then
`build_mirror` lays out ``<tag>/ruby-<ver>.x86_64_linux.tar.gz``, its SLSA provenance
and the API's release list as tests/providers/mirrors.py does for the fake builds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from tests.support.realbin import _atomic_output, build_lock, cache_dir

RUBY_VERSION = "3.1.2"
#: The Debian source package whose orig tarball is upstream's ruby-3.1.2.tar.xz.
DEBIAN_SOURCE = ("ruby3.1", "3.1.2-7+deb12u1")
DEBIAN_ARCHIVE = "http://deb.debian.org/debian"
#: What the build needs besides gcc (scripts/setup.sh installs them).
BUILD_DEPS = ("make", "libssl-dev", "libyaml-dev", "libffi-dev", "zlib1g-dev")
TAG = f"{RUBY_VERSION}-1"
ASSET = f"ruby-{RUBY_VERSION}.x86_64_linux.tar.gz"
FORMAT = 1


def _run(args: list[str], cwd: Path, log: Path, timeout: float = 1800) -> None:
    with open(log, "ab") as out:
        proc = subprocess.run(args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                              timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-5:]
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {' | '.join(tail)}")


def missing_tools() -> list[str]:
    """What this machine lacks to build the tree (empty: it can)."""
    out = [t for t in ("apt-get", "cc", "make") if shutil.which(t) is None]
    for header in ("openssl/ssl.h", "yaml.h", "ffi.h", "zlib.h"):
        if not any(Path(d, header).exists() for d in
                   ("/usr/include", "/usr/include/x86_64-linux-gnu")):
            out.append(header)
    return out


def source_tarball() -> Path:
    """The orig tarball of Debian's source package, downloaded once with apt-get (a
    private sources list and lists directory: the machine's apt setup is untouched)."""
    name, version = DEBIAN_SOURCE
    dest = cache_dir() / "ruby-build" / "src"
    orig = dest / f"{name}_{version.split('-')[0]}.orig.tar.xz"
    if orig.is_file():
        return orig
    dest.mkdir(parents=True, exist_ok=True)
    apt = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".apt-"))
    try:
        (apt / "lists" / "partial").mkdir(parents=True)
        (apt / "src.sources").write_text(
            f"Types: deb-src\nURIs: {DEBIAN_ARCHIVE}\nSuites: bookworm\nComponents: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
        opts = ["-o", f"Dir::Etc::SourceList={apt / 'src.sources'}",
                "-o", "Dir::Etc::SourceParts=/dev/null", "-o", f"Dir::State::Lists={apt / 'lists'}"]
        log = apt / "apt.log"
        _run(["apt-get", *opts, "update"], apt, log, timeout=600)
        _run(["apt-get", *opts, "source", "--download-only", f"{name}={version}"], apt, log,
             timeout=600)
        os.replace(apt / orig.name, orig)
    finally:
        shutil.rmtree(apt, ignore_errors=True)
    return orig


def ruby_tree() -> Path:
    """`<cache>/ruby-build/fmtN/ruby-<ver>/`: the installed, relocatable tree."""
    final = cache_dir() / "ruby-build" / f"fmt{FORMAT}" / f"ruby-{RUBY_VERSION}"
    if (final / "bin" / "ruby").is_file():
        return final
    with build_lock(final):  # minutes of both cores: one worker builds, others wait
        if (final / "bin" / "ruby").is_file():
            return final
        return _build(final)


def _build(final: Path) -> Path:
    orig = source_tarball()
    work = Path(tempfile.mkdtemp(dir=cache_dir(), prefix=".ruby-build-"))
    try:
        log = work / "build.log"
        _run(["tar", "-xJf", str(orig)], work, log)
        src = work / f"ruby-{RUBY_VERSION}"
        # The prefix is a name only: load-relative finds everything from bin/ruby.
        _run(["./configure", f"--prefix=/ruby-{RUBY_VERSION}", "--enable-load-relative",
              "--disable-install-doc", "--without-gmp"], src, log)
        _run(["make", f"-j{os.cpu_count() or 2}"], src, log)
        _run(["make", "install", f"DESTDIR={work / 'dest'}"], src, log)
        tree = work / "dest" / f"ruby-{RUBY_VERSION}"
        _strip(tree)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tree, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def _strip(tree: Path) -> None:
    """Debug sections out (the tarball goes from about 170 MB to 40), as release
    builds ship; a missing strip leaves them in."""
    if shutil.which("strip") is None:
        return
    for p in [tree / "bin" / "ruby", *tree.rglob("*.so")]:
        subprocess.run(["strip", "--strip-debug", str(p)], check=False, capture_output=True)
    for a in tree.rglob("libruby-static.a"):
        a.unlink()  # 60 MB that only embedding needs


def _tarball(tree: Path, out: Path) -> str:
    with _atomic_output(out) as raw, tarfile.open(fileobj=raw, mode="w:gz",
                                                  compresslevel=1) as tf:
        tf.add(tree, arcname=tree.name)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def build_mirror() -> Path:
    """A directory in jdx/ruby's layout for the real build: ``ruby-dl/<tag>/`` (the
    tarball and its provenance) and ``gh/jdx/ruby/releases`` (the API's list)."""
    from tests.providers.mirrors import ruby_provenance, ruby_release, write

    root = cache_dir() / "mirror" / "ruby" / f"fmt{FORMAT}" / RUBY_VERSION
    api = root / "gh" / "jdx" / "ruby" / "releases"
    if api.is_file():
        return root
    tree = ruby_tree()
    sha = _tarball(tree, root / "ruby-dl" / TAG / ASSET)
    prov = ruby_provenance({ASSET: sha})
    write(root / "ruby-dl" / TAG / f"ruby-{RUBY_VERSION}.intoto.jsonl", prov)
    entry = ruby_release(RUBY_VERSION, TAG, {"x86_64_linux": sha,
                                             "intoto": hashlib.sha256(prov).hexdigest()})
    write(api, json.dumps([entry]))
    return root
