"""The contract of `roots` (``omg store roots``) and `search` (``omg search``), on both
backends: a user's gc roots as `omg gc` sees them, and repo packages found in a sync
db made by repo-add (the daemon answers from its in-memory index, the local backend
from the home's)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from generations.roots import GcRoot
from omg.backend import Backend
from tests.contract.conftest import Kit
from tests.daemon.test_search import PKGS, make_pkg, repo_add


def test_roots_are_what_gc_keeps_for_this_user(backend: Backend, kit: Kit) -> None:
    assert backend.roots() == []
    added = backend.store_add(kit.tree("tool", "1.0"), "tool", "1.0", keep=True)
    name = added.record.path
    assert backend.roots() == [
        GcRoot("installs/tool@1.0", name, str(kit.store_path(name)))]
    assert backend.gc().dead == []
    assert backend.uninstall(["tool"]).unrooted == ["tool@1.0"]
    assert backend.roots() == []
    assert backend.gc().dead == [name]


@pytest.fixture(scope="module")
def arch_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A pacman.conf whose one repository (``testrepo``) holds `PKGS`."""
    if shutil.which("repo-add") is None:
        pytest.skip("repo-add is not installed (apt-get install pacman-package-manager)")
    base = tmp_path_factory.mktemp("arch")
    (base / "pkgs").mkdir()
    (base / "db" / "sync").mkdir(parents=True)
    (base / "db" / "local").mkdir()
    repo_add(base / "db" / "sync" / "testrepo.db",
             [make_pkg(base / "pkgs", n, v, d) for n, (v, d) in PKGS.items()])
    conf = base / "pacman.conf"
    conf.write_text(f"[options]\nDBPath = {base / 'db'}\n\n[testrepo]\n"
                    f"Server = file://{base}\n")
    yield conf


@pytest.fixture
def extra_config(arch_repo: Path) -> str:
    # No AUR is reachable there: the tests search the repositories only.
    return f'[arch]\npacman_conf = "{arch_repo}"\naur_url = "http://127.0.0.1:9"\n'


def test_search_finds_repo_packages_ranked(backend: Backend, kit: Kit) -> None:
    found = backend.search(["python"], repos_only=True)
    assert [(h.repo, h.name, h.version) for h in found.hits] == [
        ("testrepo", "python", "3.12.1-1"), ("testrepo", "python-repotool", "2.0-1")]
    assert found.warnings == [] and found.hits[0].rank < found.hits[1].rank
    assert [h.name for h in backend.search(["PYTHON", "tool"], repos_only=True).hits] == [
        "python-repotool"]
    # A regular expression (omgd runs none: the client searches it itself).
    assert [h.name for h in backend.search(["^repo"], repos_only=True).hits] == ["repolib"]
    assert backend.search(["nothing-like-it"], repos_only=True).rows == []
    if kit.kind == "daemon":  # omgd answered these (same settings), not a local search
        from omg.arch import daemonsearch
        from omg.arch.settings import from_settings

        settings = from_settings(backend._reads.settings)  # type: ignore[attr-defined]
        answer = daemonsearch.ask(backend.socket, settings,  # type: ignore[attr-defined]
                                  ["python"], repos_only=True, hits=True)
        assert answer is not None and answer["count"] == 2
