"""`omg store ...` and `omg doctor`: direct access to the content-addressed store.

Changes go through the backend (`omg.cli.output.backend`: omgd in the shared
mode, which copies and hashes an archive itself); reads come from the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omg import text
from omg.cli import json_out as J
from omg.cli.output import backend, human_size, print_json, print_result
from store.errors import IntegrityError, PermissionDenied

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def register(app: typer.Typer) -> None:
    store_app = typer.Typer(help="Add, list, inspect and verify store paths.",
                            no_args_is_help=True)
    app.add_typer(store_app, name="store")

    @store_app.command("add")
    def add(
        source: Annotated[Path, typer.Argument(help="An archive or a directory.")],
        name: Annotated[str, typer.Option("--name", "-n", help="Package name.")],
        version: Annotated[str, typer.Option("--version", "-v", help="Package version.")],
        reference: Annotated[list[str] | None, typer.Option(
            "--reference", "-r", help="A store path this one needs (repeatable).")] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Ingest an archive or directory; print its store path."""
        with backend() as b:
            result = b.store_add(source, name, version, references=reference or [])
            paths = J.Paths(b.home_dir)
            store_path = f"{paths.store_dir}/{result.record.path}"
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        if json_out:
            print_json(J.versioned({**J.record(paths, result.record), "created": result.created,
                                    "added_bytes": result.added_bytes}))
        else:
            typer.echo(store_path)

    @store_app.command("ls")
    def ls(json_out: JsonOpt = False) -> None:
        """List store paths."""
        with backend() as b:
            records = b.store_records()
            paths = J.Paths(b.home_dir)
        if json_out:
            print_json([J.record(paths, r) for r in records])
            return
        for r in records:
            typer.echo(f"{r.path}  {human_size(r.size):>10}  {r.files} files")

    @store_app.command("roots")
    def roots(json_out: JsonOpt = False) -> None:
        """List your gc roots: what `omg gc` keeps for you besides your profiles."""
        with backend() as b:
            found = b.roots()
            paths = J.Paths(b.home_dir)
        print_result(found, json_out, text.roots_lines, lambda r: J.roots(paths, r))

    @store_app.command("info")
    def info(path: str, json_out: JsonOpt = False) -> None:
        """Show a store path's record: size, files, references, origin, claims."""
        with backend() as b:
            found = b.store_info(path)
            paths = J.Paths(b.home_dir)
        record = found.record
        if json_out:
            print_json(J.store_info(paths, found))
            return
        data = {**record.to_index(), "store_path": found.store_path}
        for key in ("store_path", "name", "version", "hash", "size", "files", "references",
                    "origin", "created"):
            value = data[key]
            if key == "size":
                value = f"{human_size(record.size)} ({record.size} bytes)"
            typer.echo(f"{key + ':':12} {value}")
        checked = (record.origin or {}).get("signature")
        if isinstance(checked, dict):
            from omg.signatures import describe

            typer.echo(f"{'signature:':12} {describe(checked)}")
        attested = (record.origin or {}).get("provenance")
        if isinstance(attested, dict):
            from omg import provenance

            typer.echo(f"{'provenance:':12} {provenance.describe(attested)}")
        for claim in found.claims or [{"scope": "none", "kind": "", "user": ""}]:
            who = "everyone" if claim["scope"] == "trusted" else claim.get("user") or "nobody"
            typer.echo(f"{'claim:':12} {claim.get('kind') or 'none'} by "
                       f"{claim.get('user') or '?'}; resolves by name for {who}")

    @store_app.command("verify")
    def verify(paths: Annotated[list[str] | None, typer.Argument()] = None,
               json_out: JsonOpt = False) -> None:
        """Re-hash store paths; name each corrupted file and exit non-zero."""
        with backend() as b:
            result = b.store_verify(paths or None)
            where = J.Paths(b.home_dir)
        if not json_out:
            for p in result.problems:
                typer.echo(f"corrupt: {p}", err=True)
        print_result(result, json_out, lambda r: [] if r.problems else [
            f"{r.checked} store paths verified"], lambda r: J.verify(where, r))
        if result.problems:
            first = result.problems[0]
            raise IntegrityError(f"{len(result.problems)} problem(s) in the store, first: "
                                 f"{first}", hint="reinstall the affected path")

    @app.command("doctor")
    def doctor(repair: Annotated[bool, typer.Option(
        "--repair", help="Rebuild the index and lost records from store/ and profiles/.")
                                  ] = False, json_out: JsonOpt = False) -> None:
        """Check the store, its index and every generation; --repair rebuilds what the
        files can tell (the index, lost records) and sets bad records aside."""
        from omg import config
        from omg import doctor as doc
        from omg.backends.local import LocalBackend
        from store.local import LocalStore

        settings = config.load()
        with backend() as b:
            if repair and not isinstance(b, LocalBackend):
                raise PermissionDenied("the shared store's index is repaired by its owner",
                                       hint="run `omg doctor --repair` as root (or omgd's "
                                            "user), with the daemon stopped")
            if not repair:
                problems = doc.diagnose(b, settings.layout)
        if repair:
            result = doc.repair(settings.layout)
            if json_out:
                print_json(J.repaired(result))
                return
            for note in result.notes:
                typer.echo(f"repaired: {note}")
            kept = f" (the old index is in {result.old_index})" if result.old_index else ""
            typer.echo(f"index rebuilt: {result.store_paths} store paths, "
                       f"{result.generations} generations{kept}")
            return
        # A listing: no index is opened.
        count = len(LocalStore(settings.layout).names())
        if json_out:
            print_json(J.doctor(problems, count))
        else:
            for line in problems:
                typer.echo(line, err=True)
        if problems:
            raise IntegrityError(f"{len(problems)} problem(s) found, first: {problems[0]}",
                                 hint="`omg doctor --repair` rebuilds the index and lost "
                                 "records; reinstall a store path whose content is corrupt")
        if not json_out:
            typer.echo(f"ok: {count} store paths verified, all generations complete")
