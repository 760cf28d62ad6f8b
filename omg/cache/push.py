"""`omg cache push`: store paths (and their closure) into a binary cache, signed.

What a push writes, and in which order (docs/binary-cache.md):

1. ``omg-cache.json`` when the cache has none (a cache of another format is refused);
2. per store path, references first: each file content the cache lacks, as
   ``objects/<blake3>.zst`` (one zstd frame; checked against the record's BLAKE3 as
   it is read, so a damaged store file never poisons the cache), in a thread pool;
3. then that path's manifest, ``paths/<name>.json``: LAST, so a push killed at any
   point leaves objects nobody names and no manifest a pull would accept;
4. then the index entries (``index/...``): read, union, write. Two pushes racing on
   one index file may lose an entry (there is no compare-and-swap on a static
   server or a plain directory); the manifest is the truth, and pushing again
   restores the entry.

Every put is atomic and objects are content-addressed, so two pushes of the same
path at once write the same bytes under the same keys. A manifest already there and
signed by this key means its objects are too: a second push only checks (``up to
date``). The push reads the store only (the record files and the trees, which every
user may read), so it runs in the client process in both modes, and the secret key
never leaves it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from omg.cache import manifest as M
from store.errors import IntegrityError, NotFound, UsageError
from store.results import Result

if TYPE_CHECKING:
    from omg.backend import Backend
    from omg.cache.keys import SecretKey
    from omg.cache.storage import CacheStorage
    from omg.net import DownloadProgress
    from store.layout import Layout
    from store.record import PathRecord, TreeEntry

ZSTD_LEVEL = 3
DEFAULT_JOBS = 4


class PushResult(Result):
    url: str
    #: Store path names whose manifest this push wrote, references first.
    pushed: list[str]
    #: Those the cache had already, signed by this key.
    present: list[str]
    objects: int  # objects uploaded
    object_bytes: int  # their compressed bytes
    content_bytes: int  # their uncompressed bytes
    index_entries: int  # index files that gained an entry
    warnings: list[str]


# What to push ----------------------------------------------------------------------

def default_roots(layout: Layout, user: str) -> list[str]:
    """What `user`'s profiles (the current generation of each, project profiles
    included) and install roots reach, without the profile envs themselves: an env
    is built from its plan on any machine, and its links name this machine's store."""
    from generations import installroots
    from generations.profile import all_profiles, current_number, env_of

    roots: set[str] = set()
    for ref in all_profiles(layout):
        if ref.user != user:
            continue
        n = current_number(ref)
        env = env_of(ref, n) if n is not None else ""
        if env and layout.store_path(env).is_dir():
            roots.update(read_record(layout, env)[0].references)
    roots.update(r.store_path for r in installroots.rooted(str(layout.home), user)
                 if r.store_path)
    return sorted(roots)


def resolve_items(backend: Backend, items: Sequence[str]) -> list[str]:
    """Store path names for `TOOL@VERSION`, `aur/NAME[@VERSION]` (installed, resolvable
    for this user: the newest match) or a store path name, path or unique prefix."""
    out: list[str] = []
    from store.layout import store_hash_of

    for item in items:
        if ("@" in item or item.startswith("aur/")) and not store_hash_of(item):
            out.append(_installed(backend, item))
        else:
            try:
                out.append(backend.resolve_name(item))
            except NotFound as exc:
                raise NotFound(exc.message, hint="name a store path (or a unique prefix of "
                               "its hash), TOOL@VERSION or aur/NAME") from None
    return list(dict.fromkeys(out))


def _installed(backend: Backend, item: str) -> str:
    from omg.spec import LATEST, parse_tool_spec, select

    if item.startswith("aur/"):  # Arch's own words: a name may hold '@'
        tool, _, spec = item.rpartition("@") if "@" in item else (item, "", LATEST)
        rows = [v for v in backend.installed() if v.tool == tool]
    else:  # any name `omg use` would take: a provider's tool or one added to the store
        from omg.providers import canonical

        parsed = parse_tool_spec(item)
        tool, spec = canonical(parsed.tool), parsed.spec
        rows = backend.installed(tool)
    chosen = select(spec, [v.version for v in rows], tool)
    if chosen is None:
        raise NotFound(f"cannot push {item}: not installed",
                       hint=f"omg list {tool} shows what is; omg install {item}")
    return next(v.store_path.name for v in rows if v.version == chosen)


def read_record(layout: Layout, name: str) -> tuple[PathRecord, list[TreeEntry]]:
    """A store path's record file (the truth, world-readable; no index needed)."""
    from store.local import read_record_file

    if not layout.store_path(name).is_dir():
        raise NotFound(f"no store path {name}")
    return read_record_file(layout, name)


def closure_order(layout: Layout, names: Iterable[str]
                  ) -> list[tuple[PathRecord, list[TreeEntry]]]:
    """`names` and everything they reference, each after its references."""
    records: dict[str, tuple[PathRecord, list[TreeEntry]]] = {}
    order: list[str] = []
    # Iterative depth-first post-order: a reference chain has no depth limit here.
    stack: list[tuple[str, bool]] = [(n, False) for n in reversed(list(names))]
    while stack:
        name, expanded = stack.pop()
        if expanded:
            if name not in order:
                order.append(name)
            continue
        if name in records:
            continue
        records[name] = read_record(layout, name)
        stack.append((name, True))
        stack.extend((r, False) for r in reversed(records[name][0].references)
                     if r not in records)
    return [records[n] for n in order]


# Pushing ---------------------------------------------------------------------------

def push(layout: Layout, storage: CacheStorage, names: Sequence[str], key: SecretKey, *,
         platform: str, jobs: int = DEFAULT_JOBS,
         progress: DownloadProgress | None = None) -> PushResult:
    """Push `names` and their closure to `storage`, signed by `key` (module docstring)."""
    from omg.providers import TOOLS

    if not storage.writable:
        raise UsageError(f"{storage.url}: cannot push to a read-only cache",
                         hint="push to the file:// or s3:// location this server serves")
    _ensure_marker(storage)
    mine = [key.public()]
    pushed: list[str] = []
    present: list[str] = []
    warnings: list[str] = []
    sent = [0, 0, 0]  # objects, compressed bytes, content bytes
    indexed = 0
    for record, entries in closure_order(layout, names):
        what = M.what_of(record, platform=platform, tools=TOOLS)
        existing = _existing(storage, record.path)
        if existing is not None and M.verify(existing, mine) is not None:
            present.append(record.path)
        else:
            m = M.build(record, entries, _targets(layout, record.path, entries), what=what)
            up = _upload_objects(layout, storage, m, jobs=jobs, progress=progress)
            sent = [a + b for a, b in zip(sent, up, strict=True)]
            if existing is not None and M.signed_bytes(existing) == M.signed_bytes(m):
                m = existing  # the same manifest signed by others: keep their signatures
            storage.put(M.manifest_key(record.path), M.encode(M.sign(m, key)))
            pushed.append(record.path)
        for index_key in M.index_keys(what):
            indexed += _add_to_index(storage, index_key, record.path, warnings)
    return PushResult(storage.url, pushed, present, sent[0], sent[1], sent[2], indexed,
                      warnings)


def _ensure_marker(storage: CacheStorage) -> None:
    try:
        raw = storage.get(M.MARKER_KEY)
    except NotFound:
        raw = None  # a new file cache: the put creates its directory (a missing bucket fails)
    if raw is None:
        storage.put(M.MARKER_KEY, M.canonical(M.MARKER))
        return
    try:
        fmt = json.loads(raw).get("format")
    except (ValueError, AttributeError):
        fmt = None
    if fmt != M.FORMAT:
        raise IntegrityError(f"{storage.url}: {M.MARKER_KEY} says format {fmt!r}, not "
                             f"{M.FORMAT!r}: not pushing into it",
                             hint="push to an empty location, or upgrade omg")


def _existing(storage: CacheStorage, name: str) -> M.Manifest | None:
    """The manifest the cache has for `name`, if one is there and well-formed."""
    key = M.manifest_key(name)
    raw = storage.get(key)
    if raw is None:
        return None
    try:
        return M.decode(raw, key, expect_name=name)
    except IntegrityError:
        return None  # a damaged manifest is replaced by the push


def _targets(layout: Layout, name: str, entries: Sequence[TreeEntry]) -> dict[str, str]:
    root = layout.store_path(name)
    return {rel: os.fsdecode(os.readlink(os.fsencode(root) + b"/" + os.fsencode(rel)))
            for rel, kind, _, _ in entries if kind == "l"}


def _upload_objects(layout: Layout, storage: CacheStorage, m: M.Manifest, *, jobs: int,
                    progress: DownloadProgress | None) -> tuple[int, int, int]:
    """Put each object of `m` the cache lacks, in a thread pool; (objects, compressed
    bytes, content bytes) uploaded. Progress is reported from this thread only."""
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    files = _one_file_per_object(m)
    root = layout.store_path(m.name)
    total = sum(size for _, size in files.values())
    label = f"push {m.name[33:]}"
    done = uploaded = packed = content = 0
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="omg-push")
    try:
        futures = {pool.submit(_put_object, storage, root, rel, digest): size
                   for digest, (rel, size) in files.items()}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for f in finished:
                sent = f.result()  # the first failure stops the push
                done += futures[f]
                if sent:
                    uploaded, packed, content = uploaded + 1, packed + sent, content + futures[f]
            if progress is not None:
                progress(label, done, total)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return uploaded, packed, content


def _one_file_per_object(m: M.Manifest) -> dict[str, tuple[str, int]]:
    """Digest -> (a file of the tree with that content, its size)."""
    out: dict[str, tuple[str, int]] = {}
    for rel, kind, digest, size in m.tree:
        if kind in "fx":
            out.setdefault(digest, (rel, size))
    return out


def _put_object(storage: CacheStorage, root: Path, rel: str, digest: str) -> int:
    """Upload one object unless the cache has it; its compressed size (0: it was there)."""
    from blake3 import blake3

    key = M.object_key(digest)
    if storage.exists(key):
        return 0
    path = os.fsencode(root) + b"/" + os.fsencode(rel)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise IntegrityError(f"cannot push {root.name}: {rel}: {exc.strerror}",
                             hint="omg store verify names what is damaged") from exc
    if blake3(data, max_threads=1).hexdigest() != digest:
        raise IntegrityError(f"cannot push {root.name}: {rel} does not hash to its record's "
                             "BLAKE3 (damaged in the store)",
                             hint=f"omg store verify {root.name}")
    packed = _compress(data)
    storage.put(key, packed)
    return len(packed)


def _compress(data: bytes) -> bytes:
    import zstandard

    # One frame with the content size in its header; a compressor per call, since one
    # object is not shared between threads.
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)


def _add_to_index(storage: CacheStorage, key: str, name: str, warnings: list[str]) -> int:
    """Add `name` to index file `key` (read, union, write); 1 if it was written."""
    raw = storage.get(key)
    names: list[str] = []
    if raw is not None:
        try:
            names = M.decode_index(raw, key)
        except IntegrityError as exc:
            warnings.append(f"{exc.message}: replaced")
    if name in names:
        return 0
    storage.put(key, M.encode_index([*names, name]))
    return 1


# Text ------------------------------------------------------------------------------

def lines(r: PushResult) -> list[str]:
    """`omg cache push`'s summary, one line per path pushed, then the totals."""
    from omg.units import human_size

    out = [f"pushed {n}" for n in r.pushed]
    if not r.pushed:
        out.append(f"{r.url}: up to date ({len(r.present)} store path"
                   f"{'' if len(r.present) == 1 else 's'} already there)")
    else:
        out.append(f"{r.url}: {len(r.pushed)} pushed, {len(r.present)} already there; "
                   f"{r.objects} object{'' if r.objects == 1 else 's'} uploaded, "
                   f"{human_size(r.object_bytes)} ({human_size(r.content_bytes)} "
                   "uncompressed)")
    return out

