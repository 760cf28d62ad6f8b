"""Each upstream index expires after its provider's `index_ttl`, unless the user sets one.

The cache entry's time is moved back (the LMDB ``upstream`` table holds
``{"t", "body"}``) rather than waiting; requests are counted at the mirror.
"""

from __future__ import annotations

import time

import pytest

from omg import install
from omg.config import Settings
from omg.providers import get
from store.local import LocalStore
from tests.providers.mirrors import MirrorServer


def _age(settings: Settings, path_part: str, seconds: float) -> int:
    """Make every cached upstream document whose URL holds `path_part` `seconds` old."""
    store = LocalStore(settings.layout)
    try:
        entries = [(k, v) for k, v in store.index.items("upstream") if path_part in k.decode()]
        for key, value in entries:
            store.index.put("upstream", key, {**value, "t": time.time() - seconds})
        return len(entries)
    finally:
        store.close()


def _fetched(mirror: MirrorServer, since: int, path_part: str) -> int:
    return sum(1 for path, _ in mirror.requests[since:] if path_part in path)


@pytest.mark.parametrize(("tool", "doc"), [("node", "index.json"),
                                           ("rust", "channel-rust-stable.toml")])
def test_index_refetched_only_once_older_than_the_providers_ttl(
        settings: Settings, mirror: MirrorServer, tool: str, doc: str) -> None:
    ttl = get(tool).index_ttl
    install.list_remote(settings, tool)
    assert _age(settings, doc, ttl - 60) == 1
    n = len(mirror.requests)
    install.list_remote(settings, tool)
    assert _fetched(mirror, n, doc) == 0  # still fresh for this provider
    _age(settings, doc, ttl + 60)
    n = len(mirror.requests)
    install.list_remote(settings, tool)
    assert _fetched(mirror, n, doc) == 1  # expired: read again, and cached anew
    n = len(mirror.requests)
    install.list_remote(settings, tool)
    assert _fetched(mirror, n, doc) == 0


def test_providers_keep_their_indexes_for_different_times(settings: Settings,
                                                          mirror: MirrorServer) -> None:
    """Two hours old: Node's index (an hour) is stale, Rust's manifest (six) is not."""
    assert get("node").index_ttl < 2 * 3600 < get("rust").index_ttl
    install.list_remote(settings, "node")
    install.list_remote(settings, "rust")
    _age(settings, "/", 2 * 3600)
    n = len(mirror.requests)
    install.list_remote(settings, "node")
    install.list_remote(settings, "rust")
    assert _fetched(mirror, n, "index.json") == 1
    assert _fetched(mirror, n, "channel-rust") == 0


def test_user_setting_overrides_every_provider(settings: Settings, mirror: MirrorServer,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    install.list_remote(settings, "rust")
    _age(settings, "channel-rust", 120)
    monkeypatch.setenv("OMG_INDEX_TTL", "60")
    n = len(mirror.requests)
    install.list_remote(settings, "rust")
    assert _fetched(mirror, n, "channel-rust") == 1


def test_bad_user_setting_is_a_usage_error(settings: Settings,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from store.errors import UsageError

    monkeypatch.setenv("OMG_INDEX_TTL", "soon")
    with pytest.raises(UsageError, match="index_ttl"):
        install.list_remote(settings, "node")
