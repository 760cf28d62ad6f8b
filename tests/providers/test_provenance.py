"""`install` means "from a trusted source": a user's own `store add` under a runtime's name
never counts as that runtime installed, and its content gains the upstream claim once the
real download turns out to be the same bytes (store.claims)."""

from __future__ import annotations

from pathlib import Path

from omg import install
from omg.config import Settings
from store.claims import resolvable
from store.local import LocalStore


def _fake(tmp: Path) -> Path:
    src = tmp / "fake-node"
    (src / "bin").mkdir(parents=True)
    (src / "bin" / "node").write_text("#!/bin/sh\necho fake\n")
    return src


def test_a_store_add_under_a_runtimes_name_is_not_an_install(settings: Settings,
                                                            tmp_path: Path) -> None:
    store = LocalStore(settings.layout, user="someone")  # not root: root is trusted
    try:
        fake = store.add(_fake(tmp_path), "node", "20.12.0").record.path
    finally:
        store.close()
    [r] = install.install(settings, ["node@20.12.0"])
    assert r.created and r.store_path.name != fake
    assert "v20.12.0" in (r.store_path / "bin" / "node").read_text()
    store_dir = str(settings.layout.store)
    assert resolvable(store_dir, r.store_path.name, None)  # trusted: everyone's node
    assert not resolvable(store_dir, fake, None)
    [again] = install.install(settings, ["node@20"])  # the trusted one, not the fake
    assert again.store_path == r.store_path and not again.created


def test_the_same_bytes_from_upstream_gain_the_upstream_claim(settings: Settings,
                                                             tmp_path: Path) -> None:
    [first] = install.install(settings, ["node@20.12.0"])
    store = LocalStore(settings.layout, user="someone")
    try:
        # Someone adds exactly upstream's tree: one store path, two claims.
        same = store.add(first.store_path, "node", "20.12.0")
        assert same.record.path == first.store_path.name and not same.created
        kinds = [(c["scope"], c["kind"]) for c in store.claims(same.record.path)]
    finally:
        store.close()
    assert kinds == [("trusted", "upstream"), ("user", "add")]
