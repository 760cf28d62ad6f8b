"""Every archive format gives the same tree, with exec bits and package metadata right."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from store.local import LocalStore
from tests.store.builders import SAMPLE, Entry, arch_package, write_dir, write_tar, write_zip

SUFFIX = {"gz": "tar.gz", "xz": "tar.xz", "bz2": "tar.bz2", "zst": "tar.zst", "": "tar"}


def _check_sample_tree(root: Path) -> None:
    assert (root / "bin" / "tool").read_bytes() == b"#!/bin/sh\necho tool\n"
    assert os.stat(root / "bin" / "tool").st_mode & 0o777 == 0o555
    assert os.stat(root / "README").st_mode & 0o777 == 0o444
    assert os.stat(root / "empty").st_mode & 0o777 == 0o444
    assert os.readlink(root / "lib" / "libx.so") == "libx.so.1"
    assert os.lstat(root / "README").st_mtime == 1
    assert os.stat(root).st_mode & 0o777 == 0o555
    assert not (root / "pkg-1.0").exists()  # the single top-level directory is the root


@pytest.mark.parametrize("compression", ["gz", "xz", "bz2", "zst", ""])
def test_tar_formats_give_one_path(compression: str, tmp_path: Path, store: LocalStore) -> None:
    archive = write_tar(tmp_path / f"pkg.{SUFFIX[compression]}", SAMPLE, compression)
    dir_result = store.add(write_dir(tmp_path / "dir", SAMPLE) / "pkg-1.0", "pkg", "1.0")
    result = store.add(archive, "pkg", "1.0")
    assert result.record.path == dir_result.record.path
    assert not result.created
    _check_sample_tree(store.layout.store_path(result.record.path))


def test_zip_keeps_exec_bits(tmp_path: Path, store: LocalStore) -> None:
    archive = write_zip(tmp_path / "pkg.zip", SAMPLE)
    tar = write_tar(tmp_path / "pkg.tar.gz", SAMPLE, "gz")
    result = store.add(archive, "pkg", "1.0")
    assert result.created
    root = store.layout.store_path(result.record.path)
    _check_sample_tree(root)
    assert store.add(tar, "pkg", "1.0").record.path == result.record.path


def test_format_detected_by_content_not_name(tmp_path: Path, store: LocalStore) -> None:
    xz = write_tar(tmp_path / "misnamed.tar.gz", SAMPLE, "xz")
    gz = write_tar(tmp_path / "right.tar.gz", SAMPLE, "gz")
    assert store.add(xz, "pkg", "1").record.path == store.add(gz, "pkg", "1").record.path


@pytest.mark.parametrize("compression", ["zst", "gz"])
def test_arch_package(compression: str, tmp_path: Path, store: LocalStore) -> None:
    files: list[Entry] = [
        ("usr/", "d", b"", 0o755),
        ("usr/bin/", "d", b"", 0o755),
        ("usr/bin/foo", "f", b"\x7fELF foo", 0o755),
        ("usr/bin/foo-alias", "l", "/usr/bin/foo", 0o777),
        ("usr/share/doc/foo/README", "f", b"docs\n", 0o644),
    ]
    pkg = arch_package(tmp_path / f"foo-1.2-3-x86_64.pkg.tar.{compression}", "foo", "1.2-3",
                       files, compression)
    result = store.add(pkg, "foo", "1.2-3")
    root = store.layout.store_path(result.record.path)
    names = sorted(os.listdir(root))
    assert names == ["usr"]  # no .PKGINFO/.BUILDINFO/.MTREE/.INSTALL, top level kept
    info = result.record.metadata["pkginfo"]
    assert info["pkgname"] == "foo"
    assert info["pkgver"] == "1.2-3"
    assert info["depend"] == ["glibc", "zlib>=1.2"]
    assert info["provides"] == ["libfoo.so=1-64"]
    assert info["conflict"] == ["foo-git"]
    assert info["license"] == ["MIT"]
    assert info["arch"] == "x86_64"
    # The absolute link is rebased onto the package root and stays inside it.
    assert os.readlink(root / "usr/bin/foo-alias") == "foo"
    # The metadata survives in the record beside the path, not only in the index.
    assert store.get(result.record.path).metadata == result.record.metadata
    assert "pkginfo" in (store.layout.record_path(result.record.path)).read_text()
    # Same files without the metadata members: the same tree, so the same hash part.
    plain = write_dir(tmp_path / "plain", [(n, k, p, m) for n, k, p, m in files
                                           if not n.endswith("foo-alias")])
    os.symlink("foo", plain / "usr/bin/foo-alias")
    assert store.add(plain, "foo", "1.2-3").record.path == result.record.path


def test_arch_package_without_pkginfo_is_refused(tmp_path: Path, store: LocalStore) -> None:
    from store.errors import IntegrityError

    pkg = write_tar(tmp_path / "bad-1-1-any.pkg.tar.zst",
                    [("usr/bin/x", "f", b"x", 0o755)], "zst")
    with pytest.raises(IntegrityError, match="PKGINFO"):
        store.add(pkg, "bad", "1-1")


def test_multiple_top_level_entries_are_not_stripped(tmp_path: Path, store: LocalStore) -> None:
    entries: list[Entry] = [("a/x", "f", b"x", 0o644), ("b", "f", b"b", 0o644)]
    result = store.add(write_tar(tmp_path / "two.tar.gz", entries, "gz"), "two", "1")
    assert sorted(os.listdir(store.layout.store_path(result.record.path))) == ["a", "b"]


def test_single_top_level_file_is_not_stripped(tmp_path: Path, store: LocalStore) -> None:
    result = store.add(write_tar(tmp_path / "one.tar.xz", [("only", "f", b"x", 0o644)], "xz"),
                       "one", "1")
    root = store.layout.store_path(result.record.path)
    assert os.listdir(root) == ["only"]
    assert stat.S_ISREG(os.lstat(root / "only").st_mode)


def test_hard_links_inside_the_tree(tmp_path: Path, store: LocalStore) -> None:
    entries: list[Entry] = [("t/a", "f", b"same", 0o755), ("t/b", "h", "t/a", 0o755)]
    result = store.add(write_tar(tmp_path / "h.tar", entries), "h", "1")
    root = store.layout.store_path(result.record.path)
    assert os.stat(root / "a").st_ino == os.stat(root / "b").st_ino
    assert (root / "b").read_bytes() == b"same"


def test_zip_entries_without_file_type_bits(tmp_path: Path, store: LocalStore) -> None:
    """ZipFile.writestr(name, data) sets external_attr 0o600 << 16 with no S_IFREG:
    a regular file, once refused as a device node."""
    import zipfile

    archive = tmp_path / "plain.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pkg/notes.txt", b"plain")
        tool = zipfile.ZipInfo("pkg/bin/tool")
        tool.external_attr = 0o755 << 16
        zf.writestr(tool, b"#!/bin/sh\n")
    with zipfile.ZipFile(archive) as zf:
        assert zf.getinfo("pkg/notes.txt").external_attr == 0o600 << 16
    root = store.layout.store_path(store.add(archive, "plain", "1").record.path)
    assert (root / "notes.txt").read_bytes() == b"plain"
    assert os.stat(root / "notes.txt").st_mode & 0o777 == 0o444
    assert os.stat(root / "bin" / "tool").st_mode & 0o777 == 0o555
