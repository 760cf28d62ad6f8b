"""Hosts that did not answer, remembered for a short time, so that offline each command
fails (or falls back) at once instead of waiting for its timeouts again.

A failed connection (refused, timed out, a name that does not resolve) writes
``$XDG_CACHE_HOME/omg/unreachable/<host>``: when it was seen and until when it is
believed (``[network] unreachable_ttl``, variable ``OMG_NET_UNREACHABLE_TTL``,
default 60 s, 0 turns it off). Before connecting, the downloader and the AUR client
ask `seen`; any answer from the host removes the file. Through a proxy (HTTPS_PROXY,
HTTP_PROXY, ALL_PROXY, not bypassed by NO_PROXY) a failed connection is the proxy's,
so the proxy is what is remembered: a mirror is not believed down for a proxy's
fault, and another proxy is tried at once. Only `os` and `time` here (urllib only
when a proxy variable is set): `omg search` asks on its fast path.
"""

from __future__ import annotations

import os
import time

DEFAULT_TTL = 60.0
VARIABLE = "OMG_NET_UNREACHABLE_TTL"
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_:[]")


def host_of(url: str) -> str:
    """The host (and port) of `url`, lower-cased; "" when it has none fit for a file name."""
    rest = url.partition("://")[2]
    host = rest.split("/", 1)[0].rpartition("@")[2].lower()
    return host if host and set(host) <= _HOST_CHARS and host not in (".", "..") else ""


_PROXY_VARIABLES = ("https_proxy", "http_proxy", "all_proxy",
                    "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")


def proxy_for(url: str) -> str:
    """The proxy the environment sets for `url` (httpx honours the same variables)."""
    if not any(os.environ.get(v) for v in _PROXY_VARIABLES):
        return ""
    import urllib.request

    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rpartition("@")[2]
    if urllib.request.proxy_bypass(host.split(":")[0]):
        return ""
    proxies = urllib.request.getproxies_environment()
    return proxies.get(scheme.lower()) or proxies.get("all") or ""


def shown_proxy(proxy: str) -> str:
    """`proxy` without its user and password, for messages."""
    scheme, sep, rest = proxy.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme}{sep}{host.rpartition('@')[2]}{slash}{path}" if sep else proxy


def _reached(url: str) -> str:
    """What a connection for `url` reaches first: its proxy, or its own host."""
    return proxy_for(url) or url


def down_name(url: str) -> str:
    """Who did not answer, for messages: the proxy, or `url`'s host."""
    proxy = proxy_for(url)
    return f"the proxy {shown_proxy(proxy)}" if proxy else host_of(url)


def _path(host: str) -> str:
    from omg.locate import user_cache

    return f"{user_cache()}/unreachable/{host}"


def configured_ttl() -> float:
    """The setting; read only when a host has just failed, so its cost does not matter."""
    text = os.environ.get(VARIABLE)
    if text:
        return float(text)
    from omg import config

    value = config.load().raw.get("network", {}).get("unreachable_ttl")
    return DEFAULT_TTL if value is None else float(value)


def remember(url: str, ttl: float | None = None) -> None:
    """`url`'s host (or proxy) did not answer: believe it for `ttl` seconds (the setting
    if None)."""
    host = host_of(_reached(url))
    if not host:
        return
    try:
        ttl = configured_ttl() if ttl is None else ttl
    except Exception:  # a bad setting is reported by the command itself, not here
        ttl = DEFAULT_TTL
    if ttl <= 0:
        return
    now = time.time()
    try:
        path = _path(host)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{now} {now + ttl}\n")
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache: the next command waits for its own timeout


def seen(url: str) -> float | None:
    """Seconds since `url`'s host (or proxy) was found unreachable, while that is
    believed; else None."""
    host = host_of(_reached(url))
    if not host:
        return None
    try:
        with open(_path(host)) as f:
            when, until = (float(x) for x in f.read().split())
    except (OSError, ValueError):
        return None
    now = time.time()
    return now - when if when <= now < until else None


def forget(url: str) -> None:
    """The host (or proxy) answered."""
    host = host_of(_reached(url))
    if host:
        from store.fsutil import unlink_quietly

        unlink_quietly(_path(host))
