"""Lean door for ``omg gc [--dry-run|-n]``: the same use case without typer or rich.

`generations.gc.collect` over a `store.local.LocalStore`, exactly what
`omg.profiles.gc` runs for the typer command, rendered by `gc_lines`, which
omg/cli/profile_cmd.py prints too. Returns None (the typer CLI answers) for
anything else: other options (``--json``, ``--older-than``), a config file
that does not load, and the shared mode, where gc is a request to omgd.

``omg gc`` is timed whole-process against ``nix-store --gc``
(benchmarks/bench_gc_nix.py): typer and rich cost more than collecting a
hundred store paths. Check with ``python -X importtime -m omg gc``.
"""

from __future__ import annotations

import os
import sys

from omg.units import human_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from generations.gc import GcResult


def gc_lines(result: GcResult, store_dir: str) -> list[str]:
    """What ``omg gc`` prints for `result` (`store_dir`: where the paths were)."""
    lines = [f"deleted generation {n} of {who}" for who, n in result.deleted_generations]
    verb = "would delete" if result.dry_run else "deleted"
    lines += [f"{verb} {store_dir}/{name}" for name in result.dead]
    would = "would be " if result.dry_run else ""
    lines.append(f"{len(result.dead)} store paths {would}deleted, "
                 f"{human_size(result.freed_bytes)} {would}freed; {result.live} kept")
    return lines


def run(args: list[str]) -> int | None:
    if args[1:] not in ([], ["--dry-run"], ["-n"]):
        return None
    from omg.fast import _settings

    where = _settings()
    if where is None:
        return None  # a bad config file or variable: the full CLI reports it
    home, _user, raw = where
    from omg import locate

    if locate.shared_socket(home, raw, os.environ) is not None:
        return None  # omgd collects; the typer command sends it the request
    from store.sweep import sigterm_interrupts

    sigterm_interrupts()  # before the collection catches it: exit 130, like Ctrl-C
    return collect(home, dry_run=len(args) > 1)


def collect(home: str, *, dry_run: bool) -> int:
    """Run `generations.gc.collect` on the store at `home` and print its lines."""
    import time
    from pathlib import Path

    from generations.gc import collect as collect_garbage
    from store.errors import OmgError
    from store.layout import Layout
    from store.local import LocalStore

    layout = Layout(Path(home))
    store = LocalStore(layout)
    try:
        result = collect_garbage(store, dry_run=dry_run, now=time.time())
        sys.stdout.write("".join(line + "\n" for line in gc_lines(result, str(layout.store))))
        sys.stdout.flush()
    except (OmgError, OSError, KeyboardInterrupt) as exc:
        from omg.cli.output import report_error

        return report_error(exc)
    finally:
        store.close()
    return 0
