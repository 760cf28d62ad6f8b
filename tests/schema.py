"""Check a command's ``--json`` output against its documented shape (omg/schemas/)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "omg" / "schemas" / "omg.schema.json"


@cache
def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return data


def check(command: str, stdout: str) -> Any:
    """`stdout` parsed, after validating it against `$defs/command` (``store-ls``)."""
    from jsonschema import Draft202012Validator

    assert command in schema()["$defs"], f"no schema for {command}"
    data = json.loads(stdout)
    Draft202012Validator({**schema(), "$ref": f"#/$defs/{command}"}).validate(data)
    return data
