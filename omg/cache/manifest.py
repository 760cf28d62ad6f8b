"""The signed manifest of one store path in a binary cache (format ``omg-cache-v1``), pure.

docs/binary-cache.md is the specification. A manifest says what a store path is (its
name, what it was installed as, its references, origin and metadata) and lists its
tree: directories, files with their BLAKE3 and size (the cache's objects are named by
those digests), symlinks with their target. Its signatures cover the canonical JSON
of everything else, prefixed by ``omg-cache-v1\\0``, so a manifest changed in any
field no longer verifies, and one of another format can never verify as this one.

`decode` trusts nothing it reads: every field is checked (types, store path names,
tree paths that stay inside the tree, parents before children, the size), so a
truncated or corrupt manifest is one IntegrityError naming its cache key, and the
puller never walks a tree that could escape its staging directory.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple

from store.errors import FormatTooNew, IntegrityError, UsageError
from store.layout import COMPONENT_RE, store_hash_of

if TYPE_CHECKING:
    from omg.cache.keys import PublicKey, SecretKey
    from store.record import PathRecord, TreeEntry

FORMAT = "omg-cache-v1"
SIGNED_PREFIX = FORMAT.encode() + b"\0"
#: The cache's marker file and its content (a pull refuses a cache of another format).
MARKER_KEY = "omg-cache.json"
MARKER = {"format": FORMAT}

_HEX_RE = re.compile(r"^[0-9a-f]{64}$")
_WHAT_FIELDS = {
    "runtime": ("tool", "version", "platform"),
    "arch": ("package", "version", "arch", "repo"),
    "path": ("name", "version"),
}
_FIELDS = frozenset({"format", "name", "what", "references", "origin", "metadata", "tree",
                     "size", "signatures"})
_MAX_NAME = 255


class Signature(NamedTuple):
    key: str  # the key's name
    sig: str  # base64 of the 64-byte ed25519 signature


class ObjectRef(NamedTuple):
    """A file content the tree needs: its BLAKE3 (hex), size, and whether some entry with
    it is executable (the store's dedup pool keeps ``<hex>`` and ``<hex>x`` apart)."""

    digest: str
    size: int
    executable: bool


#: A tree entry: (relative path, kind "d"/"f"/"x"/"l", hex digest or symlink target, size).
Entry = tuple[str, str, str, int]


@dataclass(frozen=True)
class Manifest:
    name: str
    what: Mapping[str, str]
    references: tuple[str, ...]
    origin: Mapping[str, object]
    metadata: Mapping[str, object]
    tree: tuple[Entry, ...]
    size: int
    signatures: tuple[Signature, ...] = field(default=())

    def plain(self, *, signed: bool = True) -> dict[str, object]:
        data: dict[str, object] = {
            "format": FORMAT, "name": self.name, "what": dict(self.what),
            "references": list(self.references), "origin": dict(self.origin),
            "metadata": dict(self.metadata), "tree": [_plain_entry(e) for e in self.tree],
            "size": self.size}
        if signed:
            data["signatures"] = [{"key": s.key, "sig": s.sig} for s in self.signatures]
        return data


def _plain_entry(e: Entry) -> list[object]:
    rel, kind, value, size = e
    if kind == "d":
        return [rel, kind]
    if kind == "l":
        return [rel, kind, value]
    return [rel, kind, value, size]


def canonical(data: object) -> bytes:
    """The one JSON serialisation of the format (signed bytes and stored files alike)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def signed_bytes(m: Manifest) -> bytes:
    return SIGNED_PREFIX + canonical(m.plain(signed=False))


def encode(m: Manifest) -> bytes:
    return canonical(m.plain())


def sign(m: Manifest, key: SecretKey) -> Manifest:
    """`m` signed by `key` (an earlier signature by the same key name is replaced)."""
    others = tuple(s for s in m.signatures if s.key != key.name)
    return replace(m, signatures=(*others, Signature(key.name, key.sign(signed_bytes(m)))))


def verify(m: Manifest, trusted: Sequence[PublicKey]) -> PublicKey | None:
    """The trusted key whose signature on `m` holds, or None (unsigned, untrusted, tampered)."""
    from omg.cache import keys

    if not m.signatures or not trusted:
        return None
    return keys.verify(signed_bytes(m), m.signatures, trusted)


# Keys in the cache -----------------------------------------------------------------

def manifest_key(name: str) -> str:
    return f"paths/{name}.json"


def object_key(digest: str) -> str:
    return f"objects/{digest}.zst"


def index_keys(what: Mapping[str, str]) -> list[str]:
    """The index files that list a store path installed as `what` (none for plain paths)."""
    if what.get("kind") == "runtime":
        return [f"index/runtime/{what['tool']}/{what['version']}/{what['platform']}.json"]
    if what.get("kind") == "arch":
        return [f"index/arch/{what['package']}/{what['version']}.json"]
    return []


def runtime_what(tool: str, version: str, platform: str) -> dict[str, str]:
    return {"kind": "runtime", "tool": tool, "version": version, "platform": platform}


def what_of(record: PathRecord, *, platform: str, tools: Collection[str]) -> dict[str, str]:
    """What a store path was installed as, from its record alone (so it survives a pull:
    a pulled path keeps the record's origin, and a second push says the same).

    A runtime: a provider's download (origin with the upstream URL and sha256) of a
    known tool, for this machine's `platform`. An Arch package: a repo or AUR origin.
    Anything else (``omg store add``, imports, profile envs) is a plain path.
    """
    origin = record.origin or {}
    kind = origin.get("kind")
    if kind in ("repo", "aur"):
        pkginfo = record.metadata.get("pkginfo")
        arch = pkginfo.get("arch") if isinstance(pkginfo, dict) else None
        return {"kind": "arch", "package": str(origin.get("pkgname") or record.name),
                "version": _arch_version(origin, pkginfo, record.version),
                "arch": arch if isinstance(arch, str) else "",
                "repo": "aur" if kind == "aur" else str(origin.get("repo") or "")}
    if (kind is None and record.name in tools and isinstance(origin.get("url"), str)
            and isinstance(origin.get("sha256"), str)):
        return runtime_what(record.name, record.version, platform)
    return {"kind": "path", "name": record.name, "version": record.version}


def _arch_version(origin: Mapping[str, object], pkginfo: object, fallback: str) -> str:
    """``epoch:pkgver-pkgrel``: the repo origin has it; an AUR origin records makepkg's
    pkgver, so the package's own .PKGINFO says it best."""
    if isinstance(pkginfo, dict) and isinstance(pkginfo.get("pkgver"), str):
        return str(pkginfo["pkgver"])
    version = origin.get("version")
    return version if isinstance(version, str) else fallback


# Building --------------------------------------------------------------------------

def build(record: PathRecord, entries: Sequence[TreeEntry], targets: Mapping[str, str], *,
          what: Mapping[str, str]) -> Manifest:
    """The (unsigned) manifest of a store path: its record, its record's tree entries (in
    their order) and each symlink's target (read from the store path by the caller).

    UsageError if a name or a target is not UTF-8: the format is JSON text.
    """
    tree: list[Entry] = []
    for rel, kind, digest, size in entries:
        _utf8(rel, record.path, "file name")
        if kind == "l":
            tree.append((rel, kind, _utf8(targets[rel], record.path, f"link {rel}"), 0))
        elif kind == "d":
            tree.append((rel, kind, "", 0))
        else:
            tree.append((rel, kind, digest, size))
    return Manifest(name=record.path, what=dict(what),
                    references=tuple(sorted(set(record.references))),
                    origin=dict(record.origin or {}), metadata=dict(record.metadata),
                    tree=tuple(tree), size=sum(e[3] for e in tree if e[1] in "fx"))


def _utf8(text: str, name: str, what: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = repr(os.fsencode(text))[1:]  # the bytes that are not UTF-8 as \\xNN
        raise UsageError(f"cannot push {name}: {what} {shown} is not UTF-8",
                         hint="the cache format is JSON text: rename the file, or keep this "
                              "path out of the push") from None
    return text


def objects(m: Manifest) -> list[ObjectRef]:
    """The file contents `m` needs, one per digest (executable if any entry with it is)."""
    found: dict[str, ObjectRef] = {}
    for _, kind, digest, size in m.tree:
        if kind in "fx":
            seen = found.get(digest)
            if seen is None or (kind == "x" and not seen.executable):
                found[digest] = ObjectRef(digest, size, kind == "x")
    return sorted(found.values())


def record_entries(m: Manifest) -> list[TreeEntry]:
    """`m`'s tree as store record entries (a symlink's digest is BLAKE3 of its target)."""
    from store.hashing import symlink_digest

    return [(rel, kind, symlink_digest(value.encode()).hex(), 0) if kind == "l"
            else (rel, kind, value, size) for rel, kind, value, size in m.tree]


# Reading ---------------------------------------------------------------------------

def decode(raw: bytes, key: str, *, expect_name: str | None = None) -> Manifest:
    """The manifest stored at cache key `key`, every field checked.

    IntegrityError (naming `key`) for anything malformed or truncated, FormatTooNew
    for another ``omg-cache-v*`` format. Signatures are parsed, not verified (`verify`).
    """
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise IntegrityError(f"cache manifest {key}: corrupt or truncated: {_short(exc)}",
                             hint="push the path again") from None
    try:
        m = _checked(data, expect_name)
        signed_bytes(m)  # 1e400 parses (as inf) but has no canonical form
        return m
    except ValueError as exc:
        raise IntegrityError(f"cache manifest {key}: {_short(exc)}",
                             hint="push the path again") from None
    except _Bad as exc:
        raise IntegrityError(f"cache manifest {key}: {exc}", hint="push the path again") from None
    except FormatTooNew as exc:
        raise FormatTooNew(f"cache manifest {key}: {exc.message}", hint=exc.hint) from None


class _Bad(Exception):
    """A field that fails its check (becomes an IntegrityError naming the key)."""


def _no_constant(text: str) -> object:
    raise ValueError(f"{text} is not JSON")


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


def _checked(data: object, expect_name: str | None) -> Manifest:
    if not isinstance(data, dict):
        raise _Bad(f"a {type(data).__name__}, not an object")
    fmt = data.get("format")
    if fmt != FORMAT:
        if isinstance(fmt, str) and fmt.startswith("omg-cache-v"):
            raise FormatTooNew(f"format {fmt!r} is not {FORMAT!r}", hint="upgrade omg")
        raise _Bad(f"format {fmt!r} is not {FORMAT!r}")
    if set(data) != _FIELDS:
        missing, extra = sorted(_FIELDS - set(data)), sorted(set(data) - _FIELDS)
        raise _Bad("; ".join([f"missing {', '.join(missing)}"] * bool(missing)
                             + [f"unknown {', '.join(extra)}"] * bool(extra)))
    name = _store_name(data["name"], "name")
    if expect_name is not None and name != expect_name:
        raise _Bad(f"it describes {name}, not {expect_name}")
    tree = _tree(data["tree"])
    size = data["size"]
    if not _is_int(size) or size != sum(e[3] for e in tree if e[1] in "fx"):
        raise _Bad(f"size {size!r} is not the sum of its files' sizes")
    return Manifest(name=name, what=_what(data["what"]), references=_references(data, name),
                    origin=_object(data["origin"], "origin"),
                    metadata=_object(data["metadata"], "metadata"), tree=tree, size=size,
                    signatures=_signatures(data["signatures"]))


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _store_name(v: object, what: str) -> str:
    if not (isinstance(v, str) and len(v) <= _MAX_NAME and store_hash_of(v) == v[:32]
            and COMPONENT_RE.match(v[33:])):
        raise _Bad(f"{what} {v!r:.80} is not a store path name")
    return v


def _what(v: object) -> dict[str, str]:
    if not isinstance(v, dict) or v.get("kind") not in _WHAT_FIELDS:
        raise _Bad(f"what {v!r:.80} has no known kind")
    fields = _WHAT_FIELDS[str(v["kind"])]
    if set(v) != {"kind", *fields} or not all(isinstance(v[f], str) for f in fields):
        raise _Bad(f"what: a {v['kind']} needs exactly the text fields {', '.join(fields)}")
    return {k: str(x) for k, x in v.items()}


def _references(data: dict[str, object], name: str) -> tuple[str, ...]:
    refs = data["references"]
    if not isinstance(refs, list):
        raise _Bad("references: not a list")
    out = tuple(_store_name(r, "reference") for r in refs)
    if list(out) != sorted(set(out)) or name in out:
        raise _Bad("references: not sorted and unique, or the path itself")
    return out


def _object(v: object, what: str) -> dict[str, object]:
    if not isinstance(v, dict):
        raise _Bad(f"{what}: not an object")
    return v


def _signatures(v: object) -> tuple[Signature, ...]:
    from omg.cache.keys import NAME_RE, check_signature_text

    if not isinstance(v, list):
        raise _Bad("signatures: not a list")
    out = []
    for s in v:
        if not (isinstance(s, dict) and set(s) == {"key", "sig"} and isinstance(s["key"], str)
                and isinstance(s["sig"], str) and NAME_RE.match(s["key"])):
            raise _Bad(f"signature {s!r:.80} is not {{key, sig}}")
        try:
            check_signature_text(s["sig"], "signature")
        except IntegrityError:
            raise _Bad(f"signature by {s['key']!r}: not 64 bytes of base64") from None
        out.append(Signature(s["key"], s["sig"]))
    return tuple(out)


def _tree(v: object) -> tuple[Entry, ...]:
    if not isinstance(v, list):
        raise _Bad("tree: not a list")
    out: list[Entry] = []
    dirs: set[str] = set()
    seen: set[str] = set()
    for e in v:
        entry = _entry(e)
        rel = entry[0]
        parent = rel.rpartition("/")[0]
        if rel in seen or (parent and parent not in dirs):
            raise _Bad(f"tree entry {rel!r:.80}: a duplicate, or listed before its directory")
        seen.add(rel)
        if entry[1] == "d":
            dirs.add(rel)
        out.append(entry)
    return tuple(out)


def _entry(e: object) -> Entry:
    if not (isinstance(e, list) and e and isinstance(e[0], str) and len(e) >= 2):
        raise _Bad(f"tree entry {e!r:.80} is malformed")
    rel, kind = e[0], e[1]
    parts = rel.split("/")
    if (not rel or "\0" in rel or any(p in ("", ".", "..") for p in parts)):
        raise _Bad(f"tree entry {rel!r:.80}: not a relative path inside the tree")
    if kind == "d" and len(e) == 2:
        return (rel, "d", "", 0)
    if kind == "l" and len(e) == 3 and isinstance(e[2], str) and e[2] and "\0" not in e[2]:
        return (rel, "l", e[2], 0)
    if (kind in ("f", "x") and len(e) == 4 and isinstance(e[2], str) and _HEX_RE.match(e[2])
            and _is_int(e[3])):
        return (rel, kind, e[2], e[3])
    raise _Bad(f"tree entry {rel!r:.80} is malformed")


# Index files -----------------------------------------------------------------------

def encode_index(names: Iterable[str]) -> bytes:
    """An index file: the JSON list of store path names, sorted and unique."""
    return canonical(sorted(set(names)))


def decode_index(raw: bytes, key: str) -> list[str]:
    """The store path names of index file `key`; IntegrityError naming it if malformed.

    An index only points at manifests (the truth): a pull still checks each one.
    """
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        if not isinstance(data, list):
            raise _Bad(f"a {type(data).__name__}, not a list")
        return [_store_name(n, "entry") for n in data]
    except (UnicodeDecodeError, ValueError, RecursionError, _Bad) as exc:
        raise IntegrityError(f"cache index {key}: corrupt: {_short(exc)}") from None
