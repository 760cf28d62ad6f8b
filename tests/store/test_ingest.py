"""Ingest semantics: idempotence, concurrency, deduplication, repair, verify."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from store.local import LocalStore
from tests.conftest import OmgEnv
from tests.store.builders import SAMPLE, Entry, write_dir, write_tar


def test_directory_and_archive_give_the_same_path(tmp_path: Path, store: LocalStore) -> None:
    archive = write_tar(tmp_path / "pkg.tar.gz", SAMPLE, "gz")
    a = store.add(archive, "pkg", "1.0")
    d = store.add(write_dir(tmp_path / "d", SAMPLE) / "pkg-1.0", "pkg", "1.0")
    assert a.record.path == d.record.path
    assert a.created and not d.created


def test_idempotent_add_does_no_work(tmp_path: Path, store: LocalStore) -> None:
    archive = write_tar(tmp_path / "pkg.tar.zst", SAMPLE, "zst")
    first = store.add(archive, "pkg", "1.0")
    root = store.layout.store_path(first.record.path)
    before = {p: os.lstat(p).st_ino for p in [root, *root.rglob("*")]}
    meta_before = store.layout.record_path(first.record.path).read_bytes()
    again = store.add(archive, "pkg", "1.0")
    assert again.record == first.record
    assert not again.created
    assert again.added_bytes == 0
    assert {p: os.lstat(p).st_ino for p in [root, *root.rglob("*")]} == before
    assert store.layout.record_path(first.record.path).read_bytes() == meta_before
    assert os.listdir(store.layout.staging) == []
    assert not list(store.layout.store.glob(".pending-*"))


def test_add_through_the_cli_prints_the_path(tmp_path: Path, omg_env: OmgEnv) -> None:
    archive = write_tar(tmp_path / "pkg.tar.xz", SAMPLE, "xz")
    one = omg_env.run("store", "add", str(archive), "--name", "pkg", "--version", "1.0",
                      check=True)
    two = omg_env.run("store", "add", str(archive), "--name", "pkg", "--version", "1.0",
                      "--json", check=True)
    path = one.stdout.strip()
    assert Path(path).parent == omg_env.layout.store
    data = json.loads(two.stdout)
    assert data["store_path"]["path"] == path and data["created"] is False
    assert data["added_bytes"] == 0


def test_concurrent_adds_of_the_same_content(tmp_path: Path, omg_env: OmgEnv) -> None:
    entries: list[Entry] = [(f"t/f{i:03}", "f", os.urandom(2000), 0o644) for i in range(300)]
    archive = write_tar(tmp_path / "big.tar.gz", entries, "gz")
    cmd = [sys.executable, "-m", "omg", "store", "add", str(archive), "-n", "big", "-v", "1"]
    procs = [subprocess.Popen(cmd, env=omg_env.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    paths = {out.strip() for out, _err in outs}
    assert len(paths) == 1
    store_entries = [n for n in os.listdir(omg_env.layout.store) if not n.startswith(".")]
    name = Path(paths.pop()).name
    assert sorted(store_entries) == sorted([name, name + ".meta"])
    assert os.listdir(omg_env.layout.staging) == []
    omg_env.run("store", "verify", check=True)
    ls = json.loads(omg_env.run("store", "ls", "--json", check=True).stdout)
    assert [r["store_path"]["name"] for r in ls] == [name]


def test_second_version_stores_only_changed_files(tmp_path: Path, store: LocalStore) -> None:
    common = [(f"rt-{{v}}/lib/m{i}.js", "f", os.urandom(4000), 0o644) for i in range(20)]

    def version(v: str, binary: bytes) -> Path:
        entries: list[Entry] = [(n.format(v=v), k, p, m) for n, k, p, m in common]
        entries.append((f"rt-{v}/bin/rt", "f", binary, 0o755))
        entries.append((f"rt-{v}/VERSION", "f", v.encode(), 0o644))
        return write_tar(tmp_path / f"rt-{v}.tar.xz", entries, "xz")

    one = store.add(version("1.0", os.urandom(50_000)), "rt", "1.0")
    two = store.add(version("1.1", os.urandom(60_000)), "rt", "1.1")
    assert one.added_bytes == one.record.size == 20 * 4000 + 50_000 + 3
    assert two.record.size == 20 * 4000 + 60_000 + 3
    assert two.added_bytes == 60_000 + 3  # only the changed binary and VERSION
    r1 = store.layout.store_path(one.record.path)
    r2 = store.layout.store_path(two.record.path)
    for i in range(20):
        assert os.stat(r1 / f"lib/m{i}.js").st_ino == os.stat(r2 / f"lib/m{i}.js").st_ino
    assert os.stat(r1 / "bin/rt").st_ino != os.stat(r2 / "bin/rt").st_ino


def test_identical_content_with_and_without_exec_bit_is_pooled_apart(
        tmp_path: Path, store: LocalStore) -> None:
    entries: list[Entry] = [("t/plain", "f", b"same bytes", 0o644),
                            ("t/exe", "f", b"same bytes", 0o755)]
    root = store.layout.store_path(store.add(write_tar(tmp_path / "t.tar", entries), "t",
                                             "1").record.path)
    assert os.stat(root / "plain").st_mode & 0o777 == 0o444
    assert os.stat(root / "exe").st_mode & 0o777 == 0o555
    assert os.stat(root / "plain").st_ino != os.stat(root / "exe").st_ino


def test_duplicates_within_one_archive_are_one_inode(tmp_path: Path, store: LocalStore) -> None:
    small, big = os.urandom(3000), os.urandom(3 << 20)  # one below, one above the buffer
    entries: list[Entry] = [
        ("t/a/small", "f", small, 0o644), ("t/a/big", "f", big, 0o755),
        ("t/b/small", "f", small, 0o644),
        ("t/b/big.dedup0", "f", b"a name the unpacker might pick", 0o644),
        ("t/b/big", "f", big, 0o755), ("t/c/big", "f", big, 0o755),
    ]
    result = store.add(write_tar(tmp_path / "t.tar.gz", entries, "gz"), "t", "1")
    root = store.layout.store_path(result.record.path)
    assert result.added_bytes == len(small) + len(big) + 30
    assert os.stat(root / "a/small").st_ino == os.stat(root / "b/small").st_ino
    assert os.stat(root / "a/big").st_ino == os.stat(root / "b/big").st_ino == \
        os.stat(root / "c/big").st_ino
    assert (root / "b/big").read_bytes() == big and (root / "b/small").read_bytes() == small
    assert (root / "b/big.dedup0").read_bytes() == b"a name the unpacker might pick"
    assert sorted(os.listdir(root / "b")) == ["big", "big.dedup0", "small"]
    for f in ("a/small", "a/big", "b/big.dedup0"):
        st = os.stat(root / f)
        assert st.st_mtime == 1 and st.st_mode & 0o777 in (0o444, 0o555)
    assert store.verify() == []


def test_modes_do_not_depend_on_the_umask(tmp_path: Path, store: LocalStore) -> None:
    entries: list[Entry] = [("t/bin/", "d", b"", 0o700), ("t/bin/x", "f", b"#!", 0o700),
                            ("t/small", "f", b"data", 0o600),
                            ("t/big", "f", os.urandom(2 << 20), 0o600)]
    archive = write_tar(tmp_path / "t.tar", entries)
    old = os.umask(0o077)
    try:
        root = store.layout.store_path(store.add(archive, "t", "1").record.path)
    finally:
        os.umask(old)
    modes = {p: os.stat(root / p).st_mode & 0o7777 for p in ("", "bin", "bin/x", "small", "big")}
    assert modes == {"": 0o555, "bin": 0o555, "bin/x": 0o555, "small": 0o444, "big": 0o444}


def test_a_large_file_already_stored_is_linked(tmp_path: Path, store: LocalStore) -> None:
    big = os.urandom(2 << 20)
    one = store.add(write_tar(tmp_path / "1.tar.xz", [("r/bin/x", "f", big, 0o755)], "xz"),
                    "r", "1")
    two = store.add(write_tar(tmp_path / "2.tar.xz", [("r/bin/x", "f", big, 0o755),
                                                      ("r/v", "f", b"2", 0o644)], "xz"), "r", "2")
    assert two.added_bytes == 1
    r1, r2 = (store.layout.store_path(r.record.path) for r in (one, two))
    assert os.stat(r1 / "bin/x").st_ino == os.stat(r2 / "bin/x").st_ino
    assert os.stat(r2 / "bin/x").st_mode & 0o777 == 0o555


@pytest.mark.parametrize("fmt", ["gnu", "posix"])
def test_sparse_members_unpack_to_their_full_content(fmt: str, tmp_path: Path,
                                                     store: LocalStore) -> None:
    if shutil.which("tar") is None:
        pytest.skip("needs GNU tar to write sparse members")
    src = tmp_path / "src" / "s"
    src.mkdir(parents=True)
    with open(src / "holes", "wb") as f:
        f.seek(3 << 20)
        f.write(b"middle")
        f.seek(6 << 20)
        f.write(b"end")
    (src / "plain").write_bytes(b"after the sparse member")
    archive = tmp_path / f"sparse-{fmt}.tar.gz"
    subprocess.run(["tar", "--sparse", f"--format={fmt}", "-czf", str(archive), "-C",
                    str(tmp_path / "src"), "s"], check=True)
    root = store.layout.store_path(store.add(archive, "s", "1").record.path)
    assert (root / "holes").read_bytes() == (src / "holes").read_bytes()
    assert (root / "plain").read_bytes() == b"after the sparse member"


def test_doctor_repair_rebuilds_a_deleted_index(tmp_path: Path, omg_env: OmgEnv) -> None:
    from store.fsutil import force_remove

    for v in ("1.0", "2.0"):
        entries: list[Entry] = [(f"p-{v}/bin/p", "f", f"p {v}".encode(), 0o755)]
        omg_env.run("store", "add", str(write_tar(tmp_path / f"p{v}.tar.gz", entries, "gz")),
                    "-n", "p", "-v", v, check=True)
    pkg = tmp_path / "foo-1-1-any.pkg.tar.zst"
    from tests.store.builders import arch_package

    arch_package(pkg, "foo", "1-1", [("usr/share/foo", "f", b"foo", 0o644)])
    omg_env.run("store", "add", str(pkg), "-n", "foo", "-v", "1-1", check=True)
    ls_before = omg_env.run("store", "ls", "--json", check=True).stdout
    ls_text = omg_env.run("store", "ls", check=True).stdout
    names = [r["store_path"]["name"] for r in json.loads(ls_before)]
    infos = [omg_env.run("store", "info", n, "--json", check=True).stdout for n in names]
    force_remove(omg_env.layout.db)
    out = omg_env.run("doctor", "--repair", check=True)
    assert "3" in out.stdout
    # The index really is back (not just rebuilt lazily from the records by ls).
    with omg_env.store().index as index:
        assert sorted(k.decode() for k, _ in index.items("paths")) == sorted(names)
        assert len(index.items("pathfiles")) == 3
    assert omg_env.run("store", "ls", "--json", check=True).stdout == ls_before
    assert omg_env.run("store", "ls", check=True).stdout == ls_text
    assert [omg_env.run("store", "info", n, "--json", check=True).stdout
            for n in names] == infos
    assert any("pkginfo" in i for i in infos)


def test_verify_names_the_corrupted_file(tmp_path: Path, omg_env: OmgEnv) -> None:
    archive = write_tar(tmp_path / "pkg.tar.gz", SAMPLE, "gz")
    path = Path(omg_env.run("store", "add", str(archive), "-n", "pkg", "-v", "1",
                            check=True).stdout.strip())
    ok = omg_env.run("store", "verify", check=True)
    assert "1 store paths verified" in ok.stdout
    victim = path / "lib" / "libx.so.1"
    os.chmod(victim, 0o644)
    with open(victim, "r+b") as f:
        f.seek(3)
        f.write(b"X")
    os.chmod(victim, 0o444)
    bad = omg_env.run("store", "verify")
    assert bad.returncode == 5
    assert f"{path.name}/lib/libx.so.1" in bad.stderr
    assert "content changed" in bad.stderr
    errors = [line for line in bad.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "lib/libx.so.1" in errors[0]
    as_json = json.loads(omg_env.run("store", "verify", "--json", path.name).stdout)
    assert as_json["problems"] == [{"store_path": {"name": path.name, "path": str(path)},
                                    "file": "lib/libx.so.1",
                                    "what": "content changed (hash mismatch)"}]
    doctor = omg_env.run("doctor")
    assert doctor.returncode != 0 and "lib/libx.so.1" in doctor.stderr


def test_verify_names_an_added_file(tmp_path: Path, omg_env: OmgEnv) -> None:
    archive = write_tar(tmp_path / "pkg.tar.gz", SAMPLE, "gz")
    path = Path(omg_env.run("store", "add", str(archive), "-n", "pkg", "-v", "1",
                            check=True).stdout.strip())
    os.chmod(path / "bin", 0o755)
    (path / "bin" / "intruder").write_bytes(b"x")
    bad = omg_env.run("store", "verify")
    assert bad.returncode != 0
    assert "bin/intruder: unexpected file" in bad.stderr


def test_references_are_recorded_and_closed_over(tmp_path: Path, store: LocalStore) -> None:
    dep = store.add(write_tar(tmp_path / "d.tar", [("d/x", "f", b"d", 0o644)]), "dep", "1")
    top = store.add(write_tar(tmp_path / "t.tar", [("t/y", "f", b"t", 0o644)]), "top", "1",
                    references=[dep.record.path])
    assert top.record.references == (dep.record.path,)
    assert store.closure([top.record.path]) == {top.record.path, dep.record.path}


def test_the_same_files_with_other_references_are_another_path(tmp_path: Path,
                                                                store: LocalStore) -> None:
    """A rebuild against a newer dependency (same files, other references) is a new
    store path with its own references: the name covers them, as Nix's does."""
    dep1 = store.add(write_tar(tmp_path / "d1.tar", [("d/x", "f", b"1", 0o644)]), "dep", "1")
    dep2 = store.add(write_tar(tmp_path / "d2.tar", [("d/x", "f", b"2", 0o644)]), "dep", "2")
    archive = write_tar(tmp_path / "t.tar", [("t/y", "f", b"t", 0o644)])
    plain = store.add(archive, "top", "1")
    first = store.add(archive, "top", "1", references=[dep1.record.path])
    second = store.add(archive, "top", "1", references=[dep2.record.path])
    again = store.add(archive, "top", "1", references=[dep2.record.path])
    names = {plain.record.path, first.record.path, second.record.path}
    assert len(names) == 3 and again.record.path == second.record.path
    assert store.get(first.record.path).references == (dep1.record.path,)
    assert store.get(second.record.path).references == (dep2.record.path,)
    assert plain.record.references == ()
    assert store.verify() == []


def test_re_adding_a_known_archive_does_not_unpack(tmp_path: Path, store: LocalStore,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import store.ingest as ingest_mod

    archive = write_tar(tmp_path / "pkg.tar.gz", SAMPLE, "gz")
    first = store.add(archive, "pkg", "1.0")

    def no_unpack(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("unpacked a known archive")

    monkeypatch.setattr(ingest_mod, "unpack", no_unpack)
    again = store.add(archive, "pkg", "1.0")
    assert again.record == first.record and not again.created
    # Under another version it is another store path, so it is unpacked.
    with pytest.raises(AssertionError, match="unpacked"):
        store.add(archive, "pkg", "1.1")
    # A memo pointing at a collected path is ignored.
    monkeypatch.undo()
    store.sweep([first.record.path])
    assert store.add(archive, "pkg", "1.0").created


def test_an_index_failure_publishes_nothing(tmp_path: Path, omg_env: OmgEnv,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The index row is written before the rename that publishes the path: a failed
    write leaves no path behind that the index does not know (and `store ls` works)."""
    import store.ingest as ingest_mod
    from store.errors import IntegrityError

    store = omg_env.store()
    try:
        good = store.add(write_tar(tmp_path / "good.tar", SAMPLE), "good", "1")
        names = store.names()

        def failing(*_args: object, **_kwargs: object) -> None:
            raise IntegrityError("cannot write the index: simulated")

        monkeypatch.setattr(ingest_mod, "index_record", failing)
        archive = write_tar(tmp_path / "other.tar", [("o/x", "f", b"other", 0o644)])
        with pytest.raises(IntegrityError, match="simulated"):
            store.add(archive, "other", "1")
        assert store.names() == names
        assert os.listdir(store.layout.staging) == []
        assert not list(store.layout.store.glob(".pending-*"))
        monkeypatch.undo()
    finally:
        store.close()
    listed = json.loads(omg_env.run("store", "ls", "--json", check=True).stdout)
    assert [p["store_path"]["name"] for p in listed] == [good.record.path]
    omg_env.run("store", "verify", check=True)
    added = omg_env.run("store", "add", str(archive), "-n", "other", "-v", "1", check=True)
    assert Path(added.stdout.strip()).is_dir()
