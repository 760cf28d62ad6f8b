"""omgd's Unix-socket server: one thread per connection, bounded in size and time.

Why threads: handlers block on the filesystem and on flocks, and the GIL is
released there; a connection can never hold another back because each waits
only on its own socket with its own deadlines (handshake, frame, idle, send).
Shutdown (SIGTERM/SIGINT): stop accepting, let requests in flight finish and
reply, drop idle connections, remove the socket, exit 0. A PID/lock file
under ``locks/omgd.lock`` (flock) keeps a second daemon off the same store.
"""

from __future__ import annotations

import array
import contextlib
import errno
import os
import select
import signal
import socket
import stat
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from omg.daemon import protocol as P
from omg.daemon import table
from omg.daemon.base import Context, Method
from omg.daemon.incoming import DEFAULT_MAX_INCOMING, Quota
from omg.daemon.observe import NO_REQUEST, UNKNOWN, AuditLog, Observer, Outcome
from omg.daemon.peer import Peer, peer_of
from omg.daemon.wire import SERVER_NAME, default_socket
from store.errors import Busy, OmgError, UsageError

if TYPE_CHECKING:
    from omg.config import Settings

MAX_FDS_PER_FRAME = 1
SYSTEMD_FIRST_FD = 3
#: Every LMDB table the daemon's requests use, opened before threads share the index
#: (store: meta paths pathfiles archives; generations; providers' upstream cache;
#: arch: search, aur, aursearch).
KNOWN_TABLES = ("meta", "paths", "pathfiles", "archives", "generations", "upstream",
                "search", "aur", "aursearch")


@dataclass(frozen=True)
class Limits:
    max_frame: int = P.DEFAULT_MAX_FRAME  # requests
    max_reply: int = P.DEFAULT_MAX_REPLY  # replies (the client reads up to its own limit)
    handshake_timeout: float = 5.0  # from connect to a complete hello
    frame_timeout: float = 10.0  # from a frame's first byte to its last
    idle_timeout: float = 600.0  # between requests
    send_timeout: float = 10.0  # a client that will not read its reply
    max_clients: int = 256
    max_clients_per_uid: int = 64  # so one user's connections cannot starve the others
    shutdown_grace: float = 60.0  # how long SIGTERM waits for requests in flight
    max_incoming_bytes: int = DEFAULT_MAX_INCOMING  # per uid, across its uploads in flight


def readable(sock: socket.socket, timeout: float) -> bool:
    """Whether `sock` has input (or hung up) within `timeout` seconds.

    poll, not select: select cannot watch a descriptor above 1023, and a busy
    daemon's sockets get there.
    """
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(max(0.0, timeout) * 1000))


class _Drop(Exception):
    """End this connection quietly (peer gone, timed out, or shutting down)."""


class Connection:
    """One client: its socket, its peer, its partial frame and received fds."""

    def __init__(self, server: Server, sock: socket.socket, peer: Peer) -> None:
        self.server = server
        self.sock = sock
        self.peer = peer
        self.decoder = P.FrameDecoder(server.limits.max_frame)
        self.ready: list[dict[str, object]] = []
        self.fds: list[int] = []

    # Reading ------------------------------------------------------------------

    def _recv(self, deadline: float, *, idle: bool) -> None:
        """Read once, waiting at most until `deadline` (checking for shutdown if idle)."""
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise _Drop("timed out")
            if idle and self.server.stopping.is_set():
                raise _Drop("shutting down")
            wait = min(deadline - now, 0.2 if idle else deadline - now)
            if readable(self.sock, wait):
                break
        fds = array.array("i")
        try:
            data, anc, flags, _ = self.sock.recvmsg(
                65536, socket.CMSG_SPACE(MAX_FDS_PER_FRAME * fds.itemsize),
                socket.MSG_CMSG_CLOEXEC)  # never leak a client's fd into a child
        except (ConnectionError, OSError) as exc:
            raise _Drop(str(exc)) from None
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                usable = len(payload) - len(payload) % fds.itemsize
                fds.frombytes(payload[:usable])
        self.fds.extend(fds)
        if flags & socket.MSG_CTRUNC or len(self.fds) > MAX_FDS_PER_FRAME:
            raise P.ProtocolError("too many file descriptors in one request")
        if not data:
            raise _Drop("peer closed")
        self.ready.extend(self.decoder.feed(data))

    def read_message(self, deadline: float, *, idle: bool) -> dict[str, object]:
        """The next whole message; a started frame must complete within frame_timeout."""
        frame_deadline: float | None = None
        while not self.ready:
            if self.decoder.pending:
                if frame_deadline is None:
                    frame_deadline = time.monotonic() + self.server.limits.frame_timeout
                    if not idle:
                        frame_deadline = min(frame_deadline, deadline)
                self._recv(frame_deadline, idle=False)
            else:
                self._recv(deadline, idle=idle)
        return self.ready.pop(0)

    def send(self, message: dict[str, object]) -> None:
        try:
            frame = P.encode_frame(message, self.server.limits.max_reply)
        except P.ProtocolError as exc:
            rid = message.get("id")  # our own reply's: an int, or None
            frame = P.encode_frame(P.error_reply(rid if isinstance(rid, int) else None, exc))
        self.sock.settimeout(self.server.limits.send_timeout)
        try:
            self.sock.sendall(frame)
        except OSError as exc:
            raise _Drop(f"send failed: {exc}") from None
        finally:
            self.sock.settimeout(None)

    def close_fds(self) -> None:
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds.clear()

    # The conversation -----------------------------------------------------------

    def run(self) -> None:
        limits = self.server.limits
        try:
            hello = self.read_message(time.monotonic() + limits.handshake_timeout,
                                      idle=False)
            try:
                P.check_client_hello(hello)
                if self.fds:  # else they would ride along with the first request
                    raise P.ProtocolError("the hello takes no file descriptor")
            except P.ProtocolError as exc:
                self.send({"error": P.error_to_wire(exc)})
                return
            self.send(P.server_hello(SERVER_NAME, self.peer.to_wire()))
            while True:
                msg = self.read_message(time.monotonic() + limits.idle_timeout, idle=True)
                if not self.serve_one(msg):
                    return
        except P.ProtocolError as exc:  # a frame that is no message: logged as a request
            self.server.observer.finish(Outcome(self.server.observer.next_id(), self.peer,
                                                NO_REQUEST, {}, exc, None, 0.0))
            with contextlib.suppress(_Drop, OSError):
                self.send(P.error_reply(None, exc))
        except _Drop:
            pass
        except Exception:
            self.server.log("connection error:\n" + traceback.format_exc())
        finally:
            self.close_fds()
            with contextlib.suppress(OSError):
                self.sock.close()
            self.server.release(self.peer)

    def serve_one(self, msg: dict[str, object]) -> bool:
        """Answer one request; False ends the connection (after a protocol error)."""
        observer = self.server.observer
        with self.server.in_flight():
            fds, self.fds = self.fds, []
            rid, start = observer.next_id(), time.monotonic()
            try:
                req = P.parse_request(msg)
            except P.ProtocolError as exc:
                self._close(fds)
                observer.finish(Outcome(rid, self.peer, NO_REQUEST, {}, exc, None, 0.0))
                sent = msg.get("id")
                self.send(P.error_reply(sent if isinstance(sent, int) else None, exc))
                return False
            result: object = None
            error: BaseException | None = None
            try:
                result = table.dispatch(self.server.methods, self.server.ctx, self.peer,
                                        req.method, req.params, fds)
                reply = P.ok_reply(req.id, result)
            except OmgError as exc:
                error, reply = exc, P.error_reply(req.id, exc)
            except Exception as exc:
                self.server.log(f"req={rid} {req.method} from uid {self.peer.uid} failed:\n"
                                + traceback.format_exc())
                error, reply = exc, P.error_reply(req.id, exc)
            finally:
                self._close(fds)
            method = req.method if req.method in self.server.methods else UNKNOWN  # not raw
            observer.finish(Outcome(rid, self.peer, method, req.params, error, result,
                                    (time.monotonic() - start) * 1000))
            self.send(reply)
        return not self.server.stopping.is_set()

    @staticmethod
    def _close(fds: list[int]) -> None:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


class Server:
    def __init__(self, ctx: Context, socket_path: Path, *, limits: Limits | None = None,
                 log: Callable[[str], None] | None = None,
                 audit: AuditLog | None = None,
                 methods: dict[str, Method] | None = None) -> None:
        self.ctx = ctx
        #: Every request name this daemon answers (`omg.daemon.table`).
        self.methods = table.build() if methods is None else methods
        self.socket_path = socket_path
        self.limits = limits or Limits()
        self.stopping = threading.Event()
        self.observer = Observer(ctx.stats, audit, log)
        self._listener: socket.socket | None = None
        self._activated = False
        self._busy = 0
        self._cond = threading.Condition()
        self._threads: set[threading.Thread] = set()
        self._per_uid: dict[int, int] = {}

    def log(self, msg: str) -> None:
        self.observer.log(msg)

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[None]:
        with self._cond:
            self._busy += 1
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    def listen(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        if env.get("LISTEN_FDS") == "1" and env.get("LISTEN_PID") == str(os.getpid()):
            os.set_inheritable(SYSTEMD_FIRST_FD, False)
            self._listener = socket.socket(fileno=SYSTEMD_FIRST_FD)
            self._activated = True
            if environ is None:  # children (makepkg, later) must not think they are activated
                for key in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
                    os.environ.pop(key, None)
            return
        path = self.socket_path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        # We hold the store's daemon lock, so a socket file here is a dead daemon's.
        # Anything else at that path is a configuration mistake, never ours to delete.
        try:
            if not stat.S_ISSOCK(os.lstat(path).st_mode):
                raise UsageError(f"{path} exists and is not a socket",
                                 hint="point OMG_SOCKET or [daemon] socket elsewhere")
            path.unlink()
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        # Anyone local may connect; what they may do is decided per peer (SO_PEERCRED).
        os.chmod(path, 0o666)
        sock.listen(64)
        self._listener = sock

    def serve_forever(self) -> None:
        assert self._listener is not None
        listener = self._listener
        listener.setblocking(False)
        try:
            while not self.stopping.is_set():
                if not readable(listener, 0.2):
                    continue
                try:
                    conn, _ = listener.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:
                    if exc.errno in (errno.EMFILE, errno.ENFILE):
                        self.log(f"accept: {exc.strerror}")
                        time.sleep(0.1)
                        continue
                    raise
                conn.setblocking(True)
                self._start(conn)
        finally:
            self._shutdown()

    def _start(self, conn: socket.socket) -> None:
        self._threads = {t for t in self._threads if t.is_alive()}
        try:
            peer = peer_of(conn)
        except OSError:
            conn.close()
            return
        with self._cond:
            mine = self._per_uid.get(peer.uid, 0)
            full = len(self._threads) >= self.limits.max_clients
            full_uid = mine >= self.limits.max_clients_per_uid
            if not (full or full_uid):
                self._per_uid[peer.uid] = mine + 1
        if full or full_uid:
            self.ctx.stats.connection("refused")
            why = "too many clients" if full else f"too many connections from uid {peer.uid}"
            with contextlib.suppress(OSError):
                conn.sendall(P.encode_frame({"error": P.error_to_wire(
                    Busy(f"omgd: {why}", hint="retry shortly"))}))
            conn.close()
            return
        connection = Connection(self, conn, peer)
        thread = threading.Thread(target=connection.run, daemon=True, name="omgd-conn")
        self._threads.add(thread)
        self.ctx.stats.connection("accepted")
        thread.start()

    def release(self, peer: Peer) -> None:
        self.ctx.stats.connection("closed")
        with self._cond:
            left = self._per_uid.get(peer.uid, 1) - 1
            if left > 0:
                self._per_uid[peer.uid] = left
            else:
                self._per_uid.pop(peer.uid, None)

    def _shutdown(self) -> None:
        self.stopping.set()
        if self._listener is not None:
            self._listener.close()
        if not self._activated:
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()
        deadline = time.monotonic() + self.limits.shutdown_grace
        with self._cond:
            while self._busy and time.monotonic() < deadline:
                self._cond.wait(0.1)
        for thread in list(self._threads):
            thread.join(max(0.0, min(1.0, deadline - time.monotonic())))

    def stop(self) -> None:
        self.stopping.set()


# The program -----------------------------------------------------------------------


@contextlib.contextmanager
def pid_lock(path: Path) -> Iterator[None]:
    """Hold the daemon lock of one store for the daemon's life; Busy if taken."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise Busy(f"another omgd (pid {other}) already serves this store",
                       hint=f"lock held on {path}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _clean_incoming(ctx: Context) -> None:
    from store.fsutil import force_remove

    with contextlib.suppress(FileNotFoundError):
        for entry in os.listdir(ctx.incoming):
            force_remove(ctx.incoming / entry)


def _clean_up(ctx: Context, log: Callable[[str], None]) -> list[str]:
    """Remove a dead daemon's staging debris and incoming copies, as far as we can.

    Debris we cannot remove (too deep, a permission we lack) costs disk space,
    not correctness: serving goes on, and the log says what is left.
    """
    from store.ingest import clean_debris

    removed: list[str] = []
    try:
        removed = clean_debris(ctx.store.layout,
                               report=lambda what: log(f"staging debris: {what}"))
    except (OSError, RecursionError, OmgError) as exc:
        _cannot_clean(log, "staging debris", exc)
    try:
        _clean_incoming(ctx)
    except (OSError, RecursionError, OmgError) as exc:
        _cannot_clean(log, "incoming copies", exc)
    return removed


def _cannot_clean(log: Callable[[str], None], what: str, exc: BaseException) -> None:
    why = str(exc).splitlines()[0] if str(exc) else ""
    log(f"cannot remove {what} at start-up ({type(exc).__name__}: {why}); serving anyway")


def _limits(daemon_cfg: Mapping[str, object]) -> Limits:
    """The [daemon] settings that tune `Limits`, converted to each field's type."""
    fields = Limits.__dataclass_fields__
    try:
        return Limits(**{k: type(getattr(Limits, k))(daemon_cfg[k])
                         for k in fields if k in daemon_cfg})
    except (TypeError, ValueError) as exc:
        raise UsageError(f"[daemon] settings: {exc}") from exc


def run(settings: Settings, socket_path: Path | None = None, *, limits: Limits | None = None,
        ready: Callable[[Server], None] | None = None) -> int:
    """Serve the store of `settings` until SIGTERM/SIGINT; the exit code."""
    from store.local import LocalStore

    raw = settings.raw
    daemon_cfg = raw.get("daemon", {})
    path = socket_path or default_socket(settings.home, raw)
    limits = limits or _limits(daemon_cfg)
    store = LocalStore(settings.layout, limits=settings.limits)
    ctx = Context(store=store, gc_group=daemon_cfg.get("gc_group") or None,
                  trusted_users=frozenset(daemon_cfg.get("trusted_users") or ()),
                  extra={"settings": settings},
                  quota=Quota(limits.max_incoming_bytes))
    # Locks only the daemon can open: flock works on a read-only descriptor, so a
    # user who could open one could hold it and stop everyone (invariant 7). A store
    # made by an older omg has a 0755 locks/: closing the directory is enough.
    from store.locks import private_dirs

    private_dirs(str(settings.layout.locks))
    os.chmod(settings.layout.locks, 0o700)
    with pid_lock(settings.layout.locks / "omgd.lock"):
        layout = settings.layout
        for directory in (layout.store, layout.staging, layout.links, layout.db):
            directory.mkdir(parents=True, exist_ok=True)
        for directory in (layout.home, layout.store):
            # Readable by every user; writable by the daemon's owner alone.
            with contextlib.suppress(PermissionError):
                os.chmod(directory, 0o755)
        audit = AuditLog(layout.home / "daemon" / "audit.log")  # makes daemon/ 0755
        ctx.incoming.mkdir(mode=0o700, exist_ok=True)
        server = Server(ctx, path, limits=limits, audit=audit)
        removed = _clean_up(ctx, server.log)
        # Open LMDB and its tables once, before threads share them (Index opens
        # tables lazily, which is not safe from several threads at once).
        for table in KNOWN_TABLES:
            store.index.table(table)
        server.listen()
        server.log(f"serving {settings.home} on {path} (pid {os.getpid()}"
                   + (f", removed {len(removed)} staging leftovers" if removed else "") + ")")

        def on_signal(signum: int, frame: object) -> None:
            server.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if ready is not None:
            ready(server)
        try:
            server.serve_forever()
        finally:
            store.close()
            audit.close()
        server.log("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="omgd", description="The omg store daemon.")
    parser.add_argument("--socket", type=Path, help="Unix socket path (default: OMG_SOCKET, "
                        "[daemon] socket, or by mode)")
    parser.add_argument("--foreground", action="store_true",
                        help="accepted for symmetry; omgd always runs in the foreground")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from omg import config

    try:
        return run(config.load(), args.socket)
    except OmgError as exc:
        print(f"omgd: error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"omgd: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
