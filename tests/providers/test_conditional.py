"""An expired upstream index is revalidated, not re-downloaded: the cache sends the
validators its server gave (ETag, Last-Modified) and a 304 costs no body.

The local mirror answers as a static web server does (tests/providers/mirrors.py);
the cache entry's time is moved back rather than waiting.
"""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from omg import install
from omg.config import Settings
from omg.providers import get
from store.local import LocalStore
from tests.providers.mirrors import MirrorServer


def _age(settings: Settings, path_part: str, seconds: float) -> dict[str, object]:
    store = LocalStore(settings.layout)
    try:
        [(key, value)] = [(k, v) for k, v in store.index.items("upstream")
                          if path_part in k.decode()]
        store.index.put("upstream", key, {**value, "t": time.time() - seconds})
        return dict(value)
    finally:
        store.close()


def _answers(mirror: MirrorServer, since: int, path: str) -> list[int]:
    return [status for p, status in mirror.answers[since:] if p == path]


def test_expired_index_costs_a_304(settings: Settings, mirror: MirrorServer) -> None:
    first = [r.version for r in install.list_remote(settings, "node")]
    cached = _age(settings, "/dist/index.json", get("node").index_ttl + 60)
    assert str(cached["etag"]).startswith('"') and cached["modified"]
    n = len(mirror.answers)
    assert [r.version for r in install.list_remote(settings, "node")] == first
    assert _answers(mirror, n, "/dist/index.json") == [304]
    [(_, inm, _)] = [c for c in mirror.conditions[n:] if c[0] == "/dist/index.json"]
    assert inm == cached["etag"]
    # The 304 restarted the entry's clock: the next listing asks nothing.
    n = len(mirror.answers)
    install.list_remote(settings, "node")
    assert _answers(mirror, n, "/dist/index.json") == []


def test_changed_index_is_read_in_full(settings: Settings, mirror: MirrorServer) -> None:
    install.list_remote(settings, "go")
    _age(settings, "/dl/", get("go").index_ttl + 60)
    index = mirror.root / "dl" / "index.html"
    index.write_text(index.read_text().replace('"go1.22.3"', '"go1.22.4"'))
    n = len(mirror.answers)
    versions = [r.version for r in install.list_remote(settings, "go")]
    assert "1.22.4" in versions and _answers(mirror, n, "/dl/") == [200]


@pytest.mark.parametrize("validator", ["etag", "modified"])
def test_either_validator_is_enough(settings: Settings, mirror: MirrorServer,
                                    validator: str) -> None:
    """A server that gives only Last-Modified (or only an ETag) is revalidated too."""
    body = (mirror.root / "gh/oven-sh/bun/releases").read_bytes()
    stamp = formatdate(1_700_000_000, usegmt=True)

    seen: list[tuple[str, str]] = []

    def route(query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        inm, ims = mirror.conditions[-1][1:]
        seen.append((inm, ims))
        if (validator == "etag" and inm == '"v1"') or (validator == "modified" and ims == stamp):
            return 304, b"", {}
        return 200, body, {"ETag": '"v1"'} if validator == "etag" else {"Last-Modified": stamp}

    mirror.routes["/gh/oven-sh/bun/releases"] = route
    first = [r.version for r in install.list_remote(settings, "bun")]
    _age(settings, "/gh/oven-sh/bun/releases", get("bun").index_ttl + 60)
    assert [r.version for r in install.list_remote(settings, "bun")] == first
    assert seen == [("", ""), ('"v1"', "") if validator == "etag" else ("", stamp)]
    assert [s for p, s in mirror.answers if p == "/gh/oven-sh/bun/releases"] == [200, 304]
