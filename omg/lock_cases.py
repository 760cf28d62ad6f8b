"""Lock files' use cases: `omg lock`, install from a lock, `omg sync --frozen`, `omg status`,
`omg fingerprint` (the format is `omg.lockfile`'s; docs/lock-files.md).

`resolve` is the one part that reads upstream indexes: it runs where they are cached,
inside a `LocalBackend` (omgd's too: `Backend.lock`), and asks each provider for the
artifacts of one release on every platform, through a `Context` for that `Platform`.
Everything else works over any `Backend` from the client's side: the project's files
(version files, `omg.lock`) are the user's, read and written by the user's process,
never by omgd.

Installing from a lock checks before anything is downloaded that what would be
installed (the store's trusted path, else upstream's artifacts now) has exactly the
locked sha256s, so a changed lock or a rebuilt upstream artifact installs nothing
(IntegrityError naming the tool); after the install, that the store path names are the
locked ones where the lock has them. Then the project profile is built from the exact
versions, as `omg sync` would.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from omg import lockfile as L
from store.errors import IntegrityError, NotFound, UsageError
from store.results import SHAPES, Result, many, shaped

if TYPE_CHECKING:
    from collections.abc import Sequence

    from omg.backend import Backend
    from omg.config import Settings
    from omg.install import Session
    from omg.net import DownloadProgress
    from omg.profiles import UseResult
    from omg.providers.base import Context, Provider
    from shims.versionfiles import VersionRequest
    from store.index import Index
    from store.record import PathRecord

#: The platforms a lock covers, besides this machine's: upstream's index decides which
#: of them a version has (a platform it lacks is left out of the lock).
PLATFORMS = ("linux-x64-gnu", "linux-arm64-gnu")
_ARCHES = frozenset({"x64", "arm64"})
_LIBCS = frozenset({"gnu", "musl"})


class LockResult(Result):
    path: str
    lock: L.Lock
    changed: bool
    warnings: list[str]


class Drift(Result):
    """One difference: `tool` is `kind` (missing, different, extra) in `where` (the lock,
    against the version files; the profile, against the lock or the version files)."""

    tool: str
    kind: str
    where: str
    files: str  # the version files' spec, ""
    lock: str  # the locked version, ""
    profile: str  # the project profile's version, ""


class StatusResult(Result):
    project: str
    lock: str  # the lock file's path, "" when there is none
    profile: str
    drift: list[Drift]


class FingerprintResult(Result):
    lock: str
    platform: str
    fingerprint: str
    rows: list[str]


SHAPES[LockResult] = {"lock": shaped(L.Lock)}
SHAPES[StatusResult] = {"drift": many(shaped(Drift))}


# Platforms ------------------------------------------------------------------------------


def current_platform() -> str:
    from omg.providers.base import Platform

    return Platform.detect().key


def check_platform(text: str) -> str:
    """`text` if it names a platform omg installs for (``linux-x64-gnu``); else UsageError."""
    parts = text.split("-")
    if len(parts) != 3 or parts[0] != "linux" or parts[1] not in _ARCHES \
            or parts[2] not in _LIBCS:
        raise UsageError(f"unknown platform {text!r}",
                         hint="linux-x64-gnu, linux-arm64-gnu, linux-x64-musl or "
                              "linux-arm64-musl")
    return text


def lock_platforms() -> list[str]:
    return sorted({*PLATFORMS, current_platform()})


# Resolution (where the indexes are cached: Backend.lock) --------------------------------


def resolve(settings: Settings, specs: Sequence[str], *, platforms: Sequence[str] = (),
            offline: bool = False, refresh: bool = False, index: Index | None = None,
            for_user: str | None = None) -> list[L.Tool]:
    """Each TOOL@SPEC's exact version (this platform's index decides) and its artifacts on
    each of `platforms` (default: `lock_platforms`) that offers it; the store path name
    on this platform when the store holds a trusted path with those artifacts. An exact
    version installed here, asked for this platform alone, needs no index."""
    from omg import install
    from omg import providers as _providers
    from omg.spec import parse_tool_spec

    wanted = [check_platform(p) for p in platforms] or lock_platforms()
    here = current_platform()
    parsed = [parse_tool_spec(s) for s in specs]  # bad input fails before any fetch
    session = install.Session(settings, offline=offline, refresh=refresh, index=index,
                              for_user=for_user)
    try:
        out = []
        for ts in parsed:
            if ts.repo:
                raise UsageError(f"{ts}: a lock pins runtimes; AUR packages come from "
                                 "the project profile")
            provider = _providers.get(ts.tool)
            if wanted == [here] and provider.is_exact(ts.spec):
                found = _from_store(session, provider.name, provider.normalize(ts.spec))
                if found is not None:
                    mirror = provider.mirror(session.ctx)
                    had = [a._replace(url=upstream_url(provider, mirror, a.url))
                           for a in recorded_artifacts(found)]
                    out.append(L.Tool(provider.name, ts.spec, "", found.version,
                                      [L.Target(here, had, found.path)]))
                    continue
            release, _ = provider.lookup(session.ctx, ts.spec)
            targets = []
            for key in wanted:
                arts = _artifacts_on(provider, session.ctx, key, release.version)
                if arts is None:
                    continue
                name = _store_name(session, provider.name, release.version, arts) \
                    if key == here else ""
                targets.append(L.Target(key, arts, name))
            out.append(L.Tool(provider.name, ts.spec, "", release.version, targets))
        return out
    finally:
        session.close()


def _from_store(session: Session, tool: str, version: str) -> PathRecord | None:
    found = session.store.resolvable(tool, version, user=None)
    return found[0] if found else None


def recorded_artifacts(record: PathRecord) -> list[L.Artifact]:
    """What a runtime's record says was downloaded (omg.install writes it)."""
    origin = record.origin or {}
    rows = origin.get("components")
    if isinstance(rows, list) and rows:
        return [L.Artifact(str(r.get("url", "")), str(r.get("sha256", "")),
                           str(r.get("component", ""))) for r in rows if isinstance(r, dict)]
    return [L.Artifact(str(origin.get("url", "")), str(origin.get("sha256", "")))]


def _artifacts_on(provider: Provider, ctx: Context, key: str,
                  version: str) -> list[L.Artifact] | None:
    """`version`'s artifacts for platform `key`, None when its index lacks them.

    Through `lookup` of the exact version, as an install resolves it: some providers
    resolve a version that no listing holds (Rust's ``1.78.0+minimal``, per channel
    manifest and per platform's target)."""
    from omg.providers.base import Platform

    os_, arch, libc = key.split("-")
    pctx = replace(ctx, platform=Platform(os_, arch, libc))
    try:
        release, _ = provider.lookup(pctx, version)
        if release.version != version:  # the index has a neighbour, not this version
            return None
        found = provider.artifacts(pctx, release)
    except NotFound:
        return None
    mirror = provider.mirror(ctx)
    return [L.Artifact(upstream_url(provider, mirror, a.url), a.sha256, a.component)
            for a in found]


def upstream_url(provider: Provider, mirror: str, url: str) -> str:
    """`url` under upstream's own base instead of the mirror it was read from, so that
    machines with other mirror settings write the same lock (an install checks the
    sha256s, and downloads from the mirror its own settings name)."""
    base, default = mirror.rstrip("/"), provider.default_mirror.rstrip("/")
    if default and base != default and url.startswith(base + "/"):
        return default + url[len(base):]
    return url


def _store_name(session: Session, tool: str, version: str,
                arts: Sequence[L.Artifact]) -> str:
    shas = [a.sha256 for a in arts]
    for record in session.store.resolvable(tool, version, user=None):
        if [a.sha256 for a in recorded_artifacts(record)] == shas:
            return record.path
    return ""


# omg lock ---------------------------------------------------------------------------------


def project_requests(start: Path) -> tuple[Path, list[VersionRequest]]:
    """The project at or above `start` and what its version files pin."""
    from shims.project import find_project
    from shims.versionfiles import read_directory

    root = find_project(start)
    if root is None:
        raise NotFound(f"no version file in {start} or above",
                       hint="omg use --local TOOL@VERSION")
    requests = sorted(read_directory(root).values(), key=lambda r: r.tool)
    if not requests:
        raise NotFound(f"the version files in {root} pin no tool")
    return root, requests


def lock_path(root: Path) -> Path:
    return root / L.FILENAME


def read_lock(path: Path) -> L.Lock:
    return _lock_of(_read_bytes(path), path)


def _lock_of(data: bytes, path: Path) -> L.Lock:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    return L.loads(text, str(path))


def lock(b: Backend, start: Path, *, platforms: Sequence[str] = (), offline: bool = False,
         refresh: bool = False, check: bool = False) -> LockResult:
    """Write `omg.lock` beside the version files (installs nothing); `check`: only say
    whether it would change. Store path names the old lock knew for other platforms are
    kept while their artifacts are unchanged (another machine installed them)."""
    from omg.spec import parse_tool_spec
    from shims.project import project_pins

    try:
        root, requests = project_requests(start)
    except NotFound:
        # No version file can name an AUR package: a project profile holding only
        # packages (`omg use --local aur/X`) is locked from the profile alone.
        root, requests = start, []
        packages = _packages(b, start)
        if not packages:
            raise
    else:
        project_pins(root, check=parse_tool_spec)  # a malformed spec names its file
        packages = _packages(b, root)
    tools = b.lock([str(r) for r in requests], platforms=platforms, offline=offline,
                   refresh=refresh) if requests else []
    files = {r.tool: r.source.name for r in requests}
    path = lock_path(root)
    old = _old_lock(path)
    fresh = L.Lock([_keep_names(t._replace(file=files.get(t.tool, t.file)), old)
                    for t in tools], packages)
    text = L.dumps(fresh)
    before = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    changed = text != before
    warnings = [f"{t.tool} {t.version}: no artifacts for {p}" for t in fresh.tools
                for p in ([current_platform()] if not platforms else [])
                if t.target(p) is None]
    if changed and not check:
        from store.fsutil import atomic_write

        atomic_write(path, text.encode(), 0o644)
    return LockResult(str(path), L.normalized(fresh), changed, warnings)


def _old_lock(path: Path) -> L.Lock | None:
    """The lock being replaced, for the store path names it knows; a malformed one is
    simply replaced (a newer format is not: `FormatTooNew`, never downgraded)."""
    if not path.is_file():
        return None
    try:
        return read_lock(path)
    except UsageError:
        return None


def _keep_names(tool: L.Tool, old: L.Lock | None) -> L.Tool:
    before = old.tool(tool.tool) if old is not None else None
    if before is None or before.version != tool.version:
        return tool
    targets = []
    for t in tool.targets:
        prev = before.target(t.platform)
        if not t.store_path and prev is not None and prev.artifacts == t.artifacts:
            t = t._replace(store_path=prev.store_path)
        targets.append(t)
    return tool._replace(targets=targets)


def _packages(b: Backend, root: Path) -> list[L.Package]:
    """The AUR packages of the project profile (version files cannot name them)."""
    from omg.spec import AUR

    try:
        info = b.current(project=root)
    except NotFound:
        return []
    out = []
    for t in info.tools:
        record = b.store_info(t.store_path).record
        origin = record.origin or {}
        if origin.get("kind") == AUR:
            out.append(L.Package(record.name, str(origin.get("version", record.version)),
                                 record.path, str(origin.get("commit", ""))))
    return out


# Installing a lock ------------------------------------------------------------------------


def satisfied(tool: L.Tool, spec: str) -> bool:
    """Does the locked version satisfy `spec` (offline: the lock's own spec, else the
    provider's matching of the exact version)?"""
    from omg import providers as _providers
    from omg.providers.base import Release

    if spec == tool.spec:
        return True
    provider = _providers.get(tool.tool)
    return provider.select(provider.normalize(spec), [Release(tool.version)]) is not None


def stale(lock: L.Lock, requests: Sequence[VersionRequest]) -> list[str]:
    """Why the lock no longer fits the version files (one line each), or nothing."""
    out = []
    for r in requests:
        locked = lock.tool(r.tool)
        if locked is None:
            out.append(f"{r.source.name} pins {r.tool}@{r.spec}, which the lock lacks")
        elif not satisfied(locked, r.spec):
            out.append(f"the lock's {r.tool} {locked.version} does not satisfy "
                       f"{r.source.name}'s {r.spec}")
    pinned = {r.tool for r in requests}
    out += [f"the lock has {t.tool}, which no version file pins" for t in lock.tools
            if t.tool not in pinned]
    return out


def install_lock(b: Backend, root: Path, lock: L.Lock, *, offline: bool = False,
                 progress: DownloadProgress | None = None,
                 command: str = "omg install") -> UseResult:
    """Install exactly `lock` for this platform and make it the project profile."""
    from omg import providers as _providers

    here = current_platform()
    wanted = {}
    for t in lock.tools:
        target = t.target(here)
        if target is None:
            raise NotFound(f"{t.tool} {t.version}: the lock has no artifacts for {here}",
                           hint="run `omg lock` on this platform")
        # Keyed as results name it: a hand-edited lock may say `nodejs` for node, and an
        # unknown tool is the provider registry's one-line error.
        wanted[_providers.get(t.tool).name] = (t, target)
    specs = [f"{t.tool}@{t.version}" for t in lock.tools]
    # Before any download: what would be installed is what the lock says.
    for now in b.lock(specs, platforms=[here], offline=offline):
        t, target = wanted[now.tool]
        got = now.target(here)
        _same_artifacts(t, target, got.artifacts if got is not None else [])
    for r in b.install(specs, offline=offline, progress=progress):
        t, target = wanted[r.tool]
        _same_artifacts(t, target, recorded_artifacts(r.record))
        if target.store_path and r.record.path != target.store_path:
            raise IntegrityError(f"{t.tool} {t.version}: the store path is "
                                 f"{r.record.path}, the lock says {target.store_path}",
                                 hint="the same artifacts gave another tree; "
                                      "`omg lock` records this one")
    packages, missing = _locked_packages(b, lock)
    result = b.use([*specs, *packages], project=root, offline=offline, progress=progress,
                   command=command, write_version_files=False)
    # `omg install` installs the lock even when the version files moved on: it says so.
    said = [f"{L.FILENAME}: {p}; run `omg lock`" for p in stale(lock, project_requests(root)[1])]
    said += missing
    return result._replace(warnings=[*result.warnings, *said]) if said else result


def _locked_packages(b: Backend, lock: L.Lock) -> tuple[list[str], list[str]]:
    """The specs of the locked AUR packages this store holds (their exact store path's
    version), and a warning for each it lacks: AUR packages are built, not downloaded,
    and a lock records what was built without rebuilding it."""
    specs, missing = [], []
    for p in lock.packages:
        try:
            record = b.store_info(p.store_path).record
        except NotFound:
            missing.append(f"{L.FILENAME}: AUR package {p.name} {p.version} ({p.store_path}) "
                           f"is not in this store; build it: omg install aur/{p.name}")
            continue
        specs.append(f"aur/{record.name}@{record.version}")
    return specs, missing


def _same_artifacts(t: L.Tool, target: L.Target, got: Sequence[L.Artifact]) -> None:
    want = [a.sha256 for a in target.artifacts]
    have = [a.sha256 for a in got]
    if not have:
        raise IntegrityError(f"{t.tool} {t.version}: upstream offers no artifact for "
                             f"{current_platform()} now; the lock has "
                             f"{', '.join(want)}", hint="nothing was installed")
    if want != have:
        raise IntegrityError(f"{t.tool} {t.version}: upstream's sha256 {', '.join(have)} "
                             f"is not the locked {', '.join(want)}",
                             hint="nothing was installed; if upstream changed on purpose, "
                                  "run `omg lock` and review the diff")


def sync_frozen(b: Backend, start: Path, *, offline: bool = False,
                progress: DownloadProgress | None = None) -> UseResult:
    """`omg sync --frozen`: exactly the lock, refused (nothing changed) when it does not
    fit the version files any more (checked offline) or when there is none."""
    root, requests = project_requests(start)
    path = lock_path(root)
    if not path.is_file():
        raise NotFound(f"--frozen: no lock file in {root}", hint="omg lock")
    lock_ = read_lock(path)
    problems = stale(lock_, requests)
    if problems:
        raise UsageError(f"--frozen: {path}: {problems[0]}",
                         hint="run `omg lock` to update the lock, then review its diff")
    return install_lock(b, root, lock_, offline=offline, progress=progress,
                        command="omg sync --frozen")


# omg status, omg fingerprint --------------------------------------------------------------


def status(b: Backend, start: Path) -> StatusResult:
    """Drift between the lock, the version files and the project profile."""
    root, requests = project_requests(start)
    path = lock_path(root)
    lock_ = read_lock(path) if path.is_file() else None
    try:
        info = b.current(project=root)
        profile = {t.tool: t.version for t in info.tools}
        name = info.profile
    except NotFound:
        profile, name = {}, ""
    files = {r.tool: r.spec for r in requests}
    drift = []
    if lock_ is not None:
        locked = {t.tool: t for t in lock_.tools}
        for tool, spec in files.items():
            if tool not in locked:
                drift.append(Drift(tool, "missing", "lock", spec, "", profile.get(tool, "")))
            elif not satisfied(locked[tool], spec):
                drift.append(Drift(tool, "different", "lock", spec, locked[tool].version,
                                   profile.get(tool, "")))
        drift += [Drift(tool, "extra", "lock", "", t.version, profile.get(tool, ""))
                  for tool, t in locked.items() if tool not in files]
        wanted = {tool: t.version for tool, t in locked.items()}
    else:
        wanted = files
    for tool, want in wanted.items():
        have = profile.get(tool)
        if have is None:
            drift.append(Drift(tool, "missing", "profile", files.get(tool, ""),
                               want if lock_ is not None else "", ""))
        elif not (have == want if lock_ is not None else _fits(tool, want, have)):
            drift.append(Drift(tool, "different", "profile", files.get(tool, ""),
                               want if lock_ is not None else "", have))
    pkgs = {p.name for p in lock_.packages} if lock_ is not None else set()
    drift += [Drift(tool, "extra", "profile", "", "", version)
              for tool, version in profile.items()
              if tool not in wanted and tool not in pkgs]
    drift.sort(key=lambda d: (d.tool, d.where, d.kind))
    return StatusResult(str(root), str(path) if lock_ is not None else "", name, drift)


def _fits(tool: str, spec: str, version: str) -> bool:
    return satisfied(L.Tool(tool, "", "", version, []), spec)


def fingerprint(start: Path, platform: str = "") -> FingerprintResult:
    root, _ = project_requests(start)
    path = lock_path(root)
    key = check_platform(platform) if platform else current_platform()
    lock_ = read_lock(path)
    return FingerprintResult(str(path), key, L.fingerprint(lock_, key),
                             L.fingerprint_rows(lock_, key))


def lock_here(start: Path) -> tuple[Path, L.Lock] | None:
    """The project's root and lock, when it has one (`omg install` with no arguments)."""
    from shims.project import find_project

    root = find_project(start)
    if root is None:
        return None
    path = lock_path(root)
    return (root, read_lock(path)) if path.is_file() else None


# Team sync: omg lock push / pull ---------------------------------------------------------

#: What a lock's signature covers: this tag, the lock's bytes, a NUL, the fingerprints'.
SIGNED_TAG = b"omg-lock-v1\0"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


class LockTransfer(Result):
    url: str  # the cache, credentials removed
    name: str
    path: str  # the project's omg.lock
    fingerprints: str  # the `fingerprint` object's text: "<platform> <hex>" per line
    signed_by: str  # the key that signed (push) or that verified (pull), ""
    warnings: list[str]


def lock_keys(name: str) -> tuple[str, str, str]:
    """The cache keys of lock `name`: the lock, its fingerprints, its signature."""
    if not name or len(name) > 128 or name in (".", "..") or not set(name) <= _NAME_CHARS:
        raise UsageError(f"invalid lock name {name!r}: use letters, digits and . _ -")
    base = f"locks/{name}"
    return f"{base}/{L.FILENAME}", f"{base}/fingerprint", f"{base}/{L.FILENAME}.sig"


def fingerprints_text(lock: L.Lock) -> str:
    """One ``<platform> <fingerprint>`` line per platform the lock covers (sorted)."""
    platforms = sorted({t.platform for tool in lock.tools for t in tool.targets})
    return "".join(f"{p} {L.fingerprint(lock, p)}\n" for p in platforms)


def _signed_bytes(lock_bytes: bytes, fingerprints: bytes) -> bytes:
    return SIGNED_TAG + lock_bytes + b"\0" + fingerprints


def push(url: str, start: Path, *, name: str = "", secret_file: Path | None = None,
         timeout: float = 10.0) -> LockTransfer:
    """Put the project's lock and fingerprints at ``locks/<name>/`` on cache `url`
    (default name: the project directory's), signed with `secret_file`'s key if given.
    The signature goes last, over the bytes just written."""
    from omg.cache import keys
    from omg.cache.storage import open_storage

    root, _ = project_requests(start)
    path = lock_path(root)
    data = _read_bytes(path)
    lock_ = _lock_of(data, path)  # the bytes signed are the bytes checked
    finger = fingerprints_text(lock_).encode()
    lock_key, finger_key, sig_key = lock_keys(name or root.name)
    secret = keys.load_secret(secret_file) if secret_file is not None else None
    storage = open_storage(url, timeout=timeout)
    try:
        if not storage.writable:
            raise UsageError(f"{storage.url}: read-only cache", hint="push to file:// or s3://")
        # Each put is atomic, but the three are not: a reader between them sees the old
        # signature beside new bytes, which it cannot verify (refused, never misread).
        storage.put(lock_key, data)
        storage.put(finger_key, finger)
        if secret is not None:
            storage.put(sig_key, f"{secret.name}:{secret.sign(_signed_bytes(data, finger))}\n"
                        .encode())
        else:
            storage.delete(sig_key)
        warnings = [] if secret is not None else [
            "unsigned: a pull that trusts keys will refuse it (--secret-file signs)"]
        return LockTransfer(storage.url, name or root.name, str(path), finger.decode(),
                            secret.name if secret is not None else "", warnings)
    finally:
        storage.close()


def pull(url: str, start: Path, *, name: str = "", trusted: Sequence[str] = (),
         timeout: float = 10.0) -> LockTransfer:
    """Fetch lock `name` (default: this project directory's name) from cache `url` into
    the project's omg.lock. With `trusted` keys its signature must verify by one of
    them; without, it is taken unverified (a warning says so). Its fingerprints must be
    the lock's own. Nothing is written when a check fails."""
    from omg.cache import keys
    from omg.cache.storage import open_storage, redact
    from shims.project import find_project

    root = find_project(start) or Path(os.path.abspath(start))
    lock_key, finger_key, sig_key = lock_keys(name or root.name)
    publics = keys.parse_publics(trusted)
    storage = open_storage(url, timeout=timeout)
    try:
        data = storage.get(lock_key)
        if data is None:
            raise NotFound(f"{storage.url}: no lock {lock_key}",
                           hint="omg lock push URL --name NAME puts one there")
        finger = storage.get(finger_key) or b""
        sig = storage.get(sig_key)
        where = f"{storage.url}/{lock_key}"
    finally:
        storage.close()
    signer, warnings = _check_signature(where, data, finger, sig, publics)
    try:
        lock_ = L.loads(data.decode("utf-8"), where)
    except UnicodeDecodeError:
        raise IntegrityError(f"{where}: not UTF-8 text") from None
    if finger.decode("utf-8", "replace") != fingerprints_text(lock_):
        raise IntegrityError(f"{where}: its fingerprint file does not match the lock",
                             hint="push it again: `omg lock push`")
    from store.fsutil import atomic_write

    path = lock_path(root)
    atomic_write(path, data, 0o644)
    return LockTransfer(redact(url), name or root.name, str(path), finger.decode(),
                        signer, warnings)


def _check_signature(where: str, data: bytes, finger: bytes, sig: bytes | None,
                     publics: Sequence[object]) -> tuple[str, list[str]]:
    from omg.cache import keys

    if not publics:
        return "", [f"{where}: not verified (no [cache] trusted_keys)"]
    text = (sig or b"").decode("ascii", "replace").strip()
    key_name, _, b64 = text.partition(":")
    found = keys.verify(_signed_bytes(data, finger), [(key_name, b64)] if sig else [],
                        [k for k in publics if isinstance(k, keys.PublicKey)])
    if found is None:
        why = "it is unsigned" if sig is None else f"no trusted key signed it ({key_name})"
        raise IntegrityError(f"{where}: refused: {why}",
                             hint="push it with --secret-file of a key in trusted_keys")
    return found.name, []


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no lock file: {path}", hint="omg lock") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc


