"""The contract of `Backend.lock` and of the lock use cases over a backend
(omg/lock_cases.py): the same on both backends (conftest.py). The kit's Node mirror
builds linux-x64 only, so a lock leaves linux-arm64 out."""

from __future__ import annotations

from omg import lock_cases
from omg import lockfile as L
from omg.backend import Backend
from tests.contract.conftest import Kit

X64 = "linux-x64-gnu"


def _sha(kit: Kit, version: str) -> str:
    import hashlib
    import urllib.request

    url = f"{kit.node_mirror}/v{version}/node-v{version}-linux-x64.tar.xz"
    with urllib.request.urlopen(url) as answer:  # the mirror the backend reads
        return hashlib.sha256(answer.read()).hexdigest()


def test_lock_resolves_every_platform_the_index_offers(backend: Backend, kit: Kit) -> None:
    [tool] = backend.lock(["node@20"], platforms=[X64, "linux-arm64-gnu"])
    url = "https://nodejs.org/dist/v20.12.0/node-v20.12.0-linux-x64.tar.xz"  # not the mirror's
    assert tool == L.Tool("node", "20", "", "20.12.0",
                          [L.Target(X64, [L.Artifact(url, _sha(kit, "20.12.0"))], "")])
    assert backend.store_records() == []  # a lock installs nothing
    [installed] = backend.install(["node@20.12.0"])
    [again] = backend.lock(["node@20"], platforms=[X64])
    assert again.targets[0].store_path == installed.record.path
    # An exact version installed here, for this platform alone: the store answers.
    [offline] = backend.lock(["node@20.12.0"], platforms=[X64], offline=True)
    assert offline.targets == again.targets


def test_lock_refuses_bad_input(backend: Backend, kit: Kit) -> None:
    for specs, platforms, kind in ((["node@>>1"], [X64], "UsageError"),
                                   (["node@20"], ["windows-x64-msvc"], "UsageError"),
                                   (["aur/foo"], [X64], "UsageError"),
                                   (["nosuch@1"], [X64], "NotFound"),
                                   (["node@19.1.0"], [X64], "NotFound")):
        def call(s: list[str] = specs, p: list[str] = platforms) -> object:
            return backend.lock(s, platforms=p)

        failure = kit.fails(call)
        assert failure.kind == kind, (specs, platforms, failure)
    assert backend.store_records() == []


def test_install_lock_installs_exactly_the_lock(backend: Backend, kit: Kit) -> None:
    proj = kit.project("app", {".node-version": "20\n"})
    tools = backend.lock(["node@20.11"], platforms=[X64])
    lock = L.Lock([t._replace(file=".node-version") for t in tools])
    bad = L.Lock([lock.tools[0]._replace(targets=[lock.tools[0].targets[0]._replace(
        artifacts=[L.Artifact("https://example.org/x", "0" * 64)])])])
    failure = kit.fails(lambda: lock_cases.install_lock(backend, proj, bad))
    assert (failure.kind, failure.exit_code) == ("IntegrityError", 5)
    assert failure.message.startswith("node 20.11.1: upstream's sha256 ")
    assert backend.store_records() == [] and backend.generations(project=proj) == []
    used = lock_cases.install_lock(backend, proj, lock)
    assert [(t.tool, t.version) for t in used.tools] == [("node", "20.11.1")]
    status = lock_cases.status(backend, proj)
    assert status.drift == []  # no lock file written: the files against the profile


def test_a_lock_names_the_aur_packages_of_the_project_profile(backend: Backend,
                                                              kit: Kit) -> None:
    proj = kit.project("app", {".node-version": "20.11\n"})
    yay = backend.store_add(kit.tree("yay", "12.0-1", ("yay",)), "yay", "12.0-1",
                            origin={"kind": "aur", "pkgbase": "yay", "version": "12.0-1"}).record
    backend.use(["yay@12.0-1"], project=proj, write_version_files=False)
    result = lock_cases.lock(backend, proj, platforms=[X64])
    assert result.changed and result.path == str(proj / "omg.lock")
    assert result.lock.packages == [L.Package("yay", "12.0-1", yay.path)]
    assert L.loads((proj / "omg.lock").read_text()) == result.lock
    # The profile holds yay, as the lock says: no drift but node, not installed yet.
    assert [(d.tool, d.kind, d.where) for d in lock_cases.status(backend, proj).drift] == [
        ("node", "missing", "profile")]
    used = lock_cases.install_lock(backend, proj, result.lock)
    assert {(t.tool, t.version) for t in used.tools} == {("node", "20.11.1"),
                                                         ("yay", "12.0-1")}
    assert not any("AUR package" in w for w in used.warnings)
    assert lock_cases.status(backend, proj).drift == []
    gone = result.lock._replace(packages=[L.Package("nosuch", "1-1", "x" * 32 + "-nosuch-1-1")])
    warned = lock_cases.install_lock(backend, proj, gone)
    assert any(w.startswith("omg.lock: AUR package nosuch 1-1") for w in warned.warnings)


def test_status_names_a_tool_the_profile_has_and_the_lock_lacks(backend: Backend,
                                                                 kit: Kit) -> None:
    proj = kit.project("app", {".node-version": "20.11\n"})
    tools = backend.lock(["node@20.11"], platforms=[X64])
    lock_cases.install_lock(backend, proj, L.Lock([t._replace(file=".node-version")
                                                   for t in tools]))
    (proj / "omg.lock").write_text(L.dumps(L.Lock([t._replace(file=".node-version")
                                                   for t in tools])))
    assert lock_cases.status(backend, proj).drift == []
    backend.store_add(kit.tree("app", "1.0", ("app",)), "app", "1.0")
    backend.use(["app@1.0"], project=proj, write_version_files=False)
    assert lock_cases.status(backend, proj).drift == [
        lock_cases.Drift("app", "extra", "profile", "", "", "1.0")]
