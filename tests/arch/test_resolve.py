"""The pure resolver: repo satisfiers, batched AUR info per level, order, cycles, missing."""

from __future__ import annotations

from typing import Any

import pytest

from omg.arch.names import check_name, dep_name, split_target, store_version
from omg.arch.resolve import DependencyCycle, resolve
from store.errors import NotFound, UsageError

AUR: dict[str, dict[str, Any]] = {
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


PROVIDING: dict[str, dict[str, Any]] = {
    "app": {"Name": "app", "Depends": ["libfoo>=2", "tool"]},
    "tool": {"Name": "tool", "Depends": ["libfoo"], "Conflicts": ["tool-git"],
             "Replaces": ["oldtool"]},
    "foo-old": {"Name": "foo-old", "Version": "1.0-1", "Provides": ["libfoo=1.5"],
                "NumVotes": 900},
    "foo-new": {"Name": "foo-new", "Version": "1.0-1", "Provides": ["libfoo=2.1"],
                "NumVotes": 10},
    "foo-git": {"Name": "foo-git", "Version": "r5-1", "Provides": ["libfoo=2.3"],
                "NumVotes": 50},
    "foo-bare": {"Name": "foo-bare", "Version": "9-1", "Provides": ["libfoo"],
                 "NumVotes": 5000},
}


def _vercmp(a: str, b: str) -> int:
    from omg.arch.alpm import vercmp

    return vercmp(a, b)


def test_a_dependency_only_provided_is_resolved_like_yay() -> None:
    """No package is named libfoo: the providers are searched; the version constraint
    rules out foo-old (1.5) and the unversioned foo-bare; of the rest, the most votes
    (foo-git) wins, and every edge to libfoo leads to it."""
    searched: list[str] = []

    def provides(name: str) -> list[str]:
        searched.append(name)
        return sorted(n for n, i in PROVIDING.items()
                      if any(p.split("=")[0] == name for p in i.get("Provides", [])))

    def info(names: list[str]) -> dict[str, Any]:
        return {n: PROVIDING[n] for n in names if n in PROVIDING}

    plan = resolve(["app"], repo_satisfier=lambda d: False, aur_info=info,
                   aur_provides=provides, vercmp=_vercmp)
    assert [i["Name"] for i in plan.order] == ["foo-git", "tool", "app"]
    assert plan.providers == {"libfoo": "foo-git"}
    assert plan.runtime_deps["app"] == ["foo-git", "tool"]
    assert plan.runtime_deps["tool"] == ["foo-git"]
    assert searched == ["libfoo"]
    assert any(n.startswith("libfoo>=2 is provided by foo-git") for n in plan.notes)
    assert "tool conflicts with tool-git" in plan.notes
    assert "tool replaces oldtool" in plan.notes


def test_no_provider_fits_the_version() -> None:
    aur = {**PROVIDING, "app": {"Name": "app", "Depends": ["libfoo>=3"]}}
    with pytest.raises(NotFound, match=r"missing dependency libfoo>=3 \(required by app\)"):
        resolve(["app"], repo_satisfier=lambda d: False,
                aur_info=lambda ns: {n: aur[n] for n in ns if n in aur},
                aur_provides=lambda n: ["foo-old", "foo-new", "foo-git", "foo-bare"],
                vercmp=_vercmp)
