"""The pure resolver: repo satisfiers, batched AUR info per level, order, cycles, missing."""

from __future__ import annotations

from typing import Any

import pytest

from omg.arch.names import check_name, dep_name, split_target, store_version
from omg.arch.resolve import DependencyCycle, resolve
from store.errors import NotFound, UsageError

AUR = {
    "app": {"Name": "app", "Depends": ["lib>=1", "repo-thing"], "MakeDepends": ["tool"]},
    "lib": {"Name": "lib", "Depends": ["virtual"]},
    "tool": {"Name": "tool"},
    "c1": {"Name": "c1", "Depends": ["c2"]},
    "c2": {"Name": "c2", "Depends": ["c3"]},
    "c3": {"Name": "c3", "Depends": ["c1"]},
    "m": {"Name": "m", "Depends": ["lib", "mm"]},
    "mm": {"Name": "mm", "Depends": ["ghost"]},
}


def lookup(calls: list[list[str]]) -> Any:
    def info(names: list[str]) -> dict[str, dict[str, Any]]:
        calls.append(list(names))
        return {n: AUR[n] for n in names if n in AUR}
    return info


def repo(dep: str) -> bool:
    return dep_name(dep) in {"repo-thing", "virtual"}


def test_order_and_batching() -> None:
    calls: list[list[str]] = []
    plan = resolve(["app"], repo_satisfier=repo, aur_info=lookup(calls))
    names = [i["Name"] for i in plan.order]
    assert names.index("lib") < names.index("app") and names.index("tool") < names.index("app")
    assert names[-1] == "app"
    assert plan.repo_deps == ["repo-thing", "virtual"]
    assert calls == [["app"], ["lib", "tool"]]  # one request per level, not per package


def test_cycle_names_the_chain() -> None:
    with pytest.raises(DependencyCycle, match=r"c1 -> c2 -> c3 -> c1"):
        resolve(["c1"], repo_satisfier=repo, aur_info=lookup([]))


def test_missing_names_the_chain() -> None:
    with pytest.raises(NotFound, match=r"missing dependency ghost \(required by mm <- m\)"):
        resolve(["m"], repo_satisfier=repo, aur_info=lookup([]))


def test_unknown_target() -> None:
    with pytest.raises(NotFound, match="not found in the AUR"):
        resolve(["nope"], repo_satisfier=repo, aur_info=lookup([]))


@pytest.mark.parametrize("bad", ["foo;rm -rf /", "a/b/c", "../x", "$(id)", "Foo", "-x", ""])
def test_bad_names(bad: str) -> None:
    with pytest.raises(UsageError):
        split_target(bad)


def test_names() -> None:
    assert split_target("aur/foo") == ("aur", "foo")
    assert split_target("foo") == (None, "foo")
    assert check_name("lib32-gcc-libs") == "lib32-gcc-libs"
    assert dep_name("foo>=1.2") == "foo" and dep_name("bar: optional thing") == "bar"
    assert store_version("1:2.0-1") == "1_2.0-1"
