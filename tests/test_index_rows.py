"""Every reader of an LMDB table checks what msgpack gave back before trusting it.

A row of the wrong shape (another omg's bug, a hand edit, a damaged page that still
unpacks) is an `IntegrityError` naming the repair: never an internal error, and never
a record built of whatever the row held.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from omg.arch import aur
from omg.arch.resolve import resolve
from omg.providers.base import CachedFetcher
from store.errors import IntegrityError, NetworkError
from store.index import Index
from store.local import LocalStore
from tests.conftest import OmgEnv
from tests.store.builders import SAMPLE, write_tar


def _added(tmp_path: Path, store: LocalStore) -> str:
    return store.add(write_tar(tmp_path / "pkg.tar.gz", SAMPLE, "gz"), "pkg", "1.0").record.path


@pytest.fixture
def store(omg_env: OmgEnv) -> LocalStore:
    return omg_env.store()


@pytest.mark.parametrize(("field", "value"), [
    ("size", "big"), ("references", [7]), ("origin", ["not", "a", "map"]), ("name", None),
    ("created", True),
])
def test_a_paths_row_of_the_wrong_type_is_an_integrity_error(
        tmp_path: Path, omg_env: OmgEnv, store: LocalStore, field: str, value: object) -> None:
    name = _added(tmp_path, store)
    row = store.index.get("paths", name.encode())
    assert isinstance(row, dict)
    store.index.put("paths", name.encode(), {**row, field: value})
    store.close()
    with pytest.raises(IntegrityError, match=f"malformed store path record: {field}"):
        omg_env.store().get(name)
    proc = omg_env.run("store", "info", name)
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.startswith(f"error: malformed store path record: {field}")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("tree", [[1, 2], "files", [["bin", "d", "", "0"]], [["a", "f", "0"]]])
def test_a_pathfiles_row_not_of_tree_entries_is_an_integrity_error(
        tmp_path: Path, store: LocalStore, tree: object) -> None:
    name = _added(tmp_path, store)
    store.index.put("pathfiles", name.encode(), tree)
    with pytest.raises(IntegrityError, match=f"malformed index row pathfiles/{name}") as exc:
        store.entries(name)
    assert exc.value.hint == "run `omg doctor --repair`"


def test_a_malformed_upstream_row_is_fetched_again(tmp_path: Path) -> None:
    """The upstream table is a cache: a row of the wrong shape is a miss, refetched and
    replaced, never trusted and never a reason to repair."""
    from omg.net import Document

    url = "https://example.invalid/index.json"
    with Index(tmp_path / "db") as index:
        index.put("upstream", url.encode(), {"t": "yesterday", "body": "not bytes"})
        asked: list[str] = []

        def network(u: str, var: str, etag: str, modified: str) -> Document:
            asked.append(u)
            return Document(b"[]")

        fetch = CachedFetcher(index, network, offline=lambda: False)
        assert fetch(url, "OMG_NODE_MIRROR", 3600.0).body == b"[]"
        assert asked == [url]
        assert fetch(url, "OMG_NODE_MIRROR", 3600.0).body == b"[]"  # a good row: cached
        assert asked == [url]


@pytest.mark.parametrize("row", [["t", "r"], {"t": 1e18}, {"t": 1e18, "r": {"Name": 7}},
                                 {"t": None, "r": None}])
def test_a_malformed_aur_row_is_an_integrity_error(tmp_path: Path, row: object) -> None:
    with Index(tmp_path / "db") as index:
        index.put(aur.TABLE, b"info:pkg", row)
        with pytest.raises(IntegrityError, match="malformed index row aur/info:pkg"):
            aur.info("https://aur.invalid", ["pkg"], index=index, fetch=False)


def test_aur_depends_that_are_not_a_list_are_refused() -> None:
    infos = {"app": {"Name": "app", "Depends": "libfoo"}}
    with pytest.raises(NetworkError, match="AUR answer for app: Depends is not a list"):
        resolve(["app"], repo_satisfier=lambda dep: True,
                aur_info=lambda names: {n: infos[n] for n in names})
