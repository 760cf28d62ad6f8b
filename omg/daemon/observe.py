"""What omgd tells its operator: a log line per request, stats, and the audit log.

Every request ends in `Observer.finish`: one line on stderr (the journal),
counts and latencies in memory (`daemon.stats`), and, for the methods that
change profiles, roots or the store, one JSON line appended to
``<OMG_HOME>/daemon/audit.log`` (docs/protocol.md "Logs and audit"). The
audit log is the daemon's own file (mode 0640 in a directory only it can
write), opened with O_APPEND and written one whole record per write(2), so a
crash can cut at most the record being written.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from omg.daemon.peer import Peer
from store.errors import OmgError, UnsafeInput
from store.fsutil import write_all

if TYPE_CHECKING:
    from store.results import Plain

#: Requests whose method no table knows, and frames that were no request at all.
UNKNOWN, NO_REQUEST = "?", "-"
#: Latency percentiles are over each method's most recent requests.
RECENT = 1024


def result_name(error: BaseException | None) -> str:
    """``ok``, the OmgError class name, or ``InternalError`` (what the client sees)."""
    if error is None:
        return "ok"
    return type(error).__name__ if isinstance(error, OmgError) else "InternalError"


@dataclass
class Outcome:
    """One finished request, as the log, the stats and the audit see it."""

    rid: int
    peer: Peer
    method: str  # a known method name, UNKNOWN or NO_REQUEST: never raw client text
    params: Mapping[str, object]
    error: BaseException | None
    result: object  # the handler's result, as plain data (`store.results.to_plain`)
    ms: float


def log_line(o: Outcome) -> str:
    return (f"req={o.rid} pid={o.peer.pid} uid={o.peer.uid} user={o.peer.user} "
            f"method={o.method} result={result_name(o.error)} ms={o.ms:.1f}")


# Stats ---------------------------------------------------------------------------


class MethodStats(TypedDict):
    """One method's row of ``daemon.stats``."""

    count: int
    errors: int
    error_types: dict[str, int]
    mean_ms: float
    max_ms: float
    p50_ms: float
    p95_ms: float


class DaemonStats(TypedDict):
    """The ``daemon.stats`` reply."""

    started: float
    uptime_s: float
    requests: int
    errors: int
    connections: dict[str, int]  # open, accepted, refused
    incoming: dict[str, int]  # bytes, uploaders
    methods: dict[str, MethodStats]


@dataclass
class _MethodStats:
    count: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    total_ms: float = 0.0
    max_ms: float = 0.0
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT))

    def to_wire(self) -> MethodStats:
        ordered = sorted(self.recent)
        return {"count": self.count, "errors": sum(self.errors.values()),
                "error_types": dict(sorted(self.errors.items())),
                "mean_ms": round(self.total_ms / self.count, 3) if self.count else 0.0,
                "max_ms": round(self.max_ms, 3),
                "p50_ms": round(_percentile(ordered, 0.50), 3),
                "p95_ms": round(_percentile(ordered, 0.95), 3)}


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least `q` of the values at or below it."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Stats:
    """Per-method counts, errors and latencies since the daemon started, in memory."""

    def __init__(self) -> None:
        self.started = time.time()
        self._lock = threading.Lock()
        self._methods: dict[str, _MethodStats] = {}
        self._conns = {"open": 0, "accepted": 0, "refused": 0}

    def record(self, o: Outcome) -> None:
        with self._lock:
            m = self._methods.setdefault(o.method, _MethodStats())
            m.count += 1
            if o.error is not None:
                name = result_name(o.error)
                m.errors[name] = m.errors.get(name, 0) + 1
            m.total_ms += o.ms
            m.max_ms = max(m.max_ms, o.ms)
            m.recent.append(o.ms)

    def connection(self, event: str) -> None:
        """``accepted`` (now open), ``closed`` or ``refused`` (over a limit)."""
        with self._lock:
            if event == "closed":
                self._conns["open"] -= 1
                return
            self._conns[event] += 1
            if event == "accepted":
                self._conns["open"] += 1

    def to_wire(self, incoming: Mapping[int, int] | None = None) -> DaemonStats:
        with self._lock:
            methods = {name: m.to_wire() for name, m in sorted(self._methods.items())}
            conns = dict(self._conns)
        held = dict(incoming or {})
        return {"started": self.started, "uptime_s": round(time.time() - self.started, 3),
                "requests": sum(m["count"] for m in methods.values()),
                "errors": sum(m["errors"] for m in methods.values()),
                "connections": conns,
                "incoming": {"bytes": sum(held.values()), "uploaders": len(held)},
                "methods": methods}


# The audit log -----------------------------------------------------------------

#: Cut params this far before they are written: a record stays a line, not a dump.
MAX_TEXT, MAX_ITEMS, MAX_DEPTH, MAX_PARAMS = 200, 16, 3, 4096


def trim(value: object, depth: int = 0) -> object:
    """`value` as JSON-safe data with long strings, lists and maps cut short."""
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else f"{value[:MAX_TEXT]}...({len(value)} chars)"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= MAX_DEPTH:
        return "..."
    if isinstance(value, dict):
        items = list(value.items())
        out: dict[str, object] = {str(k)[:MAX_TEXT]: trim(v, depth + 1)
                                  for k, v in items[:MAX_ITEMS]}
        if len(items) > MAX_ITEMS:
            out["..."] = f"{len(items) - MAX_ITEMS} more"
        return out
    if isinstance(value, list | tuple):
        out_list = [trim(v, depth + 1) for v in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            out_list.append(f"...{len(value) - MAX_ITEMS} more")
        return out_list
    return str(value)[:MAX_TEXT]


def _params(params: Mapping[str, object]) -> object:
    trimmed = trim(dict(params))
    size = len(json.dumps(trimmed))
    if size > MAX_PARAMS:
        return {"...": f"{size} bytes of params", "names": sorted(str(k) for k in params)}
    return trimmed


def _pick(*keys: str) -> Callable[[Plain], dict[str, object]]:
    return lambda r: {k: r[k] for k in keys if k in r}


def _gc(r: Plain) -> dict[str, object]:
    return {"dry_run": r["dry_run"], "dead": len(r["dead"]), "freed_bytes": r["freed_bytes"],
            "deleted_generations": r["deleted_generations"]}


#: The methods that change something, and what of a success the audit log keeps. Each
#: reads the plain result as it is: another shape raises, and `audit_record` keeps the
#: record without a summary.
AUDITED: dict[str, Callable[[Plain], object]] = {
    "store.add": lambda r: {"store_path": r["record"]["path"], "created": r["created"]},
    "runtime.install": lambda r: {"store_paths": [x["record"]["path"] for x in r],
                                  "created": sum(bool(x["created"]) for x in r)},
    "cache.pull": _pick("url", "pulled", "present"),
    "cache.substitute": _pick("found", "caches"),
    "profile.use": _pick("profile", "generation", "env", "unchanged"),
    "profile.exec": _pick("env", "root"),
    "profile.uninstall": _pick("profile", "generation", "removed", "unrooted"),
    "profile.rollback": _pick("profile", "previous", "generation"),
    "profile.delete": _pick("profile", "deleted", "kept_current"),
    "roots.add": _pick("user", "name", "store_path"),
    "roots.remove": _pick("user", "name"),
    "venv.root": _pick("user", "path", "store_path"),
    "venv.unroot": _pick("user", "path"),
    "gc": _gc,
}


def audit_record(o: Outcome, now: float) -> dict[str, object]:
    record: dict[str, object] = {
        "time": round(now, 3), "req": o.rid, "uid": o.peer.uid, "user": o.peer.user,
        "pid": o.peer.pid, "method": o.method, "params": _params(o.params),
        "result": "ok" if o.error is None else "error"}
    if o.error is not None:
        record["error"] = {"type": result_name(o.error),
                           "message": trim(str(getattr(o.error, "message", "")))}
    else:
        try:
            record["summary"] = trim(AUDITED[o.method](o.result))
        except (KeyError, TypeError, IndexError):  # an odd result must not lose the record
            record["summary"] = None
    return record


class AuditLog:
    """``daemon/audit.log``: appended to, never rewritten; only the daemon's user writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd = _open_private(path)

    def write(self, record: Mapping[str, object]) -> None:
        line = (json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n").encode()
        with self._lock:
            write_all(self._fd, line)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def private_dir(path: Path) -> None:
    """`path` as a directory of the daemon's user that nobody else can write (0755)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o755)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise UnsafeInput(f"{path} is not a directory of omgd's user (uid {os.geteuid()})",
                          hint="remove it, or fix its owner, then start omgd again")
    os.chmod(path, 0o755)


def _open_private(path: Path) -> int:
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o640)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
        os.close(fd)
        raise UnsafeInput(f"{path} is not a file of omgd's user (uid {os.geteuid()})",
                          hint="move it away, then start omgd again")
    os.fchmod(fd, 0o640)
    return fd


# Putting it together ---------------------------------------------------------------


class Observer:
    """Logs, counts and audits each finished request; never fails the request itself."""

    def __init__(self, stats: Stats, audit: AuditLog | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.stats = stats
        self.audit = audit
        self._log = log or _stderr
        self._next = 0
        self._lock = threading.Lock()

    def next_id(self) -> int:
        with self._lock:
            self._next += 1
            return self._next

    def log(self, msg: str) -> None:
        self._log(msg)

    def finish(self, o: Outcome) -> None:
        self.stats.record(o)
        self.log(log_line(o))
        if self.audit is not None and o.method in AUDITED:
            try:
                self.audit.write(audit_record(o, time.time()))
            except OSError as exc:  # the change is made; say the record is missing
                self.log(f"audit: cannot write req={o.rid} to {self.audit.path}: "
                         f"{exc.strerror}")


_stderr_lock = threading.Lock()


def _stderr(msg: str) -> None:
    # One write per line, under a lock: threads' lines never interleave. A lost
    # journal (a closed pipe) loses lines, never the requests that log them.
    with _stderr_lock, contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"omgd: {msg}\n")
        sys.stderr.flush()
