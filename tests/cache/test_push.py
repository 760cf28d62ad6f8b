"""`omg cache push` and `omg cache keygen`: real store paths into a real file cache.

The order of the writes is the point of the format (objects, then the manifest, then
the index), so a storage wrapper records every put; the S3 variant runs against
SeaweedFS (tests/cache/servers.py) when the servers are there.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard
from blake3 import blake3

from omg.cache import keys
from omg.cache import manifest as M
from omg.cache.push import PushResult, closure_order, default_roots, push
from omg.cache.storage import CacheStorage, open_storage
from store.errors import IntegrityError, UsageError
from store.local import LocalStore
from tests.conftest import OmgEnv
from tests.generations.helpers import fake_tool
from tests.schema import check

PLATFORM = "linux-x64-gnu"
KEY = keys.generate("test-cache-1")
NODE_ORIGIN = {"url": "https://nodejs.org/dist/v1.0.0/node.tar.gz", "sha256": "00" * 32}


class Recorder:
    """A storage that records the order of puts (and may fail the n-th one)."""

    def __init__(self, inner: CacheStorage, fail_at: int | None = None) -> None:
        self.inner, self.fail_at = inner, fail_at
        self.url, self.writable = inner.url, inner.writable
        self.puts: list[str] = []

    def get(self, key: str) -> bytes | None:
        return self.inner.get(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def put(self, key: str, data: bytes) -> None:
        if self.fail_at is not None and len(self.puts) + 1 >= self.fail_at:
            raise OSError("injected failure")
        self.inner.put(key, data)
        self.puts.append(key)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def store(omg_env: OmgEnv) -> Iterator[LocalStore]:
    with contextlib.closing(omg_env.store()) as s:
        yield s


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def open_cache(cache_dir: Path, fail_at: int | None = None) -> Recorder:
    return Recorder(open_storage(cache_dir.as_uri()), fail_at)


def add_node(store: LocalStore, root: Path, version: str = "1.0.0",
             extra: dict[str, str] | None = None, references: tuple[str, ...] = ()) -> str:
    src = fake_tool(root, "node", version, extra={"lib/node/README": "same in every version\n",
                                                  **(extra or {})})
    os.symlink("node", src / "bin" / "nodejs")
    return store.add(src, "node", version, origin=dict(NODE_ORIGIN),
                     references=references).record.path


def do_push(store: LocalStore, storage: CacheStorage, *names: str, jobs: int = 3
            ) -> PushResult:
    return push(store.layout, storage, names, KEY, platform=PLATFORM, jobs=jobs)


def test_push_writes_objects_by_blake3_then_the_manifest_then_the_index(
        store: LocalStore, omg_env: OmgEnv, cache_dir: Path) -> None:
    name = add_node(store, omg_env.root)
    storage = open_cache(cache_dir)
    seen: list[tuple[str, int, int | None]] = []
    result = push(store.layout, storage, [name], KEY, platform=PLATFORM, jobs=3,
                  progress=lambda label, done, total: seen.append((label, done, total)))
    assert result.pushed == [name] and result.present == []
    assert result.objects == 2 and result.index_entries == 1
    entries = store.entries(name)
    files = {e[2] for e in entries if e[1] in "fx"}
    object_keys = [k for k in storage.puts if k.startswith("objects/")]
    assert sorted(object_keys) == sorted(f"objects/{d}.zst" for d in files)
    manifest_key = f"paths/{name}.json"
    index_key = f"index/runtime/node/1.0.0/{PLATFORM}.json"
    assert storage.puts == ["omg-cache.json", *object_keys, manifest_key, index_key]
    for key in object_keys:  # one zstd frame whose content hashes to the name
        content = zstandard.ZstdDecompressor().decompress((cache_dir / key).read_bytes())
        assert f"objects/{blake3(content).hexdigest()}.zst" == key
    m = M.decode((cache_dir / manifest_key).read_bytes(), manifest_key, expect_name=name)
    assert M.verify(m, [KEY.public()]) == KEY.public()
    assert m.what == M.runtime_what("node", "1.0.0", PLATFORM)
    assert M.record_entries(m) == entries
    assert ["bin/nodejs", "l", "node"] in json.loads((cache_dir / manifest_key).read_bytes())[
        "tree"]
    assert m.origin == NODE_ORIGIN
    assert json.loads((cache_dir / index_key).read_bytes()) == [name]
    assert json.loads((cache_dir / "omg-cache.json").read_bytes()) == {"format": M.FORMAT}
    assert seen and seen[-1][1] == seen[-1][2] == m.size


def test_a_second_push_moves_nothing(store: LocalStore, omg_env: OmgEnv,
                                     cache_dir: Path) -> None:
    name = add_node(store, omg_env.root)
    do_push(store, open_cache(cache_dir), name)
    before = {p: p.stat().st_mtime_ns for p in cache_dir.rglob("*")}
    storage = open_cache(cache_dir)
    again = do_push(store, storage, name)
    assert again.pushed == [] and again.present == [name]
    assert (again.objects, again.index_entries) == (0, 0)
    assert storage.puts == []
    assert {p: p.stat().st_mtime_ns for p in cache_dir.rglob("*")} == before


def test_closure_is_pushed_references_first(store: LocalStore, omg_env: OmgEnv,
                                            cache_dir: Path) -> None:
    lib = store.add(fake_tool(omg_env.root, "zlib", "1.3"), "zlib", "1.3").record.path
    mid = store.add(fake_tool(omg_env.root, "mid", "2"), "mid", "2",
                    references=[lib]).record.path
    top = add_node(store, omg_env.root, references=(mid, lib))
    storage = open_cache(cache_dir)
    result = do_push(store, storage, top)
    assert result.pushed == [lib, mid, top]
    manifests = [k for k in storage.puts if k.startswith("paths/")]
    assert manifests == [f"paths/{n}.json" for n in (lib, mid, top)]
    assert [r.path for r, _ in closure_order(store.layout, [top, lib])] == [lib, mid, top]
    plain = M.decode(storage.get(f"paths/{mid}.json") or b"", "k")
    assert plain.what == {"kind": "path", "name": "mid", "version": "2"}
    assert plain.references == (lib,)


def test_objects_the_cache_has_are_not_uploaded_again(store: LocalStore, omg_env: OmgEnv,
                                                      cache_dir: Path) -> None:
    first = add_node(store, omg_env.root, "1.0.0")
    second = add_node(store, omg_env.root, "1.0.1")
    do_push(store, open_cache(cache_dir), first)
    storage = open_cache(cache_dir)
    result = do_push(store, storage, second)
    # bin/node says its version; the README is the same bytes: not sent again
    assert result.objects == 1
    assert [k for k in storage.puts if k.startswith("objects/")] == [
        f"objects/{e[2]}.zst" for e in store.entries(second) if e[0] == "bin/node"]


def test_index_entries_are_merged(store: LocalStore, omg_env: OmgEnv, cache_dir: Path) -> None:
    a = add_node(store, omg_env.root, "1.0.0")
    b = add_node(store, omg_env.root / "b", "1.0.0", extra={"lib/other": "x"})
    key = f"index/runtime/node/1.0.0/{PLATFORM}.json"
    do_push(store, open_cache(cache_dir), b)
    do_push(store, open_cache(cache_dir), a)
    assert json.loads((cache_dir / key).read_bytes()) == sorted([a, b])
    (cache_dir / key).write_bytes(b"[not json")
    storage = open_cache(cache_dir)
    result = do_push(store, storage, a)
    assert result.warnings == [f"cache index {key}: corrupt: Expecting value: line 1 column 2 "
                               "(char 1): replaced"]
    assert json.loads((cache_dir / key).read_bytes()) == [a]


def test_a_push_failing_half_way_leaves_no_manifest_and_pushing_again_completes(
        store: LocalStore, omg_env: OmgEnv, cache_dir: Path) -> None:
    name = add_node(store, omg_env.root)
    storage = open_cache(cache_dir, fail_at=3)  # the marker and one object, then nothing
    with pytest.raises(OSError, match="injected"):
        do_push(store, storage, name, jobs=1)
    assert not (cache_dir / "paths").exists() and not (cache_dir / "index").exists()
    assert len(list((cache_dir / "objects").iterdir())) == 1
    storage = open_cache(cache_dir)
    assert do_push(store, storage, name).pushed == [name]
    assert storage.puts[-2:] == [f"paths/{name}.json",
                                 f"index/runtime/node/1.0.0/{PLATFORM}.json"]


def test_a_non_utf8_file_name_is_refused_and_nothing_is_named(store: LocalStore, tmp_path: Path,
                                                              cache_dir: Path) -> None:
    """Ingest refuses such names now; a store path made before that may still hold one."""
    from store.record import decode_record, encode_record

    src = tmp_path / "src"
    src.mkdir()
    (src / "ok").write_text("ok")
    (src / "cafe").write_text("latin-1 name")
    name = store.add(src, "odd", "1").record.path
    root = os.fsencode(store.layout.store_path(name))
    os.rename(root + b"/cafe", root + b"/caf\xe9")
    record_file = store.layout.record_path(name)
    record, entries = decode_record(record_file.read_bytes(), name)
    entries = [(os.fsdecode(b"caf\xe9") if e[0] == "cafe" else e[0], *e[1:]) for e in entries]
    record_file.chmod(0o644)
    record_file.write_bytes(encode_record(record, entries))
    with pytest.raises(UsageError, match=rf"cannot push {name}: file name 'caf\\xe9' is "
                                         "not UTF-8"):
        do_push(store, open_cache(cache_dir), name)
    assert not (cache_dir / "paths").exists() and not (cache_dir / "objects").exists()


def test_a_damaged_store_file_is_never_uploaded(store: LocalStore, omg_env: OmgEnv,
                                                cache_dir: Path) -> None:
    name = add_node(store, omg_env.root)
    target = store.layout.store_path(name) / "lib/node/README"
    target.chmod(0o644)
    target.write_text("tampered\n")
    with pytest.raises(IntegrityError, match=rf"cannot push {name}: lib/node/README does not "
                                             "hash to its record's BLAKE3"):
        do_push(store, open_cache(cache_dir), name, jobs=1)
    assert not (cache_dir / "paths").exists()
    digest = next(e[2] for e in store.entries(name) if e[0] == "lib/node/README")
    assert not (cache_dir / f"objects/{digest}.zst").exists()


def test_a_cache_of_another_format_is_refused(store: LocalStore, omg_env: OmgEnv,
                                              cache_dir: Path) -> None:
    name = add_node(store, omg_env.root)
    cache_dir.mkdir()
    (cache_dir / "omg-cache.json").write_text('{"format": "omg-cache-v9"}')
    with pytest.raises(IntegrityError, match="format 'omg-cache-v9'"):
        do_push(store, open_cache(cache_dir), name)
    assert sorted(p.name for p in cache_dir.iterdir()) == ["omg-cache.json"]


def test_a_read_only_cache_is_refused(store: LocalStore, omg_env: OmgEnv,
                                      cache_dir: Path) -> None:
    name = add_node(store, omg_env.root)
    storage = open_cache(cache_dir)
    storage.writable = False  # as an http(s):// cache is
    with pytest.raises(UsageError, match="cannot push to a read-only cache"):
        do_push(store, storage, name)
    assert not cache_dir.exists()


def test_another_keys_manifest_gains_this_keys_signature(store: LocalStore, omg_env: OmgEnv,
                                                         cache_dir: Path) -> None:
    name = add_node(store, omg_env.root)
    other = keys.generate("other-1")
    push(store.layout, open_cache(cache_dir), [name], other, platform=PLATFORM)
    storage = open_cache(cache_dir)
    assert do_push(store, storage, name).pushed == [name]
    assert [k for k in storage.puts if not k.startswith("index/")] == [f"paths/{name}.json"]
    m = M.decode((cache_dir / f"paths/{name}.json").read_bytes(), "k")
    assert M.verify(m, [other.public()]) == other.public()
    assert M.verify(m, [KEY.public()]) == KEY.public()


def test_default_roots_are_profile_tools_and_install_roots_not_envs(
        store: LocalStore, omg_env: OmgEnv) -> None:
    from generations import installroots

    node = add_node(store, omg_env.root)
    go = store.add(fake_tool(omg_env.root, "go", "1.2"), "go", "1.2").record.path
    kept = store.add(fake_tool(omg_env.root, "bun", "1.1"), "bun", "1.1").record.path
    store.add(fake_tool(omg_env.root, "ruby", "3.3"), "ruby", "3.3")  # nobody's
    omg_env.run("use", "node@1.0.0", check=True)
    project = omg_env.root / "project"
    project.mkdir()
    omg_env.run("use", "--local", "go@1.2", cwd=project, check=True)
    user = omg_env.settings().user
    installroots.add(str(omg_env.home), user, "bun", "1.1", kept)
    installroots.add(str(omg_env.home), "someone-else", "ruby", "3.3", node)
    roots = default_roots(store.layout, user)
    assert roots == sorted([node, go, kept])
    envs = [r.path for r in store.records() if (r.origin or {}).get("kind") == "profile-env"]
    assert len(envs) == 2 and not set(envs) & set(roots)


# Through the command line -----------------------------------------------------------


def secret_file(env: OmgEnv, name: str = "test-cache-1") -> tuple[Path, str]:
    path = env.root / "secret.key"
    proc = env.run("cache", "keygen", name, "--secret-file", str(path), check=True)
    return path, proc.stdout


@pytest.mark.parametrize("command", ["keygen", "push"])
def test_help_renders(omg_env: OmgEnv, command: str) -> None:
    """Help text is rich markup: a `[/PREFIX]` in it once made `--help` an internal error."""
    proc = omg_env.run("cache", command, "--help")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "--secret-file" in proc.stdout


def test_keygen_prints_only_the_public_key_and_writes_0600(omg_env: OmgEnv) -> None:
    path, out = secret_file(omg_env)
    public = keys.parse_public(out)
    assert out == public.text + "\n" and public.name == "test-cache-1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.load_secret(path).public() == public
    again = omg_env.run("cache", "keygen", "x", "--secret-file", str(path))
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr.startswith(f"error: secret key file {path} exists: not overwritten")
    assert keys.load_secret(path).public() == public
    bad = omg_env.run("cache", "keygen", "a:b", "--secret-file", str(omg_env.root / "k2"))
    assert bad.returncode == 2 and "invalid key name 'a:b'" in bad.stderr
    assert not (omg_env.root / "k2").exists()


def test_push_command_with_no_arguments_pushes_the_profile_and_says_up_to_date_after(
        omg_env: OmgEnv, cache_dir: Path) -> None:
    src = fake_tool(omg_env.root, "node", "1.0.0")
    omg_env.run("store", "add", str(src), "--name", "node", "--version", "1.0.0", check=True)
    omg_env.run("use", "node@1.0.0", check=True)
    path, _ = secret_file(omg_env)
    url = cache_dir.as_uri()
    doc = check("cache-push", omg_env.run("cache", "push", url, "--secret-file", str(path),
                                          "--json", check=True).stdout)
    [pushed] = doc["pushed"]
    assert pushed["name"].endswith("-node-1.0.0") and doc["present"] == []
    assert doc["objects"] == 1 and doc["url"] == url
    assert [p.name for p in (cache_dir / "paths").iterdir()] == [pushed["name"] + ".json"]
    again = omg_env.run("cache", "push", url, pushed["name"][:8], "--secret-file", str(path),
                        check=True)
    assert again.stdout == f"{url}: up to date (1 store path already there)\n"
    quiet = omg_env.run("-q", "cache", "push", url, "--secret-file", str(path), check=True)
    assert quiet.stderr == ""


def test_push_command_takes_tool_specs_aur_names_and_store_paths(
        omg_env: OmgEnv, store: LocalStore, cache_dir: Path) -> None:
    old, new = add_node(store, omg_env.root, "1.0.0"), add_node(store, omg_env.root, "1.2.0")
    aur = store.add(fake_tool(omg_env.root, "foo", "1.2-1"), "foo", "1.2-1",
                    origin={"kind": "aur", "pkgbase": "foo", "pkgname": "foo",
                            "version": "1.2-1"}).record.path
    plain = store.add(fake_tool(omg_env.root, "tree", "1@b"), "tree", "1@b").record.path
    path, _ = secret_file(omg_env)
    url = cache_dir.as_uri()
    doc = check("cache-push", omg_env.run(
        "cache", "push", url, "node@1", "aur/foo", str(store.layout.store_path(plain)),
        "--secret-file", str(path), "--json", check=True).stdout)
    assert [p["name"] for p in doc["pushed"]] == [new, aur, plain]
    assert old not in {p["name"] for p in doc["pushed"]}
    assert json.loads((cache_dir / "index/arch/foo/1.2-1.json").read_bytes()) == [aur]
    m = M.decode((cache_dir / f"paths/{aur}.json").read_bytes(), "k")
    assert m.what == {"kind": "arch", "package": "foo", "version": "1.2-1", "arch": "",
                      "repo": "aur"}
    assert sorted(p.name for p in (cache_dir / "index").iterdir()) == ["arch", "runtime"]


def many_files_pushed(env: OmgEnv, store: LocalStore, cache_dir: Path, files: int,
                      *options: str) -> tuple[str, Path, list[str]]:
    """A node path with many files, a key, and the `omg cache push` command line for it."""
    name = add_node(store, env.root, extra={f"lib/f{i}": f"file {i}\n" * i
                                            for i in range(1, files)})
    path, _ = secret_file(env)
    return name, path, [sys.executable, "-m", "omg", "cache", "push", cache_dir.as_uri(), name,
                        "--secret-file", str(path), *options]


def test_two_pushes_of_the_same_path_at_once(omg_env: OmgEnv, store: LocalStore,
                                             cache_dir: Path) -> None:
    name, path, args = many_files_pushed(omg_env, store, cache_dir, 60, "--jobs", "2", "--json")
    procs = [subprocess.Popen(args, env=omg_env.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    docs = [json.loads(out) for out, _ in outs]
    assert all(d["pushed"] + d["present"] for d in docs)
    m = M.decode((cache_dir / f"paths/{name}.json").read_bytes(), "k", expect_name=name)
    assert M.verify(m, [keys.load_secret(path).public()]) is not None
    for o in M.objects(m):
        raw = (cache_dir / M.object_key(o.digest)).read_bytes()
        assert blake3(zstandard.ZstdDecompressor().decompress(raw)).hexdigest() == o.digest
    assert sorted(p.name for p in (cache_dir / "objects").iterdir()) == sorted(
        f"{o.digest}.zst" for o in M.objects(m))  # no temporary left behind


def test_a_push_killed_with_sigkill_leaves_no_manifest(omg_env: OmgEnv, store: LocalStore,
                                                       cache_dir: Path) -> None:
    name, path, args = many_files_pushed(omg_env, store, cache_dir, 400, "--jobs", "1")
    proc = subprocess.Popen(args, env=omg_env.env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (cache_dir / "objects").is_dir() or not any((cache_dir / "objects").iterdir()):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (cache_dir / "paths").exists() and not (cache_dir / "index").exists()
    omg_env.run("cache", "push", cache_dir.as_uri(), name, "--secret-file", str(path),
                check=True)
    m = M.decode((cache_dir / f"paths/{name}.json").read_bytes(), "k", expect_name=name)
    assert all((cache_dir / M.object_key(o.digest)).is_file() for o in M.objects(m))


def test_push_command_bad_input_is_one_line(omg_env: OmgEnv, cache_dir: Path) -> None:
    path, _ = secret_file(omg_env)
    url = cache_dir.as_uri()
    cases = [
        (["cache", "push", url, "node@9", "--secret-file", str(path)], 3, "not installed"),
        (["cache", "push", url, "zzzz", "--secret-file", str(path)], 3, "no store path"),
        (["cache", "push", url, "--secret-file", str(omg_env.root / "none")], 3,
         "no secret key file"),
        (["cache", "push", "ftp://x/y", "--secret-file", str(path)], 2, "not a cache URL"),
    ]
    for args, code, text in cases:
        proc = omg_env.run(*args)
        assert proc.returncode == code, (args, proc.stderr)
        first = proc.stderr.splitlines()[0]
        assert first.startswith("error: ") and text in first, proc.stderr
    path.chmod(0o644)
    proc = omg_env.run("cache", "push", url, "--secret-file", str(path))
    assert proc.returncode == 7 and "open to other users" in proc.stderr
    assert not cache_dir.exists()


def test_push_to_s3_then_again_up_to_date(store: LocalStore, omg_env: OmgEnv,
                                          s3_cache: str) -> None:
    lib = store.add(fake_tool(omg_env.root, "zlib", "1.3"), "zlib", "1.3").record.path
    name = add_node(store, omg_env.root, references=(lib,))
    storage = Recorder(open_storage(s3_cache))
    try:
        assert do_push(store, storage, name).pushed == [lib, name]
        assert storage.puts[-2:] == [f"paths/{name}.json",
                                     f"index/runtime/node/1.0.0/{PLATFORM}.json"]
        assert storage.puts.index(f"paths/{lib}.json") < storage.puts.index(
            f"paths/{name}.json")
        for key in storage.puts:
            if key.startswith("objects/"):
                content = zstandard.ZstdDecompressor().decompress(storage.get(key) or b"")
                assert key == f"objects/{blake3(content).hexdigest()}.zst"
        manifest = storage.get(f"paths/{name}.json")
        assert manifest is not None
        assert M.verify(M.decode(manifest, "k"), [KEY.public()]) is not None
    finally:
        storage.close()
    again = Recorder(open_storage(s3_cache))
    try:
        result = do_push(store, again, name)
        assert result.present == [lib, name] and again.puts == []
    finally:
        again.close()
