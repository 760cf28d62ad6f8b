"""The contract suite's fixtures: one `Backend` per test, local or through a real omgd.

`backend` is parametrized: ``local`` is a `LocalBackend` on a fresh OMG_HOME owned by
the test's user; ``daemon`` is a `DaemonBackend` talking to an omgd that serves a fresh
OMG_HOME owned by the same user (no root needed: the user is omgd's owner). Both
homes' settings point at one local Node mirror (`tests.providers.mirrors`), the
daemon's through ITS OWN environment (``OMG_NODE_MIRROR``): the client's process has
no mirror set while the daemon backend runs, so a download made client-side would
fail rather than pass unnoticed.

omgd runs as a subprocess, not in a thread of the test process. An in-process
`omg.daemon.server.Server` holds the home's LMDB index open, and a `DaemonBackend`
reads the home's files directly through a read-only `LocalBackend`, which opens
that same index for `installed`, `store_records`, `store_info` and `resolve_name`;
py-lmdb refuses a second open environment on one path in a process ("The environment
... is already open in this process"), and LMDB forbids it anyway (closing one
would drop the other's locks). Sharing the server's store with the client would
test something no user runs. A subprocess costs ~0.1 s to start (tests/daemon's
`Daemon`), and each test's daemon is stopped with SIGTERM and must exit 0.

Every call a test makes goes through `Recording`, which writes a transcript (method,
arguments, result or error: class, message, hint, exit code), normalised where the
backends must differ: the test's directory (each run has its own home), generation
and record times, and the ``added_by`` note omgd adds to every origin
(docs/protocol.md, `store.add`). When a test passed on both backends, their
transcripts must be equal: the same results, store path names and errors, call for
call. The tests themselves state what each method does, so either backend alone is
held to the contract too.
"""

from __future__ import annotations

import grp
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from omg import config, locate
from omg.backend import Backend
from store.errors import OmgError
from tests.conftest import make_env
from tests.daemon.conftest import CONFIG, Daemon, daemon_env, make_archive
from tests.generations.helpers import fake_tool
from tests.providers.conftest import FAST_NET
from tests.providers.mirrors import MirrorServer, build_node

BACKENDS = ("local", "daemon")
#: Result fields holding a wall-clock time: they differ between any two runs.
TIME_FIELDS = frozenset({"time", "created"})


# The transcript ------------------------------------------------------------------


def normalise(value: Any, root: str) -> Any:
    """`value` with what must differ between two runs made equal (see the docstring);
    result types kept (``{"<type>": name}``), tuples kept apart from lists."""
    if isinstance(value, OmgError):
        return ("<error>", type(value).__name__, normalise(value.message, root),
                normalise(value.hint, root), value.exit_code)
    if hasattr(value, "_asdict"):
        return _record_of(type(value).__name__, value._asdict(), root)
    if is_dataclass(value) and not isinstance(value, type):
        return _record_of(type(value).__name__,
                          {f.name: getattr(value, f.name) for f in fields(value)}, root)
    if isinstance(value, dict):
        return {k: normalise(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, root) for v in value]
    if isinstance(value, tuple):
        return tuple(normalise(v, root) for v in value)
    if isinstance(value, Path):
        return ("<path>", normalise(str(value), root))
    if isinstance(value, str):
        return value.replace(root, "<root>").replace(root.replace("/", "%"), "<root%>")
    return value


def _record_of(kind: str, data: dict[str, Any], root: str) -> dict[str, Any]:
    out: dict[str, Any] = {"<type>": kind}
    for key, v in data.items():
        if key in TIME_FIELDS and isinstance(v, float):
            v = 0.0
        elif key == "origin" and isinstance(v, dict):
            # omgd notes who added a path (docs/protocol.md); a local add has no peer.
            v = {k: x for k, x in v.items() if k != "added_by"} or None
        elif key == "claims" and isinstance(v, list):
            v = [{**c, "time": 0.0} for c in v]
        out[key] = normalise(v, root)
    return out


@dataclass
class Transcript:
    root: str
    calls: list[Any] = field(default_factory=list)

    def note(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any],
             outcome: Any) -> None:
        self.calls.append((method, normalise(args, self.root), normalise(kwargs, self.root),
                           normalise(outcome, self.root)))


class Recording:
    """A backend whose every call is written to a `Transcript` (a `Backend` itself)."""

    def __init__(self, inner: Backend, transcript: Transcript) -> None:
        self._inner = inner
        self._transcript = transcript

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or name == "close" or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attr(*args, **kwargs)
            except OmgError as exc:
                self._transcript.note(name, args, kwargs, exc)
                raise
            self._transcript.note(name, args, kwargs, result)
            return result

        return call


#: (module, test name, its other parameters) -> {backend: transcript} of passing runs.
_PASSED: dict[tuple[str, str, str], dict[str, list[Any]]] = {}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_OUTCOME] = report.passed
    return report


_OUTCOME = pytest.StashKey[bool]()


def _compare(request: pytest.FixtureRequest, kind: str, transcript: Transcript) -> None:
    """After a passing run: the other backend's passing run must have said the same."""
    if not request.node.stash.get(_OUTCOME, False):
        return
    others = {k: repr(v) for k, v in request.node.callspec.params.items() if k != "served"}
    key = (request.node.module.__name__, request.node.originalname, str(sorted(others.items())))
    runs = _PASSED.setdefault(key, {})
    runs[kind] = transcript.calls
    if len(runs) < len(BACKENDS):
        return
    local, daemon = runs["local"], runs["daemon"]
    for i, (a, b) in enumerate(zip(local, daemon, strict=False)):
        if a != b:
            pytest.fail(f"call {i + 1} ({a[0]}) differs between the backends:\n"
                        f"local:  {a}\ndaemon: {b}", pytrace=False)
    if len(local) != len(daemon):
        pytest.fail(f"the backends made {len(local)} and {len(daemon)} calls",
                    pytrace=False)


# Content and the mirror ------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """An error as the CLI shows it: class, message, hint and exit code."""

    kind: str
    message: str
    hint: str | None
    exit_code: int


@dataclass
class Kit:
    """What a test needs besides its backend: content, projects, errors."""

    kind: str
    root: Path
    home: Path
    user: str
    node_mirror: str

    def tree(self, tool: str, version: str, exes: tuple[str, ...] = (),
             extra: dict[str, str] | None = None) -> Path:
        """A directory laid out like a runtime: bin/<exe> scripts (`fake_tool`)."""
        return fake_tool(self.root / "src", tool, version, exes, extra)

    def archive(self, tool: str, version: str, files: dict[str, bytes]) -> Path:
        """A .tar.gz holding one top directory, as upstream tarballs do."""
        dest = self.root / "archives" / f"{tool}-{version}.tar.gz"
        dest.parent.mkdir(parents=True, exist_ok=True)
        return make_archive(dest, files, top=f"{tool}-{version}")

    def project(self, name: str, files: dict[str, str] | None = None) -> Path:
        d = self.root / "projects" / name
        d.mkdir(parents=True, exist_ok=True)
        for rel, text in (files or {}).items():
            (d / rel).write_text(text)
        return d

    def store_path(self, name: str) -> Path:
        return self.home / "store" / name

    def fails(self, call: Callable[[], object]) -> Failure:
        """The `OmgError` `call` raises, as the CLI would print it (the test's directory
        written ``<root>``, so both backends' messages compare)."""
        with pytest.raises(OmgError) as info:
            call()
        exc = info.value
        root = str(self.root)
        return Failure(type(exc).__name__, exc.message.replace(root, "<root>"),
                       exc.hint.replace(root, "<root>") if exc.hint else exc.hint,
                       exc.exit_code)

    def origin(self, given: dict[str, Any] | None) -> dict[str, Any] | None:
        """The origin a record keeps for `given`: omgd adds the peer's name to it
        (docs/protocol.md, "origin is recorded with added_by"), a local add keeps it
        as given."""
        if self.kind == "daemon":
            return {**(given or {}), "added_by": self.user}
        return given


@pytest.fixture(scope="session")
def node_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Node dist/ (tests.providers.mirrors.NODE_VERSIONS) on 127.0.0.1; its URL."""
    root = tmp_path_factory.mktemp("node-mirror")
    with MirrorServer(root) as server:
        yield build_node(root, server.url)["OMG_NODE_MIRROR"]


def _mirrors(node_mirror: str) -> dict[str, str]:
    """The variables for `node_mirror`'s server: Node's dist/ and the support data
    build_node put beside it (tests never reach the real endoflife.date)."""
    return {**FAST_NET, "OMG_NODE_MIRROR": node_mirror,
            "OMG_ENDOFLIFE_MIRROR": node_mirror.removesuffix("/dist") + "/endoflife/api/v1"}


def _daemon_config() -> str:
    """omgd lets root and ``[daemon] gc_group`` collect garbage: a non-root test user
    owns the daemon, so its primary group is that group here (root needs none)."""
    group = grp.getgrgid(os.getgid()).gr_name
    return CONFIG + f'gc_group = "{group}"\n'


@dataclass
class Served:
    kit: Kit
    backend: Backend


@pytest.fixture
def extra_config() -> str:
    """More of the config file (TOML) both backends read: the local one's, omgd's.
    A test parametrizes it (tests/contract/test_policy.py: its `[policy]`)."""
    return ""


@pytest.fixture(params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path: Path, node_mirror: str,
           monkeypatch: pytest.MonkeyPatch, extra_config: str) -> Iterator[Served]:
    kind: str = request.param
    root = tmp_path.resolve()
    for var in [v for v in os.environ if v.startswith("OMG_")]:
        monkeypatch.delenv(var)
    user = locate.current_user()
    if kind == "local":
        from omg.backends.local import LocalBackend

        env = make_env(root)
        if extra_config:
            (root / "config" / "omg").mkdir(parents=True)
            (root / "config" / "omg" / "config.toml").write_text(extra_config)
        for k, v in _mirrors(node_mirror).items():
            monkeypatch.setenv(k, v)  # read from os.environ when a download is made
        # What this process remembers (versions seen, unreachable hosts) is the test's
        # own, as omgd's is: not the user's ~/.cache, which earlier tests filled. (The
        # real binaries' download cache stays where it is.)
        from tests.support import realbin

        monkeypatch.setenv("OMG_REALBIN_CACHE", str(realbin.cache_dir()))
        monkeypatch.setenv("XDG_CACHE_HOME", env.env["XDG_CACHE_HOME"])
        yield from _serve(request, Kit(kind, root, env.home, user, node_mirror),
                          LocalBackend(str(env.home), user, config.load(env.env)))
        return
    from omg.backends.daemon import DaemonBackend

    env = daemon_env(root, _daemon_config() + extra_config)
    client = dict(env.env)  # the client's settings: no mirror, only omgd downloads
    env.env.update(_mirrors(node_mirror))
    daemon = Daemon(env, root / "omgd.sock")
    try:
        daemon.start()
        yield from _serve(request, Kit(kind, root, env.home, user, node_mirror),
                          DaemonBackend(str(daemon.socket), str(env.home), user,
                                        lambda: config.load(client)))
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            code = daemon.stop(signal.SIGTERM)
            assert code == 0, f"omgd exited {code}:\n" + "\n".join(daemon.log_lines())


def _serve(request: pytest.FixtureRequest, kit: Kit, inner: Backend) -> Iterator[Served]:
    """Serve one test, close the backend, then hold it to the other backend's answers."""
    transcript = Transcript(str(kit.root))
    try:
        yield Served(kit, cast(Backend, Recording(inner, transcript)))
    finally:
        inner.close()
    _compare(request, kit.kind, transcript)


@pytest.fixture
def backend(served: Served) -> Backend:
    return served.backend


@pytest.fixture
def kit(served: Served) -> Kit:
    return served.kit
