"""`loads`: JSON without importing `json` (which imports `re`, ~5 ms on a small machine).

The hot path of `omg use`, `rollback` and `current` reads small JSON files (the
catalogue, a profile env's manifest); the C scanner behind the json module
(``_json``) reads them at no import cost. Writing JSON is never on the hot path:
writers import json.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    #: ``_json``'s scanner: (text, where to start) -> (value, where it ended).
    Scanner = Callable[[str, int], tuple[object, int]]


class _ScanContext:
    """What ``_json.make_scanner`` reads off `json.JSONDecoder`, with its defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


_scanner: Scanner | None = None


def loads(raw: bytes | str) -> object:
    """`json.loads` without importing json (and re); ValueError on bad input. The caller
    checks the value's shape."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    start = len(text) - len(text.lstrip(" \t\n\r"))
    value, end = scan(text, start)
    if text[end:].strip(" \t\n\r"):
        raise ValueError(f"extra data after JSON at {end}")
    return value


def scan(text: str, start: int) -> tuple[object, int]:
    """The one JSON value that starts at `start` in `text`, and where it ends: a field
    read out of a bigger document without parsing the rest (a store path record's
    origin, before its long file list); ValueError on bad input."""
    global _scanner
    if _scanner is None:
        try:
            from _json import make_scanner
        except ImportError:  # an interpreter without the C accelerator
            import json

            return json.JSONDecoder().raw_decode(text, start)
        # typeshed types the argument as the scanner itself; it is any JSONDecoder-alike.
        _scanner = make_scanner(_ScanContext())  # type: ignore[arg-type]
    try:
        return _scanner(text, start)
    except StopIteration as exc:
        raise ValueError(f"invalid JSON at {exc.value}") from None
