"""The AUR commit a snapshot was made from: `git archive` (what cgit serves) writes it
into the tar's pax global header; anything else says nothing."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from omg.arch.aur import snapshot_commit

COMMIT = "3f786850e387550fdab836ed7e6dc881de23001b"


def _tarball(path: Path, pax: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT, pax_headers=pax) as tf:
        info = tarfile.TarInfo("pkg/PKGBUILD")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"x=1"))
    return path


def test_the_commit_comes_from_the_pax_global_header(tmp_path: Path) -> None:
    assert snapshot_commit(_tarball(tmp_path / "a.tar.gz", {"comment": COMMIT})) == COMMIT


def test_no_header_a_non_commit_or_garbage_say_nothing(tmp_path: Path) -> None:
    assert snapshot_commit(_tarball(tmp_path / "a.tar.gz", {})) == ""
    assert snapshot_commit(_tarball(tmp_path / "b.tar.gz", {"comment": "$(rm -rf /)"})) == ""
    (tmp_path / "c.tar.gz").write_bytes(b"\x1f\x8b not gzip")
    assert snapshot_commit(tmp_path / "c.tar.gz") == ""
