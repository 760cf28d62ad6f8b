"""The transcript that holds the two backends to the same answers forgets only what must
differ between two runs (conftest.py): never a store path name, a type or an error."""

from __future__ import annotations

from pathlib import Path

from omg.profiles import GenerationInfo, ResolvedTool
from store.errors import NotFound, UsageError
from store.record import PathRecord
from tests.contract.conftest import normalise


def _record(created: float, origin: dict[str, object] | None) -> PathRecord:
    return PathRecord("abc-tool-1.0", "abc", "tool", "1.0", 3, 1, (), origin, created)


def test_normalise_forgets_the_directory_times_and_the_daemons_note() -> None:
    a, b = "/tmp/run-a", "/tmp/run-b"
    assert normalise(_record(1.0, None), a) == normalise(
        _record(2.0, {"added_by": "alice"}), b)
    gen = GenerationInfo(1, 5.0, "omg use tool@1", True, "e", {"tool": "1"}, [])
    assert normalise(gen, a) == normalise(gen._replace(time=9.0), b)
    assert normalise(Path(a) / "omg" / "store", a) == normalise(Path(b) / "omg" / "store", b)
    assert normalise(f"project {a}/app", a) == normalise(f"project {b}/app", b)
    assert normalise(f"{a}/app".replace("/", "%"), a) == normalise(f"{b}/app".replace("/", "%"), b)


def test_normalise_keeps_names_types_and_errors_apart() -> None:
    root = "/tmp/run"
    tool = ResolvedTool("tool", "1.0", "abc-tool-1.0", ())
    assert normalise(tool, root) != normalise(tool._replace(store_path="abd-tool-1.0"), root)
    assert normalise(tool, root) != normalise(tuple(tool), root)
    assert normalise([1], root) != normalise((1,), root)
    assert normalise(_record(1.0, {"url": "u"}), root) != normalise(
        _record(1.0, None), root)
    assert normalise(NotFound("no"), root) != normalise(UsageError("no"), root)
    assert normalise(NotFound("no", hint="h"), root) != normalise(NotFound("no"), root)
