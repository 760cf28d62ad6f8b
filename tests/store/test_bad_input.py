"""Invariant 5 through the CLI: bad input gets one error line, a non-zero exit, no trace.

Each test starts from a store that already holds a path, runs ``omg store add``
on a hostile or broken input, and checks that ``store/`` (every entry, mode,
size and link target) and the index (``store ls --json``) are exactly as before.
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import OmgEnv
from tests.store.builders import SAMPLE, Entry, deep_dirs, tar_bytes, write_tar, write_zip

Snap = Callable[[Path], dict[str, tuple[int, int, str]]]


@pytest.fixture
def populated(tmp_path: Path, omg_env: OmgEnv) -> OmgEnv:
    good = write_tar(tmp_path / "good.tar.gz", SAMPLE, "gz")
    omg_env.run("store", "add", str(good), "-n", "good", "-v", "1", check=True)
    return omg_env


def refused(env: OmgEnv, snapshot_dir: Snap, source: Path, *, exit_code: int | None = None,
            extra_env: dict[str, str] | None = None, match: str = "",
            timeout: float = 300) -> str:
    """Add `source`; assert the refusal and an untouched store; return the error line."""
    store_before = snapshot_dir(env.layout.store)
    ls_before = env.run("store", "ls", "--json", check=True).stdout
    proc = env.run("store", "add", str(source), "-n", "bad", "-v", "1", extra_env=extra_env,
                   timeout=timeout)
    assert proc.returncode != 0, proc.stdout
    if exit_code is not None:
        assert proc.returncode == exit_code, proc.stderr
    lines = proc.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert all(line.startswith(("error: ", "hint: ", "warning: ")) for line in lines), lines
    assert match in errors[0]
    assert proc.stdout == ""
    assert snapshot_dir(env.layout.store) == store_before
    assert env.run("store", "ls", "--json", check=True).stdout == ls_before
    return errors[0]


def _raw_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for ti, data in members:
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)
    path.write_bytes(buf.getvalue())
    return path


def _file(name: str, data: bytes = b"pwned", mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode = len(data), mode
    return ti, data


def test_dotdot_member(tmp_path: Path, populated: OmgEnv, snapshot_dir: Snap) -> None:
    archive = _raw_tar(tmp_path / "evil.tar", [_file("pkg/ok"), _file("pkg/../../evil")])
    err = refused(populated, snapshot_dir, archive, exit_code=7, match="'..'")
    assert "pkg/../../evil" in err
    assert not (tmp_path / "evil").exists()


def test_absolute_member(tmp_path: Path, populated: OmgEnv, snapshot_dir: Snap) -> None:
    target = tmp_path / "abs-target"
    archive = _raw_tar(tmp_path / "evil.tar", [_file("pkg/ok"), _file(str(target))])
    refused(populated, snapshot_dir, archive, exit_code=7, match="absolute")
    assert not target.exists()


def test_symlink_escape_then_write_through(tmp_path: Path, populated: OmgEnv,
                                           snapshot_dir: Snap) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    link = tarfile.TarInfo("pkg/escape")
    link.type, link.linkname = tarfile.SYMTYPE, str(outside)
    rel = tarfile.TarInfo("pkg/up")
    rel.type, rel.linkname = tarfile.SYMTYPE, "../../../../../.."
    archive = _raw_tar(tmp_path / "evil.tar.gz",
                       [(rel, None), _file("pkg/up/tmp/x"), (link, None),
                        _file("pkg/escape/written")])
    refused(populated, snapshot_dir, archive, exit_code=7, match="through a symlink")
    assert os.listdir(outside) == []


def test_relative_symlink_escaping_the_tree(tmp_path: Path, populated: OmgEnv,
                                            snapshot_dir: Snap) -> None:
    link = tarfile.TarInfo("pkg/bin/sh")
    link.type, link.linkname = tarfile.SYMTYPE, "../../../etc/passwd"
    archive = _raw_tar(tmp_path / "evil.tar", [_file("pkg/ok"), (link, None)])
    refused(populated, snapshot_dir, archive, exit_code=7, match="outside the tree")


def test_absolute_symlink_outside_a_package(tmp_path: Path, populated: OmgEnv,
                                            snapshot_dir: Snap) -> None:
    link = tarfile.TarInfo("pkg/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive = _raw_tar(tmp_path / "evil.tar.xz", [_file("pkg/ok"), (link, None)])
    refused(populated, snapshot_dir, archive, exit_code=7, match="absolute")


def test_hard_link_out_of_the_tree(tmp_path: Path, populated: OmgEnv,
                                   snapshot_dir: Snap) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"secret")
    hard = tarfile.TarInfo("pkg/stolen")
    hard.type, hard.linkname = tarfile.LNKTYPE, str(secret)
    archive = _raw_tar(tmp_path / "evil.tar", [_file("pkg/ok"), (hard, None)])
    refused(populated, snapshot_dir, archive, exit_code=7, match="pkg/stolen")
    rel = tarfile.TarInfo("pkg/stolen2")
    rel.type, rel.linkname = tarfile.LNKTYPE, "../secret"
    archive2 = _raw_tar(tmp_path / "evil2.tar", [_file("pkg/ok"), (rel, None)])
    refused(populated, snapshot_dir, archive2, exit_code=7)
    assert os.stat(secret).st_nlink == 1


def test_hard_link_to_a_directory_or_symlink(tmp_path: Path, populated: OmgEnv,
                                             snapshot_dir: Snap) -> None:
    entries: list[Entry] = [("pkg/d/", "d", b"", 0o755), ("pkg/l", "l", "d", 0o777),
                            ("pkg/h", "h", "pkg/l", 0o644)]
    refused(populated, snapshot_dir, write_tar(tmp_path / "e.tar", entries), exit_code=7,
            match="hard link")


@pytest.mark.parametrize("kind", ["c", "p"])
def test_device_node_and_fifo(kind: str, tmp_path: Path, populated: OmgEnv,
                              snapshot_dir: Snap) -> None:
    entries: list[Entry] = [("pkg/ok", "f", b"ok", 0o644), ("pkg/node", kind, b"", 0o666)]
    refused(populated, snapshot_dir, write_tar(tmp_path / "e.tar.zst", entries, "zst"),
            exit_code=7, match="device")


def test_zip_special_file(tmp_path: Path, populated: OmgEnv, snapshot_dir: Snap) -> None:
    import stat
    import zipfile

    path = write_zip(tmp_path / "e.zip", [("pkg/ok", "f", b"ok", 0o644)])
    with zipfile.ZipFile(path, "a") as zf:
        info = zipfile.ZipInfo("pkg/fifo")
        info.create_system = 3
        info.external_attr = (stat.S_IFIFO | 0o644) << 16
        zf.writestr(info, b"")
    refused(populated, snapshot_dir, path, exit_code=7)


def test_setuid_and_setgid_are_dropped(tmp_path: Path, populated: OmgEnv) -> None:
    entries: list[Entry] = [("pkg/", "d", b"", 0o2755), ("pkg/suid", "f", b"s", 0o4755),
                            ("pkg/sgid", "f", b"g", 0o2755), ("pkg/sticky/", "d", b"", 0o1777)]
    proc = populated.run("store", "add", str(write_tar(tmp_path / "s.tar.gz", entries, "gz")),
                         "-n", "s", "-v", "1")
    assert proc.returncode == 0, proc.stderr
    assert "warning:" in proc.stderr and "setuid/setgid bits dropped" in proc.stderr
    assert "pkg/suid" in proc.stderr and "pkg/sgid" in proc.stderr
    root = Path(proc.stdout.strip())
    for p in [root, *root.rglob("*")]:
        assert os.lstat(p).st_mode & 0o7000 == 0, p
    assert os.stat(root / "suid").st_mode & 0o777 == 0o555


def test_duplicate_members(tmp_path: Path, populated: OmgEnv, snapshot_dir: Snap) -> None:
    archive = _raw_tar(tmp_path / "dup.tar", [_file("pkg/a", b"one"), _file("pkg/a", b"two")])
    refused(populated, snapshot_dir, archive, exit_code=7, match="duplicate")
    archive2 = _raw_tar(tmp_path / "dup2.tar", [_file("pkg/a", b"one"), _file("./pkg//a")])
    refused(populated, snapshot_dir, archive2, exit_code=7, match="duplicate")


def test_file_replaced_by_directory(tmp_path: Path, populated: OmgEnv,
                                    snapshot_dir: Snap) -> None:
    entries: list[Entry] = [("pkg/a", "f", b"x", 0o644), ("pkg/a/", "d", b"", 0o755)]
    refused(populated, snapshot_dir, write_tar(tmp_path / "e.tar", entries), exit_code=7)


@pytest.mark.parametrize("compression", ["gz", "xz", "bz2", "zst", ""])
def test_truncated_archive(compression: str, tmp_path: Path, populated: OmgEnv,
                           snapshot_dir: Snap) -> None:
    entries: list[Entry] = [(f"pkg/f{i}", "f", os.urandom(3000), 0o644) for i in range(10)]
    full = write_tar(tmp_path / f"full.{compression or 'tar'}", entries, compression)
    data = full.read_bytes()
    cut = tmp_path / f"cut.{compression or 'tar'}"
    cut.write_bytes(data[: len(data) * 2 // 3])
    refused(populated, snapshot_dir, cut, exit_code=5, match="truncated")


def test_truncated_zip(tmp_path: Path, populated: OmgEnv, snapshot_dir: Snap) -> None:
    data = write_zip(tmp_path / "z.zip", SAMPLE).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    refused(populated, snapshot_dir, cut, exit_code=5)


@pytest.mark.parametrize("compression", ["gz", "xz", "bz2", "zst"])
def test_corrupt_archive(compression: str, tmp_path: Path, populated: OmgEnv,
                         snapshot_dir: Snap) -> None:
    entries: list[Entry] = [(f"pkg/f{i}", "f", bytes([i]) * 5000, 0o644) for i in range(10)]
    data = bytearray(write_tar(tmp_path / "c", entries, compression).read_bytes())
    for offset in range(len(data) // 3, len(data) // 3 + 16):
        data[offset] ^= 0xFF
    bad = tmp_path / f"corrupt.tar.{compression}"
    bad.write_bytes(bytes(data))
    refused(populated, snapshot_dir, bad, exit_code=5, match="corrupt")


def test_corrupt_zip_member(tmp_path: Path, populated: OmgEnv, snapshot_dir: Snap) -> None:
    entries: list[Entry] = [("pkg/big", "f", os.urandom(20000), 0o644)]
    data = bytearray(write_zip(tmp_path / "z.zip", entries).read_bytes())
    for offset in range(200, 216):
        data[offset] ^= 0xFF
    bad = tmp_path / "corrupt.zip"
    bad.write_bytes(bytes(data))
    refused(populated, snapshot_dir, bad, exit_code=5)


def test_decompression_bomb_bytes(tmp_path: Path, populated: OmgEnv,
                                  snapshot_dir: Snap) -> None:
    entries: list[Entry] = [("pkg/zeros", "f", bytes(5_000_000), 0o644)]
    bomb = write_tar(tmp_path / "bomb.tar.xz", entries, "xz")
    assert bomb.stat().st_size < 10_000
    refused(populated, snapshot_dir, bomb, exit_code=7, match="max_bytes",
            extra_env={"OMG_MAX_UNPACKED_BYTES": "1000000"})


def test_decompression_bomb_files(tmp_path: Path, populated: OmgEnv,
                                  snapshot_dir: Snap) -> None:
    entries: list[Entry] = [(f"pkg/e{i}", "f", b"", 0o644) for i in range(200)]
    refused(populated, snapshot_dir, write_tar(tmp_path / "many.tar.gz", entries, "gz"),
            exit_code=7, match="max_files", extra_env={"OMG_MAX_FILES": "100"})


def test_unsupported_file(tmp_path: Path, populated: OmgEnv, snapshot_dir: Snap) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("just text, not an archive\n" * 40)
    refused(populated, snapshot_dir, text, exit_code=2, match="not a supported archive")


def test_empty_file(tmp_path: Path, populated: OmgEnv, snapshot_dir: Snap) -> None:
    empty = tmp_path / "empty.tar.gz"
    empty.write_bytes(b"")
    refused(populated, snapshot_dir, empty)


def test_missing_file(tmp_path: Path, populated: OmgEnv, snapshot_dir: Snap) -> None:
    refused(populated, snapshot_dir, tmp_path / "nope.tar.gz", exit_code=3)


def test_bad_name(tmp_path: Path, populated: OmgEnv, snapshot_dir: Snap) -> None:
    archive = write_tar(tmp_path / "ok.tar", SAMPLE)
    before = snapshot_dir(populated.layout.store)
    proc = populated.run("store", "add", str(archive), "-n", "../x", "-v", "1")
    assert proc.returncode == 2 and proc.stderr.startswith("error: invalid name")
    assert snapshot_dir(populated.layout.store) == before


def test_nul_and_huge_tar_header_garbage(tmp_path: Path, populated: OmgEnv,
                                         snapshot_dir: Snap) -> None:
    raw = bytearray(tar_bytes([("pkg/a", "f", b"a" * 600, 0o644)]))
    raw[124:136] = b"77777777777\x00"  # a size field far past the end of the data
    bad = tmp_path / "bad.tar"
    bad.write_bytes(bytes(raw))
    refused(populated, snapshot_dir, bad)


def test_a_directory_holding_the_store_itself(populated: OmgEnv, snapshot_dir: Snap) -> None:
    """Adding OMG_HOME (or anything above it) would copy the store into itself."""
    for source in (populated.home, populated.home.parent):
        error = refused(populated, snapshot_dir, source, exit_code=2)
        assert "holds the store itself" in error


def _still_works(env: OmgEnv, tmp_path: Path) -> None:
    """Nothing was wedged: the next ingest and every listing succeed."""
    again = write_tar(tmp_path / "again.tar.gz", [("p/x", "f", b"again", 0o644)], "gz")
    env.run("store", "add", str(again), "-n", "again", "-v", "1", check=True)
    assert os.listdir(env.layout.staging) == []
    for args in (("store", "ls"), ("list",), ("store", "verify")):
        env.run(*args, check=True)


def test_an_archive_deeper_than_max_depth(deep_tmp: Path, populated: OmgEnv,
                                          snapshot_dir: Snap) -> None:
    """1,500 nested directories: once RecursionError (exit 70) and a wedged store."""
    archive = _raw_tar(deep_tmp / "deep.tar", [_file("d/" * 1500 + "f")])
    error = refused(populated, snapshot_dir, archive, exit_code=7, match="max_depth 256")
    assert "1501 levels deep" in error and len(error) < 300
    _still_works(populated, deep_tmp)


def test_a_directory_deeper_than_max_depth(deep_tmp: Path, populated: OmgEnv,
                                           snapshot_dir: Snap) -> None:
    deep_dirs(deep_tmp / "src", 1500)
    refused(populated, snapshot_dir, deep_tmp / "src", exit_code=7, match="max_depth")
    _still_works(populated, deep_tmp)


def test_max_depth_is_the_limit(tmp_path: Path, populated: OmgEnv, snapshot_dir: Snap) -> None:
    """256 levels (the default limit) are accepted, 257 are not."""
    at_limit = _raw_tar(tmp_path / "256.tar", [_file("d/" * 255 + "f")])
    proc = populated.run("store", "add", str(at_limit), "-n", "deep", "-v", "1")
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip(), *["d"] * 254, "f").read_bytes() == b"pwned"
    beyond = _raw_tar(tmp_path / "257.tar", [_file("d/" * 256 + "f")])
    refused(populated, snapshot_dir, beyond, exit_code=7, match="257 levels deep")


@pytest.mark.parametrize("kind", ["name", "symlink target", "directory entry"])
def test_names_that_are_not_utf8(kind: str, tmp_path: Path, populated: OmgEnv,
                                 snapshot_dir: Snap) -> None:
    """Refused before anything is published: such a name once broke the index for good."""
    if kind == "name":
        source = _raw_tar(tmp_path / "latin1.tar", [_file("pkg/ok"), _file("pkg/caf\udce9")])
    elif kind == "symlink target":
        link = tarfile.TarInfo("pkg/link")
        link.type, link.linkname = tarfile.SYMTYPE, "caf\udce9"
        source = _raw_tar(tmp_path / "latin1.tar", [_file("pkg/ok"), (link, None)])
    else:
        source = tmp_path / "src"
        (source / "pkg").mkdir(parents=True)
        (source / "pkg" / "ok").write_bytes(b"ok")
        with open(os.fsencode(source / "pkg") + b"/caf\xe9", "wb") as f:
            f.write(b"latin-1")
    error = refused(populated, snapshot_dir, source, exit_code=7, match="not valid UTF-8")
    assert "caf\\xe9" in error, error  # the bytes shown with backslash escapes
    _still_works(populated, tmp_path)


@pytest.mark.parametrize("what", ["fifo", "/dev/zero", "/dev/null"])
def test_a_special_file_is_refused_at_once(what: str, tmp_path: Path, populated: OmgEnv,
                                           snapshot_dir: Snap) -> None:
    """A FIFO once hung `store add` (open blocks); /dev/zero read as an empty tar."""
    source = Path(what)
    if what == "fifo":
        source = tmp_path / "fifo"
        os.mkfifo(source)
    error = refused(populated, snapshot_dir, source, exit_code=2, timeout=30,
                    match="not a regular file or a directory")
    assert ("a FIFO" if what == "fifo" else "a character device") in error


def test_a_pkginfo_that_is_not_utf8(tmp_path: Path, populated: OmgEnv,
                                    snapshot_dir: Snap) -> None:
    entries: list[Entry] = [(".PKGINFO", "f", b"pkgname = x\npkgver = 1\npkgdesc = caf\xe9\n",
                             0o644), ("usr/bin/x", "f", b"x", 0o755)]
    package = write_tar(tmp_path / "x-1-1-x86_64.pkg.tar.zst", entries, "zst")
    refused(populated, snapshot_dir, package, exit_code=5, match=".PKGINFO")
