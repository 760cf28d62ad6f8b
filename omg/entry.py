"""The `omg` console script.

`use` and `rollback` between installed versions take a fast path that never
imports typer, rich or httpx (DESIGN.md "Figures"); whatever the fast path does
not recognise falls through to the full typer CLI, which is the reference
behaviour.
"""

from __future__ import annotations

import sys

FAST_COMMANDS = frozenset({"use", "rollback", "current"})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in FAST_COMMANDS:
        from omg import fast

        code = fast.run(args)
        if code is not None:
            return code
    from omg.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
