"""Substitution from file:// caches: the same store path, a CACHE claim, delta pulls, and
every refusal leaving the store exactly as it was."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import zstandard

from omg.cache import keys, storage, substitute
from omg.cache import manifest as mf
from store.claims import CACHE
from store.errors import IntegrityError
from store.layout import Layout
from store.local import LocalStore
from tests.cache.subst_support import Counting, picture, push_path, verify_clean


def tree(root: Path, extra: str = "") -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "lib").mkdir()
    (root / "bin" / "tool").write_text("#!/bin/sh\necho tool\n")
    (root / "bin" / "tool").chmod(0o755)
    (root / "lib" / "big.bin").write_bytes(os.urandom(3 << 20))  # over unpack's buffer
    (root / "lib" / "same.txt").write_text("same in every version\n")
    (root / "lib" / "changes.txt").write_text(f"version {extra}\n")
    (root / "lib" / "empty").write_bytes(b"")
    (root / "share").mkdir()
    (root / "share" / "link").symlink_to("../lib/same.txt")
    return root


#: What a provider's download records (so a push says "runtime": manifest.what_of).
UPSTREAM_ORIGIN: dict[str, object] = {"url": "https://x/node.tar.xz", "sha256": "ab" * 32}


@pytest.fixture
def secret() -> keys.SecretKey:
    return keys.generate("team")


def stores(tmp_path: Path) -> tuple[LocalStore, LocalStore]:
    return LocalStore(Layout(tmp_path / "a")), LocalStore(Layout(tmp_path / "b"))


def pulled(b: LocalStore, url: str, name: str, trusted: list[keys.PublicKey]
           ) -> substitute.Pulled | None:
    return substitute.pull(b, storage.open_storage(url), name, trusted, "alice")


def test_a_pull_gives_the_same_store_path_with_a_cache_claim(tmp_path: Path,
                                                             secret: keys.SecretKey) -> None:
    a, b = stores(tmp_path)
    added = a.add(tree(tmp_path / "src"), "tool", "1.0", origin={"url": "https://x/t.tgz",
                                                                "sha256": "ab" * 32})
    url = f"file://{tmp_path}/cache"
    push_path(a.layout, url, added.record.path, secret)
    got = pulled(b, url, added.record.path, [secret.public()])
    assert got is not None and got.created
    assert got.record.path == added.record.path
    assert got.record.origin == added.record.origin
    assert b.entries(got.record.path) == a.entries(added.record.path)
    assert os.readlink(b.layout.store_path(got.record.path) / "share" / "link") == \
        "../lib/same.txt"
    claim, = b.claims(got.record.path)
    assert claim["kind"] == CACHE and claim["scope"] == "trusted"
    assert claim["detail"] == {"cache": url, "key": "team",
                               "what": {"kind": "path", "name": "tool", "version": "1.0"}}
    assert b.resolvable("tool", "1.0", user=None)  # every user resolves a trusted cache's
    verify_clean(b)
    # Pulled again: nothing is downloaded, the path is there already.
    again = pulled(b, url, added.record.path, [secret.public()])
    assert again is not None and not again.created and again.fetched == 0


def test_a_second_version_fetches_only_the_objects_the_store_lacks(
        tmp_path: Path, secret: keys.SecretKey) -> None:
    a, b = stores(tmp_path)
    one = a.add(tree(tmp_path / "v1", "1"), "tool", "1.0").record.path
    src2 = tree(tmp_path / "v2", "2")
    (src2 / "lib" / "big.bin").write_bytes((tmp_path / "v1/lib/big.bin").read_bytes())
    two = a.add(src2, "tool", "1.1").record.path
    url = f"file://{tmp_path}/cache"
    push_path(a.layout, url, one, secret)
    push_path(a.layout, url, two, secret)
    counting = Counting(storage.open_storage(url))
    assert substitute.pull(b, counting, one, [secret.public()], "alice") is not None
    assert len(counting.objects()) == 5  # tool, big.bin, same.txt, changes.txt, empty
    counting.gets.clear()
    got = substitute.pull(b, counting, two, [secret.public()], "alice")
    assert got is not None and got.record.path == two
    assert counting.objects() == [mf.object_key(
        a.entries(two)[[e[0] for e in a.entries(two)].index("lib/changes.txt")][2])]
    assert got.fetched == 1
    verify_clean(b)


def refused(tmp_path: Path, b: LocalStore, url: str, name: str,
            trusted: list[keys.PublicKey], match: str) -> None:
    before = picture(b.layout)
    with pytest.raises(IntegrityError, match=match):
        pulled(b, url, name, trusted)
    assert picture(b.layout) == before
    assert not list((b.layout.home / "tmp").glob("pull-*"))


def test_an_untrusted_or_unsigned_manifest_is_refused(tmp_path: Path,
                                                      secret: keys.SecretKey) -> None:
    a, b = stores(tmp_path)
    name = a.add(tree(tmp_path / "src"), "tool", "1.0").record.path
    url = f"file://{tmp_path}/cache"
    m = push_path(a.layout, url, name, secret)
    other = keys.generate("team")  # the same name, another key
    refused(tmp_path, b, url, name, [other.public()], "not signed by a trusted key")
    storage.open_storage(url).put(mf.manifest_key(name),
                                  mf.encode(mf.Manifest(**{**m.__dict__, "signatures": ()})))
    refused(tmp_path, b, url, name, [secret.public()], r"signed by nobody")


def test_a_tampered_manifest_is_refused(tmp_path: Path, secret: keys.SecretKey) -> None:
    a, b = stores(tmp_path)
    name = a.add(tree(tmp_path / "src"), "tool", "1.0").record.path
    url = f"file://{tmp_path}/cache"
    push_path(a.layout, url, name, secret)
    st = storage.open_storage(url)
    data = json.loads(st.get(mf.manifest_key(name)) or b"")
    data["origin"] = {"url": "https://evil.example/t.tgz"}
    st.put(mf.manifest_key(name), json.dumps(data).encode())
    refused(tmp_path, b, url, name, [secret.public()], "not signed by a trusted key")
    st.put(mf.manifest_key(name), (st.get(mf.manifest_key(name)) or b"")[:100])
    refused(tmp_path, b, url, name, [secret.public()], "corrupt or truncated")


def test_a_tampered_or_missing_object_is_refused(tmp_path: Path,
                                                 secret: keys.SecretKey) -> None:
    a, b = stores(tmp_path)
    name = a.add(tree(tmp_path / "src"), "tool", "1.0").record.path
    url = f"file://{tmp_path}/cache"
    push_path(a.layout, url, name, secret)
    st = storage.open_storage(url)
    digest = next(e[2] for e in a.entries(name) if e[0] == "lib/big.bin")
    # A valid frame of other bytes: only the BLAKE3 check can tell.
    st.put(mf.object_key(digest), zstandard.ZstdCompressor().compress(os.urandom(3 << 20)))
    refused(tmp_path, b, url, name, [secret.public()], "does not match its name")
    st.put(mf.object_key(digest), b"\x28\xb5\x2f\xfd garbage")
    refused(tmp_path, b, url, name, [secret.public()], "corrupt")
    st.delete(mf.object_key(digest))
    refused(tmp_path, b, url, name, [secret.public()], "missing")


def test_the_store_refuses_a_tree_that_does_not_hash_to_the_expected_name(
        tmp_path: Path) -> None:
    a, b = stores(tmp_path)
    name = a.add(tree(tmp_path / "src"), "tool", "1.0").record.path
    before = picture(b.layout)
    wrong = "0" * 32 + name[32:]
    with pytest.raises(IntegrityError, match=f"hashes to {name}, not {wrong}"):
        b.add(tmp_path / "src", "tool", "1.0", expect_name=wrong)
    assert picture(b.layout) == before
    assert b.add(tmp_path / "src", "tool", "1.0", expect_name=name).record.path == name


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_or_refusing_cache_is_one_warning_then_the_next(
        tmp_path: Path, secret: keys.SecretKey) -> None:
    a, b = stores(tmp_path)
    name = a.add(tree(tmp_path / "src"), "node", "1.0", origin=UPSTREAM_ORIGIN).record.path
    good = f"file://{tmp_path}/cache"
    m = push_path(a.layout, good, name, secret)
    assert m.what["kind"] == "runtime"
    down = f"http://127.0.0.1:{closed_port()}/cache"
    empty = f"file://{tmp_path}/nothing"
    warned: list[str] = []
    subst = substitute.Substituter(b, [down, empty, good], [secret.public()], "alice",
                                   warned.append, timeout=2)
    got = subst.runtime("node", "1.0", "linux-x64-gnu")
    assert got is not None and got.record.path == name and got.cache == good
    assert len(warned) == 2, warned
    assert warned[0].startswith(f"{down}: ") and warned[0].endswith("falling back to upstream")
    assert warned[1].startswith(f"{empty}: ")
    # The unreachable cache is not asked again in the same command; a miss says nothing.
    assert subst.runtime("node", "9.9", "linux-x64-gnu") is None
    assert len(warned) == 2
    subst.close()


def test_a_manifest_that_is_not_what_its_index_says_is_refused(
        tmp_path: Path, secret: keys.SecretKey) -> None:
    a, b = stores(tmp_path)
    name = a.add(tree(tmp_path / "src"), "node", "1.0", origin=UPSTREAM_ORIGIN).record.path
    url = f"file://{tmp_path}/cache"
    push_path(a.layout, url, name, secret)
    # An index entry for another version pointing at this (validly signed) path.
    storage.open_storage(url).put("index/runtime/node/2.0/linux-x64-gnu.json",
                                  mf.canonical([name]))
    warned: list[str] = []
    subst = substitute.Substituter(b, [url], [secret.public()], "alice", warned.append)
    before = picture(b.layout)
    assert subst.runtime("node", "2.0", "linux-x64-gnu") is None
    assert picture(b.layout) == before
    assert len(warned) == 1 and "not the" in warned[0]


def test_references_are_pulled_first(tmp_path: Path, secret: keys.SecretKey) -> None:
    a, b = stores(tmp_path)
    dep = a.add(tree(tmp_path / "dep"), "dep", "1").record.path
    top_src = tmp_path / "top"
    (top_src / "bin").mkdir(parents=True)
    (top_src / "bin" / "dep").symlink_to(f"../../{dep}/bin/tool")
    top = a.add(top_src, "top", "1", references=[dep], links_into=[dep]).record.path
    url = f"file://{tmp_path}/cache"
    push_path(a.layout, url, top, secret)
    got = pulled(b, url, top, [secret.public()])
    assert got is not None and got.record.path == top
    assert b.layout.store_path(dep).is_dir()
    assert got.record.references == (dep,)
    assert [c["kind"] for c in b.claims(dep)] == [CACHE]
    verify_clean(b)


def test_a_path_the_store_has_gets_the_caches_claim_and_nothing_is_fetched(
        tmp_path: Path, secret: keys.SecretKey) -> None:
    a, b = stores(tmp_path)
    name = a.add(tree(tmp_path / "src"), "tool", "1.0").record.path
    url = f"file://{tmp_path}/cache"
    push_path(a.layout, url, name, secret)
    assert b.add(tmp_path / "src", "tool", "1.0").record.path == name
    counting = Counting(storage.open_storage(url))
    got = substitute.pull(b, counting, name, [secret.public()], "alice")
    assert got is not None and not got.created and got.fetched == 0
    assert counting.objects() == [] and not (b.layout.home / "tmp").exists()
    assert CACHE in [c["kind"] for c in b.claims(name)]
