"""The contract of `[policy]`: each rule allows, warns or denies, on both backends, and
a denial changes nothing (no download, no store path, no generation).

What makes node 20.10.0 a finding for each rule, from the kit's mirror and caches:
eol: the support data (the node 20 line ended 2026-04-30); outdated: 20.12.0 is in the
mirror's index; unsigned: the mirror has no signature of SHASUMS256.txt; vulnerable:
two real security-wg advisories (`advisories`) in the cache the audit's feeds keep.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from omg.audit.policy import ACTIONS, RULES
from omg.backend import Backend
from tests.contract.conftest import Kit

#: What each rule's line says about node 20.10.0.
SAYS = {"vulnerable": "CVE-2026-21717", "eol": "the node 20 line is end-of-life",
        "outdated": "a newer release of its line exists: 20.12.0",
        "unsigned": "upstream signs it, but its signature was not verified (missing)"}


def policy(rule: str, action: str, more: str = "") -> str:
    """A `[policy]` with `rule` = `action` and every other rule "allow"."""
    rows = [f'{r} = "{action if r == rule else "allow"}"' for r in RULES]
    return "\n[policy]\n" + "\n".join(rows) + "\n" + more


def advisories(home: Path) -> None:
    """security-wg vuln/core/index.json entries 169 (low) and 171 (medium), as the
    audit's node feed keeps them (omg.audit.cache): both hit every 20.x before 20.20.2."""
    from omg.audit import cache
    from omg.audit.cache import Advisory, Summary
    from omg.audit.ranges import npm_range

    fixed = ["20.20.2", "22.22.2", "24.14.1", "25.8.2"]
    affected = npm_range("20.x || 22.x || 24.x || 25.x")
    patched = npm_range("^20.20.2 || ^22.22.2 || ^24.14.1 || ^25.8.2")
    cache.save(home / "cache", "node", Summary("node", "semver", time.time(), [
        Advisory("node", "security-wg:169", ["CVE-2026-21715"], "low", fixed, affected,
                 patched, "Permission Model Bypass in realpathSync.native Allows File "
                          "Existence Disclosure"),
        Advisory("node", "security-wg:171", ["CVE-2026-21717"], "medium", fixed, affected,
                 patched, "HashDoS in V8")]))


def downloads(kit: Kit) -> list[str]:
    d = kit.home / "cache" / "downloads"
    return sorted(os.listdir(d)) if d.is_dir() else []


CASES = [pytest.param(r, a, policy(r, a), id=f"{r}-{a}") for r in RULES for a in ACTIONS]


@pytest.mark.parametrize(("rule", "action", "extra_config"), CASES)
def test_install_follows_each_rule(backend: Backend, kit: Kit, rule: str,
                                   action: str) -> None:
    if rule == "vulnerable":
        advisories(kit.home)
    if action == "deny":
        failure = kit.fails(lambda: backend.install(["node@20.10.0"]))
        assert (failure.kind, failure.exit_code) == ("PolicyDenied", 11)
        assert failure.message.startswith(f"policy {rule} = deny: node@20.10.0: ")
        assert SAYS[rule] in failure.message
        assert failure.hint is not None and f"[policy] {rule}" in failure.hint
        assert backend.store_records() == [] and downloads(kit) == []
        return
    [result] = backend.install(["node@20.10.0"])
    if rule == "unsigned":
        # Whatever the action, one warning: the signature checker's own, which names
        # the signature the mirror lacks ("warn" does not repeat it; "allow" cannot
        # silence it: see [signatures] policy).
        said = [w for w in result.warnings if "signature" in w]
        assert len(said) == 1 and "no signature on this mirror" in said[0], said
        return
    said = [w for w in result.warnings if SAYS[rule] in w]
    assert len(said) == (action == "warn")
    assert all(w.startswith("node 20.10.0: ") for w in said)


@pytest.mark.parametrize(("rule", "extra_config"),
                         [pytest.param(r, policy(r, "deny"), id=r) for r in RULES])
def test_use_sync_and_exec_refuse_before_anything_changes(backend: Backend, kit: Kit,
                                                          rule: str) -> None:
    if rule == "vulnerable":
        advisories(kit.home)
    project = kit.project("p", {".node-version": "20.10.0\n"})
    for call in (lambda: backend.use(["node@20.10.0"]),
                 lambda: backend.sync(project),
                 lambda: backend.exec_env(["node@20.10.0"], pid=os.getpid())):
        failure = kit.fails(call)
        assert (failure.kind, failure.exit_code) == ("PolicyDenied", 11)
        assert SAYS[rule] in failure.message
    assert backend.generations() == [] and backend.store_records() == []
    assert downloads(kit) == []


@pytest.mark.parametrize(("action", "extra_config"),
                         [pytest.param(a, policy("vulnerable", a), id=a) for a in ACTIONS])
def test_use_of_an_installed_version_is_judged_from_the_cache(backend: Backend, kit: Kit,
                                                              action: str) -> None:
    backend.install(["node@20.10.0"])  # nothing cached yet: nothing to judge
    backend.use(["node@22.2.0"])
    before = backend.generations()
    advisories(kit.home)  # `omg audit` fetched the feeds since
    if action == "deny":
        failure = kit.fails(lambda: backend.use(["node@20.10.0"]))
        # The worst of the two is named; the other is counted.
        assert failure.message.startswith("policy vulnerable = deny: node@20.10.0: "
                                          "CVE-2026-21717, security-wg:171 (medium)")
        assert failure.message.endswith("(and 1 more finding denied)")
        assert failure.hint is not None and failure.hint.startswith(
            "omg install node@20.20.2, or set [policy] vulnerable")
        assert backend.generations() == before
        assert [t.version for t in backend.current().tools] == ["22.2.0"]
        return
    used = backend.use(["node@20.10.0"])
    said = [w for w in used.warnings if "CVE-" in w]
    assert said == ([] if action == "allow" else [
        "node 20.10.0: CVE-2026-21715, security-wg:169 (low): Permission Model Bypass in "
        "realpathSync.native Allows File Existence Disclosure; fixed in 20.20.2, 22.22.2, "
        "24.14.1, 25.8.2",
        "node 20.10.0: CVE-2026-21717, security-wg:171 (medium): HashDoS in V8; fixed in "
        "20.20.2, 22.22.2, 24.14.1, 25.8.2"])


@pytest.mark.parametrize("extra_config",
                         [policy("vulnerable", "deny", 'min_severity = "medium"\n')])
def test_min_severity_bounds_what_vulnerable_denies(backend: Backend, kit: Kit) -> None:
    advisories(kit.home)
    failure = kit.fails(lambda: backend.install(["node@20.10.0"]))
    # The low one is not denied: only the medium one is named.
    assert failure.message.startswith("policy vulnerable = deny: node@20.10.0: "
                                      "CVE-2026-21717, security-wg:171 (medium)")
    assert "more finding" not in failure.message
