"""The contract of the runtime methods: install, releases, outdated, installed; the
same on both backends (conftest.py). The Node mirror serves NODE_VERSIONS."""

from __future__ import annotations

from omg.backend import Backend
from omg.install import InstalledVersion, InstallResult, Outdated, RemoteVersion
from omg.profiles import ResolvedTool
from tests.contract.conftest import Failure, Kit
from tests.providers.mirrors import NODE_VERSIONS, supported

#: What Node's record says its profile env sets (a placeholder for the user's prefix).
NPM_ENV = (("NPM_CONFIG_PREFIX", "@prefix@/npm/18"),)  # per node major (its addon ABI)


def test_install_adds_a_runtime_without_touching_a_profile(backend: Backend, kit: Kit) -> None:
    [result] = backend.install(["node@20.11"])
    assert isinstance(result, InstallResult)
    record = result.record
    assert (result.tool, result.version, result.created) == ("node", "20.11.1", True)
    assert result.store_path == kit.store_path(record.path)
    assert (record.name, record.version, record.files) == ("node", "20.11.1", 4)
    assert result.urls == (f"{kit.node_mirror}/v20.11.1/node-v20.11.1-linux-x64.tar.xz",)
    # End-of-life warnings depend on today's date; the transcript holds both backends to
    # the same ones.
    # The kit's mirror carries no signature of SHASUMS256.txt: one warning says so (the
    # default policy, when-available), and the record says the path is unverified.
    signature = [w for w in result.warnings if "no signature on this mirror" in w]
    assert len(signature) == 1 and signature[0].endswith("not verified (sha256 only)")
    assert isinstance(result.warnings, tuple) and all(
        "node 20" in w for w in result.warnings if w not in signature)
    checked = (record.origin or {}).get("signature")
    assert isinstance(checked, dict) and checked.get("status") == "missing"
    assert (result.store_path / "bin" / "node").is_file()
    assert backend.generations() == []
    # Installed already: the same store path, nothing fetched.
    [again] = backend.install(["node@20.11.1"])
    assert (again.store_path, again.created, again.urls) == (result.store_path, False, ())
    assert backend.install([]) == []


def test_install_then_use_resolves_from_the_store(backend: Backend, kit: Kit) -> None:
    [node] = backend.install(["node@18"])
    used = backend.use(["node@18"])
    assert used.tools == [ResolvedTool("node", "18.19.0", node.record.path, NPM_ENV)]
    assert node.record.origin is not None and node.record.origin["env"] == dict(NPM_ENV)


def test_install_refuses_unknown_versions_tools_and_malformed_specs(backend: Backend,
                                                                    kit: Kit) -> None:
    failure = kit.fails(lambda: backend.install(["node@19.1.0"]))
    assert (failure.kind, failure.exit_code) == ("NotFound", 3)
    assert kit.fails(lambda: backend.install(["nosuch@1"])) == Failure(
        "NotFound", "unknown tool 'nosuch'", failure_hint(), 3)
    failure = kit.fails(lambda: backend.install(["node@>>1"]))
    assert (failure.kind, failure.exit_code) == ("UsageError", 2)
    assert backend.installed() == [] and backend.store_records() == []


def failure_hint() -> str:
    from omg.providers import TOOLS

    return f"omg knows {', '.join(TOOLS)}"


def test_releases_lists_the_mirror_newest_first(backend: Backend, kit: Kit) -> None:
    listed = backend.releases("node")
    assert all(isinstance(r, RemoteVersion) for r in listed)
    assert [(r.tool, r.version, r.date, r.lts, r.security, r.installed, r.stale)
            for r in listed] == [
        ("node", v, date, lts or "", security, False, False)
        for v, lts, security, date in NODE_VERSIONS]
    backend.install(["node@20.10.0"])
    assert [r.version for r in backend.releases("node") if r.installed] == ["20.10.0"]
    assert kit.fails(lambda: backend.releases("nosuch")) == Failure(
        "NotFound", "unknown tool 'nosuch'", failure_hint(), 3)


def test_outdated_names_newer_patches_and_releases(backend: Backend, kit: Kit) -> None:
    assert backend.outdated() == []
    backend.install(["node@20.10.0", "node@22.2.0"])
    # Node 20 ended 2026-04-30 (the support data); 20.11.1 above it is a security release.
    latest = "22.2.0" if supported("node", "22.2.0") else "20.10.0"  # none newer: itself
    assert backend.outdated() == [Outdated("node", "20.10.0", "20.12.0", latest, True,
                                           "2026-04-30", "Iron", True)]
    assert backend.outdated(["nodejs"]) == backend.outdated()  # an alias of node
    assert backend.outdated(["go"]) == []


def test_releases_carry_the_support_data(backend: Backend, kit: Kit) -> None:
    rows = {r.version: r for r in backend.releases("node")}
    assert (rows["18.19.0"].eol, rows["18.19.0"].eol_from) == (True, "2025-04-30")
    assert (rows["20.10.0"].eol, rows["20.10.0"].eol_from) == (True, "2026-04-30")
    assert rows["22.2.0"].eol is not supported("node", "22.2.0")


def test_installed_lists_the_runtimes_this_user_may_use(backend: Backend, kit: Kit) -> None:
    assert backend.installed() == []
    backend.install(["node@22", "node@18.19.0"])
    backend.store_add(kit.tree("tool", "1.0"), "tool", "1.0")  # not a runtime omg knows
    rows = backend.installed()
    assert all(isinstance(r, InstalledVersion) for r in rows)
    assert [(r.tool, r.version) for r in rows] == [("node", "18.19.0"), ("node", "22.2.0")]
    assert all(r.store_path.parent == kit.home / "store" and r.size > 0 for r in rows)
    assert backend.installed("node") == rows and backend.installed("go") == []


def test_use_offline_of_a_version_never_fetched_is_a_network_error(backend: Backend,
                                                                   kit: Kit) -> None:
    failure = kit.fails(lambda: backend.use(["node@20.10.0"], offline=True))
    assert failure.exit_code == 6 and failure.kind == "NetworkError"
    assert backend.installed() == []



def test_use_warns_of_an_ended_line_whoever_serves_it(backend: Backend, kit: Kit) -> None:
    ended = "node 20.10.0: the node 20 line is end-of-life since 2026-04-30"
    first = backend.use(["node@20.10.0"])  # installs: what the install said
    assert any(w.startswith(ended) for w in first.warnings)
    assert any("security release above it" in w for w in first.warnings)
    backend.use(["node@22.2.0"])
    again = backend.use(["node@20.10.0"])  # installed: from the cached support data
    assert [w for w in again.warnings if "end-of-life" in w] == [
        w for w in first.warnings if w.startswith(ended)]
