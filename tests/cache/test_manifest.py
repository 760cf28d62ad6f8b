"""The cache manifest (omg-cache-v1): building, canonical bytes, signatures, strict decoding."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omg.cache import keys
from omg.cache import manifest as M
from store.errors import FormatTooNew, IntegrityError, UsageError
from store.hashing import symlink_digest
from store.record import PathRecord

NAME = "a" * 32 + "-node-20.18.0"
REF = "b" * 32 + "-zlib-1.3"
HEX1, HEX2 = "1" * 64, "2" * 64
KEY = keys.generate("test-key")


def record(**kw: object) -> PathRecord:
    base: dict[str, object] = dict(path=NAME, hash=NAME[:32], name="node", version="20.18.0",
                                   size=15, files=4, references=(REF,),
                                   origin={"url": "https://x/node.tgz", "sha256": "ab"},
                                   created=1.0, metadata={})
    return PathRecord(**{**base, **kw})  # type: ignore[arg-type]


ENTRIES = [("bin", "d", "", 0), ("bin/node", "x", HEX1, 10), ("lib", "d", "", 0),
           ("lib/a", "f", HEX2, 5), ("lib/b", "f", HEX1, 10),
           ("lib/l", "l", symlink_digest(b"a").hex(), 0)]


def sample() -> M.Manifest:
    what = M.what_of(record(), platform="linux-x64-gnu", tools={"node"})
    return M.sign(M.build(record(), ENTRIES, {"lib/l": "a"}, what=what), KEY)


def test_build_encode_decode_round_trip() -> None:
    m = sample()
    assert m.what == {"kind": "runtime", "tool": "node", "version": "20.18.0",
                      "platform": "linux-x64-gnu"}
    assert m.size == 25
    raw = M.encode(m)
    data = json.loads(raw)
    assert data["tree"][0] == ["bin", "d"] and data["tree"][5] == ["lib/l", "l", "a"]
    assert data["tree"][1] == ["bin/node", "x", HEX1, 10]
    assert M.decode(raw, "paths/x.json", expect_name=NAME) == m
    assert M.verify(M.decode(raw, "k"), [KEY.public()]) == KEY.public()


def test_signed_bytes_are_the_canonical_json_without_signatures() -> None:
    m = sample()
    body = json.loads(M.encode(m))
    del body["signatures"]
    expected = b"omg-cache-v1\0" + json.dumps(body, sort_keys=True, separators=(",", ":"),
                                              ensure_ascii=False).encode()
    assert M.signed_bytes(m) == expected


def test_objects_are_unique_digests_executable_if_any_entry_is() -> None:
    assert M.objects(sample()) == [M.ObjectRef(HEX1, 10, True), M.ObjectRef(HEX2, 5, False)]


def test_record_entries_give_back_the_store_records_tree() -> None:
    assert M.record_entries(sample()) == ENTRIES


def test_index_keys() -> None:
    assert M.index_keys(sample().what) == ["index/runtime/node/20.18.0/linux-x64-gnu.json"]
    arch = M.what_of(record(origin={"kind": "aur", "pkgname": "foo", "version": "1.2"},
                            metadata={"pkginfo": {"arch": "x86_64", "pkgver": "1:1.2-3"}}),
                     platform="linux-x64-gnu", tools=())
    assert arch == {"kind": "arch", "package": "foo", "version": "1:1.2-3", "arch": "x86_64",
                    "repo": "aur"}
    assert M.index_keys(arch) == ["index/arch/foo/1:1.2-3.json"]
    plain = M.what_of(record(origin={"imported": {}}), platform="p", tools={"node"})
    assert plain == {"kind": "path", "name": "node", "version": "20.18.0"}
    assert M.index_keys(plain) == []


def test_a_non_utf8_file_name_is_refused_naming_it() -> None:
    bad = "bin/caf\udce9"
    with pytest.raises(UsageError,
                       match=r"cannot push .*-node-20\.18\.0: file name 'bin/caf\\xe9' is not"):
        M.build(record(), [("bin", "d", "", 0), (bad, "f", HEX1, 1)], {}, what={})
    with pytest.raises(UsageError, match="link bin/l"):
        M.build(record(), [("bin", "d", "", 0), ("bin/l", "l", "", 0)],
                {"bin/l": "\udcff"}, what={})


def tampered(field: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(M.encode(sample()))
    data[field] = {"name": NAME.replace("a", "c", 1), "references": [],
                   "origin": {"url": "https://evil/"}, "metadata": {"x": 1},
                   "what": {"kind": "path", "name": "node", "version": "20.18.0"},
                   "size": 35,
                   "tree": [["bin", "d"], ["bin/node", "x", HEX2, 10], ["lib", "d"],
                            ["lib/a", "f", HEX2, 5], ["lib/b", "f", HEX1, 10],
                            ["lib/l", "l", "a"]]}[field]
    return data


@pytest.mark.parametrize("field", ["name", "references", "origin", "metadata", "what", "tree"])
def test_any_change_of_a_signed_field_breaks_the_signature(field: str) -> None:
    m = M.decode(json.dumps(tampered(field)).encode(), "k")
    assert M.verify(m, [KEY.public()]) is None


def test_unsigned_or_untrusted_is_not_verified() -> None:
    m = sample()
    assert M.verify(replace(m, signatures=()), [KEY.public()]) is None
    assert M.verify(m, []) is None
    assert M.verify(m, [keys.generate("test-key").public()]) is None


def test_signing_again_replaces_the_keys_own_signature() -> None:
    other = keys.generate("other")
    m = M.sign(M.sign(sample(), other), KEY)
    assert [s.key for s in m.signatures] == ["other", "test-key"]
    assert M.verify(m, [other.public()]) == other.public()


def bad_variants() -> list[tuple[str, object]]:
    good = json.loads(M.encode(sample()))

    def with_(**kw: object) -> dict[str, object]:
        return {**good, **kw}

    return [
        ("truncated", M.encode(sample())[:-10]),
        ("not an object", []),
        ("missing", {k: v for k, v in good.items() if k != "tree"}),
        ("unknown", with_(extra=1)),
        ("format", with_(format="other")),
        ("name", with_(name="../etc")),
        ("other name", with_(name="c" * 32 + "-node-1")),
        ("what", with_(what={"kind": "runtime", "tool": "node"})),
        ("what kind", with_(what={"kind": "magic"})),
        ("refs unsorted", with_(references=[REF, "a" * 32 + "-a-1"])),
        ("refs self", with_(references=[NAME])),
        ("origin", with_(origin=[])),
        ("size", with_(size=1)),
        ("size bool", with_(size=True)),
        ("dotdot", with_(tree=[["..", "d"]])),
        ("absolute", with_(tree=[["/etc", "d"]])),
        ("empty part", with_(tree=[["a//b", "f", HEX1, 0]], size=0)),
        ("orphan", with_(tree=[["a/b", "f", HEX1, 0]], size=0)),
        ("duplicate", with_(tree=[["a", "d"], ["a", "d"]], size=0)),
        ("parent is a file", with_(tree=[["a", "f", HEX1, 0], ["a/b", "f", HEX1, 0]], size=0)),
        ("kind", with_(tree=[["a", "c", HEX1, 0]], size=0)),
        ("digest", with_(tree=[["a", "f", "XYZ", 0]], size=0)),
        ("negative", with_(tree=[["a", "f", HEX1, -1]], size=-1)),
        ("link target", with_(tree=[["a", "l", ""]], size=0)),
        ("signature", with_(signatures=[{"key": "k", "sig": "short"}])),
        ("signature key", with_(signatures=[{"key": "a b", "sig": good["signatures"][0]["sig"]}])),
        ("nan", b'{"format":"omg-cache-v1","size":NaN}'),
        ("inf", M.encode(sample()).replace(b'"sha256":"ab"', b'"sha256":1e400')),
        ("not utf-8", b'{"format":"omg-cache-v1\xff"}'),
    ]


@pytest.mark.parametrize(("label", "data"), bad_variants(), ids=lambda v: str(v)[:20])
def test_malformed_manifests_are_one_integrity_error_naming_the_key(label: str,
                                                                    data: object) -> None:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    with pytest.raises(IntegrityError) as err:
        M.decode(raw, "paths/the-key.json", expect_name=NAME)
    assert not isinstance(err.value, FormatTooNew)
    assert err.value.message.startswith("cache manifest paths/the-key.json: ")
    assert "\n" not in err.value.message


def test_another_format_version_is_format_too_new() -> None:
    data = json.loads(M.encode(sample()))
    data["format"] = "omg-cache-v2"
    with pytest.raises(FormatTooNew, match="cache manifest k: format 'omg-cache-v2'"):
        M.decode(json.dumps(data).encode(), "k")


# Properties ----------------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\0/"),
                min_size=1, max_size=8).filter(lambda s: s not in (".", ".."))
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c,
                                                                          max_size=3),
                     max_leaves=8)


@st.composite
def manifests(draw: st.DrawFn) -> M.Manifest:
    names = draw(st.lists(_text, min_size=1, max_size=6, unique=True))
    tree: list[M.Entry] = [("top", "d", "", 0)]
    for n in names:
        kind = draw(st.sampled_from("fxld"))
        rel = f"top/{n}"
        if kind == "d":
            tree.append((rel, "d", "", 0))
        elif kind == "l":
            tree.append((rel, "l", draw(_text), 0))
        else:
            tree.append((rel, kind, draw(st.sampled_from([HEX1, HEX2])),
                         draw(st.integers(0, 1 << 40))))
    refs = sorted(set(draw(st.lists(st.sampled_from([REF, "c" * 32 + "-x-1"]), max_size=2))))
    return M.Manifest(name=NAME, what={"kind": "path", "name": draw(_text), "version": "1"},
                      references=tuple(refs),
                      origin=draw(st.dictionaries(st.text(max_size=5), _json, max_size=3)),
                      metadata={}, tree=tuple(tree),
                      size=sum(e[3] for e in tree if e[1] in "fx"))


@settings(max_examples=60, deadline=None)
@given(manifests())
def test_round_trip_property(m: M.Manifest) -> None:
    signed = M.sign(m, KEY)
    back = M.decode(M.encode(signed), "k")
    assert back == signed
    assert M.verify(back, [KEY.public()]) == KEY.public()


@settings(max_examples=60, deadline=None)
@given(manifests(), st.data())
def test_changing_any_signed_field_breaks_the_signature_property(m: M.Manifest,
                                                                 data: st.DataObject) -> None:
    signed = M.sign(m, KEY)
    field = data.draw(st.sampled_from(["name", "what", "references", "origin", "tree", "size",
                                       "metadata"]))
    changed = {
        "name": {"name": "d" * 32 + "-node-1"},
        "what": {"what": {**signed.what, "version": "2"}},
        "references": {"references": () if signed.references else (REF,)},
        "origin": {"origin": {**signed.origin, "added": True}},
        "tree": {"tree": signed.tree[:-1] if len(signed.tree) > 1
                 else (*signed.tree, ("top/new", "d", "", 0))},
        "size": {"size": signed.size + 1},
        "metadata": {"metadata": {"x": 1}},
    }[field]
    assert M.verify(replace(signed, **changed), [KEY.public()]) is None  # type: ignore[arg-type]
