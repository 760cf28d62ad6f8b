"""Fast path for the hot commands; returns None to hand over to the typer CLI."""

from __future__ import annotations


def run(args: list[str]) -> int | None:
    return None
