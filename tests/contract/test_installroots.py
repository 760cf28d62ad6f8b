"""The contract of install roots (generations/installroots.py), on both backends:
`omg install` keeps what it installed through `omg gc` until `omg uninstall
TOOL[@VERSION]`, after which gc frees what no generation holds."""

from __future__ import annotations

from omg.backend import Backend
from omg.profiles import UninstallResult
from tests.contract.conftest import Failure, Kit


def _kept(backend: Backend) -> dict[str, bool]:
    return {r.version: r.kept for r in backend.installed("node")}


def test_gc_keeps_what_install_installed_until_it_is_uninstalled(backend: Backend,
                                                                 kit: Kit) -> None:
    [old, new] = backend.install(["node@18", "node@22"])
    assert _kept(backend) == {"18.19.0": True, "22.2.0": True}
    assert backend.gc().dead == [] and old.store_path.is_dir()
    assert backend.uninstall(["node@18"]) == UninstallResult(
        "default", None, "", [], ["node@18.19.0"])
    assert _kept(backend) == {"18.19.0": False, "22.2.0": True}
    assert backend.generations() == []  # no profile held node: none was made
    assert backend.gc().dead == [old.record.path]
    assert not old.store_path.exists() and new.store_path.is_dir()
    # Installing what is there already roots it again.
    [again] = backend.install(["node@22.2.0"])
    assert (again.created, _kept(backend)) == (False, {"22.2.0": True})
    assert backend.uninstall(["node"]).unrooted == ["node@22.2.0"]
    assert backend.gc().dead == [new.record.path]
    assert backend.installed() == []


def test_older_generations_keep_an_uninstalled_tool_until_deleted(backend: Backend,
                                                                  kit: Kit) -> None:
    [node] = backend.install(["node@22"])
    used = backend.use(["node@22"])
    gone = backend.uninstall(["node"])
    assert gone == UninstallResult("default", 2, gone.env, ["node@22.2.0"], ["node@22.2.0"])
    assert backend.current().tools == []
    assert backend.gc().dead == []  # generation 1 still links it
    assert node.store_path.is_dir()
    backend.delete_generations([1])
    assert sorted(backend.gc().dead) == sorted([node.record.path, used.env])
    assert backend.installed() == []


def test_uninstall_of_a_version_drops_that_root_alone(backend: Backend, kit: Kit) -> None:
    backend.install(["node@20.10", "node@22"])
    backend.use(["node@22"])
    # node@20 is installed but not in the profile: the profile is left as it is.
    gone = backend.uninstall(["node@20"])
    assert (gone.generation, gone.removed, gone.unrooted) == (None, [], ["node@20.10.0"])
    assert [g.number for g in backend.generations()] == [1]
    assert _kept(backend) == {"20.10.0": False, "22.2.0": True}


def test_uninstall_of_nothing_installed_changes_nothing(backend: Backend, kit: Kit) -> None:
    backend.install(["node@22"])
    assert kit.fails(lambda: backend.uninstall(["node@18"])) == Failure(
        "NotFound", "node@18 is neither installed nor in default (it holds nothing)",
        "omg list", 3)
    # One spec that matches nothing fails the whole command: nothing is unrooted.
    assert kit.fails(lambda: backend.uninstall(["node", "go"])).exit_code == 3
    assert kit.fails(lambda: backend.uninstall(["node@>>1"])).exit_code == 2
    assert kit.fails(lambda: backend.uninstall(["../node"])).exit_code == 2
    assert _kept(backend) == {"22.2.0": True}
    assert backend.gc().dead == []


def test_an_addition_kept_as_installed_survives_gc_until_uninstalled(backend: Backend,
                                                                      kit: Kit) -> None:
    # `omg import` adds with keep=True: what another manager installed stays.
    kept = backend.store_add(kit.tree("tool", "1.0"), "tool", "1.0", keep=True)
    loose = backend.store_add(kit.tree("tool", "2.0"), "tool", "2.0")
    assert backend.gc().dead == [loose.record.path]
    assert kit.store_path(kept.record.path).is_dir()
    assert backend.uninstall(["tool@1.0"]).unrooted == ["tool@1.0"]
    assert backend.gc().dead == [kept.record.path]
