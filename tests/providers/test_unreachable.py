"""Offline: a host that did not answer is remembered (omg/unreachable.py), a name that
does not resolve is not retried, and a dead proxy is named. (`omg search` with the AUR
down: tests/arch/test_search_fast.py.)"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from omg import net, unreachable
from store.errors import NetworkError


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(unreachable.VARIABLE, raising=False)
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy",
                "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture
def silent() -> Iterator[tuple[str, list[int]]]:
    """A server that accepts connections and never answers; the count of connections."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[int] = []
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(1)
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def test_a_host_that_timed_out_is_not_asked_again_for_a_while(
        cache: Path, silent: tuple[str, list[int]]) -> None:
    url, accepted = silent
    opts = net.NetOptions(retries=1, backoff=0.0, timeout=0.3)
    with pytest.raises(NetworkError, match="timed out"):
        net.fetch(f"{url}/index.json", mirror_var="OMG_NODE_MIRROR", opts=opts)
    assert len(accepted) == 2  # the first try and one retry
    with pytest.raises(NetworkError, match=r"did not answer \d+ s ago; not trying again") as e:
        net.fetch(f"{url}/other.json", mirror_var="OMG_NODE_MIRROR", opts=opts)
    assert "OMG_NET_UNREACHABLE_TTL=0" in (e.value.hint or "")
    assert len(accepted) == 2  # not asked: the same host, remembered
    assert unreachable.seen(url) is not None
    unreachable.forget(url)
    with pytest.raises(NetworkError, match="timed out"):
        net.fetch(f"{url}/index.json", mirror_var="OMG_NODE_MIRROR", opts=opts)
    assert len(accepted) == 4


def test_the_setting_decides_how_long(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(unreachable.VARIABLE, "0")
    unreachable.remember("http://example.test:8080/x")
    assert unreachable.seen("http://example.test:8080/y") is None  # 0: off
    monkeypatch.setenv(unreachable.VARIABLE, "100")
    unreachable.remember("http://example.test:8080/x")
    ago = unreachable.seen("http://EXAMPLE.test:8080/")
    assert ago is not None and 0 <= ago < 5
    assert unreachable.seen("http://example.test:8081/") is None  # another port
    unreachable.remember("https://user@example.test:8080/x", ttl=-1)
    assert unreachable.seen("http://example.test:8080/") is not None  # kept the first
    (cache / "omg" / "unreachable" / "example.test:8080").write_text(
        f"{time.time() - 200} {time.time() - 100}\n")
    assert unreachable.seen("http://example.test:8080/") is None  # expired
    assert unreachable.host_of("http://../x") == "" and unreachable.host_of("nourl") == ""


def test_a_name_that_does_not_resolve_is_not_retried(cache: Path) -> None:
    calls: list[int] = []

    def attempt() -> bytes:
        calls.append(1)
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError("[Errno -2] Name or service not known") from exc

    opts = net.NetOptions(retries=3, backoff=0.0)
    with pytest.raises(NetworkError, match="cannot resolve the host name"):
        net._retrying("https://nodejs.invalid/dist/index.json", "OMG_NODE_MIRROR", opts,
                      attempt)
    assert calls == [1]
    assert unreachable.seen("https://nodejs.invalid/") is not None


def test_a_dead_proxy_is_named(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port, port2 = socket.socket(), socket.socket()
    port.bind(("127.0.0.1", 0))
    port2.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{port.getsockname()[1]}"  # bound, not listening: refused
    try:
        monkeypatch.setenv("HTTP_PROXY", dead)
        opts = net.NetOptions(retries=0, backoff=0.0, timeout=2)
        with pytest.raises(NetworkError, match="through the proxy " + dead) as e:
            net.fetch("http://mirror.test/dist/index.json", mirror_var="OMG_NODE_MIRROR",
                      opts=opts)
        assert "HTTPS_PROXY" in (e.value.hint or "")
        # The proxy is what did not answer: the next command names it, not the mirror...
        with pytest.raises(NetworkError, match=f"the proxy {dead} did not answer") as again:
            net.fetch("http://other.test/x", mirror_var="OMG_NODE_MIRROR", opts=opts)
        assert "HTTPS_PROXY" in (again.value.hint or "")
        assert unreachable.seen("http://mirror.test/") is not None
        # ...and without it (another proxy, or none) the mirror is tried at once.
        monkeypatch.setenv("HTTP_PROXY", f"http://user:secret@127.0.0.1:{port2.getsockname()[1]}")
        assert unreachable.seen("http://mirror.test/") is None
        with pytest.raises(NetworkError, match="through the proxy http://127") as other:
            net.fetch("http://mirror.test/dist/index.json", mirror_var="OMG_NODE_MIRROR",
                      opts=opts)
        assert "secret" not in other.value.message  # a proxy's password is not shown
        monkeypatch.setenv("HTTP_PROXY", dead)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        with pytest.raises(NetworkError) as direct:
            net.fetch(f"{dead}/x", mirror_var="OMG_NODE_MIRROR", opts=opts)
        assert "proxy" not in direct.value.message
    finally:
        port.close()
        port2.close()
