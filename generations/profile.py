"""Profiles and their generations on disk (invariant 2).

Layout, per profile directory (``profiles/<user>/`` or ``profiles/<user>/projects/``)::

    <profile>          -> <profile>-7-link          the current generation
    <profile>-7-link   -> ../../store/<hash>-profile-node-20.10.0
    <profile>-7.json   {"format", "number", "env", "time", "command"}
    <profile>.seq      the highest number ever given out

and ``locks/profiles/<user>/[projects/]<profile>.lock``, the flock that serialises
use/rollback/delete on the profile (under ``locks/``, mode 0700, so that no other
user can open and hold it in a shared store). Taking it checks that the profile
directory is a real directory of this user (`links.real_dir`), never a symlink.

Order of work for a new generation, and why: the record is written first (a
link without its record is still listed, with an unknown time), then the
generation link, then the profile link is swapped with one rename(2), so the
profile always points at a complete generation. Numbers come from the highest
link, record or ``<profile>.seq`` (so a deleted number is never given again),
under the profile lock, so concurrent `use` calls never lose or reuse a number.
The index table ``generations`` mirrors the records and is rebuilt from them by
`rebuild_index`.

Only light imports here, and paths are strings: `omg use`, `rollback` and `current`
run through this module on the path timed against ``python -c pass``, which
cannot afford pathlib (or typing, json, re).
"""

from __future__ import annotations

import os

from generations import links
from store.errors import FormatTooNew, IntegrityError, NotFound, UsageError
from store.fsutil import walk_tree
from store.results import Result

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import TypeGuard

    from generations.links import GenerationRecord
    from store.index import Index
    from store.layout import Layout
    from store.locks import FileLock

    class GenerationRow(GenerationRecord):
        """A row of the index table ``generations``: the record and where it lives."""

        profile: str
        directory: str

GENERATION_FORMAT = links.GENERATION_FORMAT
INDEX_TABLE = "generations"
DEFAULT_PROFILE = links.DEFAULT_PROFILE


def validate_profile_name(name: str) -> None:
    if links.valid_profile_name(name):
        return
    if name.startswith("."):
        why = "it starts with '.'"
    elif links.reserved_profile_name(name):
        why = ("the profile directory's own files use it (projects, and names ending in "
               + ", ".join(links.RESERVED_SUFFIXES) + ")")
    else:
        why = "use at most 100 letters, digits, _ . - and no slash"
    raise UsageError(f"invalid profile name {name!r}: {why}")


class ProfileRef(Result):
    """One profile: the directory holding its links and its name in it (path strings)."""

    home: str  # OMG_HOME
    directory: str
    name: str
    user: str = ""

    @classmethod
    def user_profile(cls, home: str, user: str, name: str = DEFAULT_PROFILE) -> ProfileRef:
        validate_profile_name(name)
        if not links.valid_user_name(user):
            raise UsageError(f"invalid user name {user!r}")
        return cls(home, f"{home}/profiles/{user}", name, user)

    @property
    def store(self) -> str:
        return self.home + "/store"

    @property
    def link(self) -> str:
        return f"{self.directory}/{self.name}"

    @property
    def lock_path(self) -> str:
        return links.lock_file(self.directory, self.name, self.store)

    @property
    def bin(self) -> str:
        """The PATH entry: symlinks all the way down to the tools."""
        return self.link + "/bin"

    @property
    def label(self) -> str:
        if os.path.basename(self.directory) == "projects":
            return "project " + self.name.replace("%", "/")
        return self.name

    @property
    def seq_path(self) -> str:
        """The highest number ever given out: deleting the newest never frees its number."""
        return f"{self.directory}/{self.name}.seq"

    def gen_link(self, n: int) -> str:
        return links.gen_link(self.directory, self.name, n)

    def gen_record(self, n: int) -> str:
        return f"{self.directory}/{self.name}-{n}{links.RECORD_SUFFIX}"

    def index_key(self, n: int) -> bytes:
        return f"{self.directory}\0{self.name}\0{n:010d}".encode()

    def locked(self, timeout: float = 60.0) -> FileLock:
        """The profile lock (`links.lock`: it checks the directory first)."""
        return links.lock(self.directory, self.name, self.store, timeout=timeout,
                          what=f"profile {self.label}")


class Generation(Result):
    number: int
    env: str  # store path name ("" if the link is unreadable)
    time: float
    command: str
    current: bool = False


def numbers(ref: ProfileRef) -> list[int]:
    """Every generation number with a link or a record, ascending."""
    return links.numbers(ref.directory, ref.name)


def linked_numbers(ref: ProfileRef) -> list[int]:
    """Numbers of the generations that have a link (what `rollback` may switch to).

    Symlinks only, no record is read: a rollback must not depend on a record's
    JSON, and the hot path (omg/fast.py) answers it the same way.
    """
    return [n for n in numbers(ref) if os.path.lexists(ref.gen_link(n))]


def current_number(ref: ProfileRef) -> int | None:
    return links.current_number(ref.directory, ref.name)


def env_of(ref: ProfileRef, n: int) -> str:
    """The env store path name generation `n` points at ("" if its link is gone)."""
    return links.env_of(ref.directory, ref.name, n)


REPAIR_HINT = "run `omg doctor --repair` (it sets the bad record aside)"


def _well_formed(data: object) -> TypeGuard[GenerationRecord]:
    return (isinstance(data, dict) and isinstance(data.get("format", 0), int)
            and isinstance(data.get("number", 0), int)
            and isinstance(data.get("time", 0.0), int | float)
            and isinstance(data.get("command", ""), str)
            and isinstance(data.get("env", ""), str))


def read_record(ref: ProfileRef, n: int) -> GenerationRecord:
    """Generation `n`'s record ({} if it has none); IntegrityError if it is malformed."""
    from store.leanjson import loads

    path = ref.gen_record(n)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise IntegrityError(f"{path}: unreadable generation record: {exc.strerror}",
                             hint=REPAIR_HINT) from exc
    try:
        data = loads(raw)
    except ValueError as exc:  # not JSON, not UTF-8
        raise IntegrityError(f"{path}: corrupt generation record", hint=REPAIR_HINT) from exc
    if not _well_formed(data):  # not an object, or a field of the wrong type
        raise IntegrityError(f"{path}: corrupt generation record", hint=REPAIR_HINT)
    fmt = data.get("format", 0)
    if fmt > GENERATION_FORMAT:
        raise FormatTooNew(f"{path}: generation format {fmt} is newer "
                           f"than this omg ({GENERATION_FORMAT})", hint="upgrade omg")
    return data


def generations(ref: ProfileRef, *, strict: bool = True) -> list[Generation]:
    """The generations that have a link, oldest first.

    `strict=False` takes a corrupt record as a missing one (unknown time and
    command) instead of raising: for keeping the index in step, where the
    link is what matters.
    """
    cur = current_number(ref)
    out = []
    for n in numbers(ref):
        if not os.path.lexists(ref.gen_link(n)):
            continue  # a record whose link was never made (crash) or was deleted
        try:
            rec = read_record(ref, n)
        except FormatTooNew:
            raise
        except IntegrityError:
            if strict:
                raise
            rec = {}
        out.append(Generation(n, env_of(ref, n), float(rec.get("time", 0.0)),
                              str(rec.get("command", "")), n == cur))
    return out


def add_generation(ref: ProfileRef, env_name: str, *, command: str, now: float,
                   index: Index | None = None) -> int:
    """Create generation N+1 pointing at `env_name` and make it current.

    The caller holds the profile lock and ``gc_guard()`` shared, and `env_name`
    is complete in the store.
    """
    n, record = links.add_generation(ref.directory, ref.name, ref.store, env_name,
                                     command=command, now=now)
    if index is not None:
        mirror(index, ref, n, record)
    return n


def switch(ref: ProfileRef, n: int) -> None:
    """Point the profile at generation `n`: one rename(2)."""
    if not os.path.lexists(ref.gen_link(n)):
        raise NotFound(f"profile {ref.label} has no generation {n}",
                       hint="see `omg generations`")
    links.switch(ref.directory, ref.name, n)


def delete(ref: ProfileRef, n: int, index: Index | None = None) -> None:
    """Remove generation `n` (link first, so a listed generation always has its record)."""
    if current_number(ref) == n:
        raise UsageError(f"generation {n} is the current generation of profile {ref.label}",
                         hint="switch away first (omg rollback or omg use)")
    links.forget(ref.directory, ref.name, n)
    if index is not None and not index.readonly:
        index.delete(INDEX_TABLE, ref.index_key(n))


def mirror(index: Index, ref: ProfileRef, n: int, record: GenerationRecord) -> None:
    if not index.readonly:
        row: GenerationRow = {**record, "profile": ref.name, "directory": ref.directory}
        index.put(INDEX_TABLE, ref.index_key(n), row)


def sync_mirror(index: Index, ref: ProfileRef) -> int:
    """Bring this profile's rows of the index table in line with the files.

    The fast path does not open LMDB; whoever next runs with an index calls
    this, so the table lags at most until the next full command. Returns the
    number of rows written or removed.
    """
    if index.readonly:
        return 0
    prefix = f"{ref.directory}\0{ref.name}\0".encode()
    rows = dict(index.items(INDEX_TABLE, prefix))
    changed = 0
    on_disk = {ref.index_key(g.number): g for g in generations(ref, strict=False)}
    for key in rows.keys() - on_disk.keys():
        index.delete(INDEX_TABLE, key)
        changed += 1
    for key, g in on_disk.items():
        if key not in rows:
            mirror(index, ref, g.number, _record_or_link(ref, g))
            changed += 1
    return changed


def _record_or_link(ref: ProfileRef, gen: Generation) -> GenerationRecord:
    """A generation's record, or what its link alone says when the record is lost
    (or corrupt: `omg doctor` reports it, `--repair` sets it aside)."""
    try:
        record = read_record(ref, gen.number)
    except FormatTooNew:
        raise
    except IntegrityError:
        record = {}
    return record or {"format": GENERATION_FORMAT, "number": gen.number, "env": gen.env,
                      "time": gen.time, "command": gen.command}


# All profiles of all users -------------------------------------------------------


def all_profiles(layout: Layout) -> list[ProfileRef]:
    """Every profile under ``profiles/`` (every user, projects included)."""
    home = str(layout.home)
    return [ProfileRef(home, directory, name, user)
            for user, directory, name in links.profiles_in(home + "/profiles")]


def rebuild_index(layout: Layout, index: Index) -> int:
    """Rebuild the ``generations`` table from the records on disk (invariant 4)."""
    index.clear(INDEX_TABLE)
    count = 0
    for ref in all_profiles(layout):
        for gen in generations(ref, strict=False):
            mirror(index, ref, gen.number, _record_or_link(ref, gen))
            count += 1
    return count


class GenerationProblem(Result):
    profile: str
    number: int
    what: str

    def __str__(self) -> str:
        return f"profile {self.profile} generation {self.number}: {self.what}"


def check(layout: Layout) -> list[GenerationProblem]:
    """Generations whose env (or a store path it needs) is missing, for `omg doctor`."""
    from store.layout import store_hash_of

    problems: list[GenerationProblem] = []
    for ref in all_profiles(layout):
        for gen in generations(ref, strict=False):
            label = f"{ref.user}/{ref.label}"
            if not gen.env or store_hash_of(gen.env) is None:
                problems.append(GenerationProblem(label, gen.number, "link does not point "
                                                  "into the store"))
                continue
            env = str(layout.store_path(gen.env))
            if not os.path.isdir(env):
                problems.append(GenerationProblem(label, gen.number,
                                                  f"store path {gen.env} is missing"))
                continue
            try:
                targets = [os.readlink(p) for p in _links_of(env)]
            except OSError as exc:
                problems.append(GenerationProblem(label, gen.number, f"unreadable env: {exc}"))
                continue
            missing = sorted({_store_component(t) for t in targets} - {""})
            for name in missing:
                if not layout.store_path(name).is_dir():
                    problems.append(GenerationProblem(
                        label, gen.number, f"store path {name} (needed by {gen.env}) is missing"))
    return problems


def _links_of(env: str) -> Iterator[str]:
    for dirpath, dirnames, filenames in walk_tree(env):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                yield full


def _store_component(target: str) -> str:
    from store.layout import store_hash_of

    for part in target.split("/"):
        if part not in ("..", ".", "") and store_hash_of(part):
            return part
    return ""


def _corrupt_records(layout: Layout) -> list[tuple[ProfileRef, int, str]]:
    out = []
    for ref in all_profiles(layout):
        for n in numbers(ref):
            try:
                read_record(ref, n)
            except FormatTooNew:
                continue  # a newer omg's: not damage
            except IntegrityError as exc:
                out.append((ref, n, exc.message))
    return out


def check_records(layout: Layout) -> list[GenerationProblem]:
    """Generation records that cannot be read, for `omg doctor`."""
    return [GenerationProblem(f"{ref.user}/{ref.label}", n, f"corrupt record ({why})")
            for ref, n, why in _corrupt_records(layout)]


def quarantine_records(layout: Layout) -> list[str]:
    """Rename corrupt generation records to ``<profile>-N.json.corrupt`` (no longer a
    record; the generation keeps its link and is listed with an unknown time)."""
    notes = []
    for ref, n, why in _corrupt_records(layout):
        path = ref.gen_record(n)
        aside = path + ".corrupt"
        if os.path.lexists(aside):
            aside = f"{path}.corrupt-{os.getpid()}"
        with ref.locked():
            os.replace(path, aside)
        notes.append(f"profile {ref.user}/{ref.label} generation {n}: {why}; "
                     f"set aside as {os.path.basename(aside)}")
    return notes
