"""A profile's generations on disk, on plain strings: the one implementation.

The layout and the order of work are `generations.profile`'s docstring. This
module holds what every writer of a profile directory shares: numbering, the
current generation, writing a generation and switching to it, the directory
checks and lock files, and the debris a killed process leaves. Only `os` and the
lean `store.fsutil` at import time (no pathlib, re, json, typing): `omg use`
between installed versions runs through here and is timed whole-process.
"""

from __future__ import annotations

import os

from store.fsutil import atomic_symlink, atomic_write, fsync_dir
from store.locks import FileLock

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TypedDict

    class GenerationRecord(TypedDict, total=False):
        """``<profile>-<N>.json``; a field it lacks reads as unknown."""

        format: int
        number: int
        env: str
        time: float
        command: str

GENERATION_FORMAT = 1
DEFAULT_PROFILE = "default"
_PROFILE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
LINK_SUFFIX = "-link"
RECORD_SUFFIX = ".json"
TMP_MARK = ".tmp-"


#: Names a profile may not take: they are, or look like, the files of the profile
#: directory itself (a profile named ``default-1-link`` would replace generation 1 of
#: ``default``; ``projects`` is the directory of project profiles).
RESERVED_NAMES = frozenset({"projects"})
RESERVED_SUFFIXES = (LINK_SUFFIX, RECORD_SUFFIX, ".lock", ".seq", ".corrupt")


def valid_profile_name(name: str) -> bool:
    """Letters, digits, ``_ . -``, at most 100, not hidden, and no name that collides
    with the profile directory's own files (`RESERVED_NAMES`, `RESERVED_SUFFIXES`)."""
    return (0 < len(name) <= 100 and set(name) <= _PROFILE_CHARS and name[0] != "."
            and not reserved_profile_name(name))


def reserved_profile_name(name: str) -> bool:
    """A name the profile directory's own files use (`RESERVED_NAMES`, `RESERVED_SUFFIXES`)."""
    return name in RESERVED_NAMES or name.endswith(RESERVED_SUFFIXES)


def valid_user_name(user: str) -> bool:
    """A user's directory under profiles/: one component, not hidden."""
    return "/" not in user and user not in ("", ".", "..") and not user.startswith(".")


def real_dir(base: str, rel: str, mode: int = 0o755) -> str:
    """``base/rel`` with every component below `base` a real directory of this user.

    omg (and omgd, as root) writes generations, records and roots below it, so a
    component that is a symlink (made by an older omg for a profile named
    ``projects``, or by anyone who could write there) or another user's directory
    must never be followed: writes would land where it points, a shared store path
    for one. Missing components are made with `mode`. Costs one lstat(2) per
    component, so the hot path of `omg use` can afford it on every write.
    """
    path = base
    if not os.path.isdir(base):  # OMG_HOME itself: the user's choice, made on first use
        os.makedirs(base, exist_ok=True)
    for part in rel.split("/"):
        if part in ("", "."):
            continue
        path = f"{path}/{part}"
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            try:
                os.mkdir(path, mode)
                os.chmod(path, mode)  # not the umask's: users follow links through it
            except FileExistsError:
                pass
            st = os.lstat(path)
        if st.st_mode & 0o170000 != 0o040000 or st.st_uid != os.geteuid():
            from store.errors import UnsafeInput

            what = "a symlink" if st.st_mode & 0o170000 == 0o120000 else (
                "not a directory" if st.st_mode & 0o170000 != 0o040000
                else f"owned by uid {st.st_uid}")
            raise UnsafeInput(f"refusing to write below {path}: it is {what}, not a "
                              "directory omg made", hint="move it away, then run the "
                              "command again")
    return path


def within_home(directory: str, store_dir: str) -> str:
    """`directory` (a profile directory) checked with `real_dir` below OMG_HOME."""
    home = os.path.dirname(store_dir)
    if directory.startswith(home + "/"):
        return real_dir(home, directory[len(home) + 1:])
    return real_dir(os.path.dirname(directory), os.path.basename(directory))


def lock_file(directory: str, name: str, store_dir: str) -> str:
    """The flock file of profile `name` in `directory`: under ``locks/``, which only
    the store's owner can open (0700), never beside the profile (invariant 7: a
    user who can open a lock file can hold it, and stop everyone else's `use`)."""
    home = os.path.dirname(store_dir)
    rel = directory[len(home) + 1:] if directory.startswith(home + "/") else directory
    return f"{home}/locks/{rel.strip('/')}/{name}.lock"


def lock(directory: str, name: str, store_dir: str, *, timeout: float = 60.0,
         what: str = "") -> FileLock:
    """The profile lock every writer of `directory`'s files for profile `name` holds.

    Taking it first checks the directory (`within_home`), so no writer of
    generations, records or the profile link can be led elsewhere by a symlink.
    """
    within_home(directory, store_dir)
    return FileLock(lock_file(directory, name, store_dir), timeout=timeout,
                    what=what or f"profile {name}")


def _number_in(rest: str) -> int | None:
    """``7-link`` or ``7.json`` -> 7; anything else None."""
    if rest.endswith(LINK_SUFFIX):
        num = rest[: -len(LINK_SUFFIX)]
    elif rest.endswith(RECORD_SUFFIX):
        num = rest[: -len(RECORD_SUFFIX)]
    else:
        return None
    return int(num) if num.isdecimal() and num.isascii() else None


def profile_of(entry: str) -> str | None:
    """The profile a directory entry ``<name>-<N>-link`` or ``<name>-<N>.json`` belongs to."""
    head, sep, rest = entry.rpartition("-")
    if rest == "link":
        head, sep, rest = head.rpartition("-")
        rest += LINK_SUFFIX
    return head if sep and head and _number_in(rest) is not None else None


def profiles_in(profiles_dir: str) -> list[tuple[str, str, str]]:
    """(user, directory, profile name) of every profile under ``profiles/``, projects
    included (``profiles/<user>/projects/``); hidden entries are not users."""
    out: list[tuple[str, str, str]] = []
    try:
        users = sorted(os.listdir(profiles_dir))
    except FileNotFoundError:
        return out
    for user in users:
        if user.startswith("."):
            continue
        base = f"{profiles_dir}/{user}"
        for directory in (base, base + "/projects"):
            try:
                listing = os.listdir(directory)
            except (FileNotFoundError, NotADirectoryError):
                continue
            names = {n for entry in listing if (n := profile_of(entry)) is not None}
            out.extend((user, directory, n) for n in sorted(names))
    return out


def numbers(directory: str, name: str, listing: list[str] | None = None) -> list[int]:
    """Every generation number of profile `name` with a link or a record, ascending
    (from `listing`, the directory's, when the caller has it)."""
    prefix = name + "-"
    if listing is None:
        try:
            listing = os.listdir(directory)
        except FileNotFoundError:
            return []
    found = {n for entry in listing if entry.startswith(prefix)
             if (n := _number_in(entry[len(prefix):])) is not None}
    return sorted(found)


def gen_link(directory: str, name: str, n: int) -> str:
    return f"{directory}/{name}-{n}{LINK_SUFFIX}"


def current_number(directory: str, name: str) -> int | None:
    """The generation the profile link points at (``<name>-<N>-link``), or None."""
    try:
        target = os.readlink(f"{directory}/{name}")
    except OSError:
        return None
    if not target.endswith(LINK_SUFFIX):
        return None
    owner, _, num = target[: -len(LINK_SUFFIX)].rpartition("-")
    return int(num) if owner == name and num.isdecimal() and num.isascii() else None


def env_of(directory: str, name: str, n: int) -> str:
    """The env store path name generation `n` points at ("" if its link is gone)."""
    try:
        target = os.readlink(gen_link(directory, name, n))
    except OSError:
        return ""
    return target.rstrip("/").rsplit("/", 1)[-1]


def clean_debris(directory: str, name: str, listing: list[str] | None = None) -> None:
    """Temporary names of this profile's own files that a killed use/rollback left
    (found in `listing`, the directory's, when the caller has it).

    Safe only under the profile lock, which every writer of these names holds.
    """
    prefix = "." + name
    for entry in os.listdir(directory) if listing is None else listing:
        if not (entry.startswith(prefix) and TMP_MARK in entry):
            continue
        rest = entry[len(prefix):].split(TMP_MARK, 1)[0]
        ours = rest in ("", ".seq") or (rest.startswith("-")
                                         and _number_in(rest[1:]) is not None)
        if ours:
            try:  # noqa: SIM105 (contextlib costs an import on the hot path)
                os.unlink(f"{directory}/{entry}")
            except FileNotFoundError:
                pass


def record_bytes(record: Mapping[str, object]) -> bytes:
    """``json.dumps(record, sort_keys=True)`` plus a newline, for the flat records here."""
    try:
        from _json import encode_basestring_ascii as quote
    except ImportError:  # an interpreter without the C accelerator
        from json import dumps as quote
    fields = []
    for key in sorted(record):
        value = record[key]
        if isinstance(value, str):
            text = quote(value)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"generation record field {key!r}: {type(value).__name__}")
        else:
            text = repr(value)
        fields.append(f"{quote(key)}: {text}")
    return ("{" + ", ".join(fields) + "}\n").encode()


def add_generation(directory: str, name: str, store_dir: str, env: str, *, command: str,
                   now: float) -> tuple[int, GenerationRecord]:
    """Generation N+1 -> `env`, made current; (N+1, its record).

    The caller holds the profile lock (`lock`, which checked `directory`) and the
    shared gc lock, and `env` is complete in `store_dir`. Numbers come from the
    highest link, record or ``<name>.seq`` (`forget`, which deletes, keeps that one
    up), so a deleted number is never given again.

    Three fsyncs, each for a crash guarantee (and none for the number: the new
    record and link are what say it was given): the record's (a listed generation's
    record is whole), the directory's after the generation link (the profile never
    points at a link a crash lost), and `switch`'s (once this returns, the switch
    survives a crash).
    """
    listing = os.listdir(directory)  # once: it grows with every generation kept
    clean_debris(directory, name, listing)
    n = highest(directory, name, listing=listing) + 1
    record: GenerationRecord = {"format": GENERATION_FORMAT, "number": n, "env": env,
                                "time": now, "command": command}
    atomic_write(f"{directory}/{name}-{n}{RECORD_SUFFIX}", record_bytes(record), 0o644)
    atomic_symlink(os.path.relpath(f"{store_dir}/{env}", directory),
                   gen_link(directory, name, n))
    fsync_dir(directory)
    switch(directory, name, n)
    return n, record


def _seq(directory: str, name: str) -> int:
    """What ``<name>.seq`` says (0: no file, or not a number)."""
    try:
        with open(f"{directory}/{name}.seq", "rb") as f:
            return int(f.read() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def highest(directory: str, name: str, seq: int | None = None,
            listing: list[str] | None = None) -> int:
    """The highest number profile `name` ever gave out (0: none yet)."""
    existing = numbers(directory, name, listing)
    return max(existing[-1] if existing else 0, _seq(directory, name) if seq is None else seq)


def forget(directory: str, name: str, n: int) -> None:
    """Delete generation `n`'s link and record, remembering the highest number first.

    Once a number's link and record are gone, only ``<name>.seq`` says it was given:
    it is made durable before they go (the fsync a `use` does not need to pay), so
    no crash makes a number come round again. The link goes before the record, so a
    listed generation always has its record.
    """
    kept = _seq(directory, name)
    high = highest(directory, name, kept)
    if kept < high:
        atomic_write(f"{directory}/{name}.seq", b"%d\n" % high, 0o644)
        fsync_dir(directory)  # the new .seq is on disk before the link can be gone
    for path in (gen_link(directory, name, n), f"{directory}/{name}-{n}{RECORD_SUFFIX}"):
        try:  # noqa: SIM105 (contextlib costs an import on the hot path)
            os.unlink(path)
        except FileNotFoundError:
            pass


def switch(directory: str, name: str, n: int) -> None:
    """Point the profile at generation `n` (which must exist): one rename(2)."""
    atomic_symlink(f"{name}-{n}{LINK_SUFFIX}", f"{directory}/{name}")
    fsync_dir(directory)
