"""`omg store ...` and `omg doctor`: direct access to the content-addressed store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from omg import config
from omg.cli.output import human_size, print_json
from store.errors import IntegrityError, PermissionDenied

if TYPE_CHECKING:
    from omg.remote_store import RemoteStore
    from store.layout import Layout
    from store.local import LocalStore

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _store() -> tuple[LocalStore | RemoteStore, Layout]:
    """This user's store, or in the shared mode omgd's (which makes every change);
    and the layout, for reading store paths directly."""
    from omg.remote_store import open_store

    settings = config.load()
    return open_store(settings), settings.layout


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
        store, layout = _store()
        refs = [store.resolve_name(r) for r in reference or []]
        result = store.add(source, name, version, references=refs)
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        if json_out:
            print_json({**result.record.to_index(), "created": result.created,
                        "added_bytes": result.added_bytes,
                        "store_path": str(layout.store_path(result.record.path))})
        else:
            typer.echo(layout.store_path(result.record.path))

    @store_app.command("ls")
    def ls(json_out: JsonOpt = False) -> None:
        """List store paths."""
        store, _ = _store()
        records = store.records()
        if json_out:
            print_json([r.to_index() for r in records])
            return
        for r in records:
            typer.echo(f"{r.path}  {human_size(r.size):>10}  {r.files} files")

    @store_app.command("info")
    def info(path: str, json_out: JsonOpt = False) -> None:
        """Show a store path's record: size, files, references, origin."""
        from store.claims import read as read_claims

        store, layout = _store()
        record = store.get(store.resolve_name(path))
        # Claims are world-readable files: read directly in the shared mode too.
        claims = read_claims(layout, record.path)
        data = {**record.to_index(), "store_path": str(layout.store_path(record.path)),
                "claims": claims}
        if json_out:
            print_json(data)
            return
        for key in ("store_path", "name", "version", "hash", "size", "files", "references",
                    "origin", "created"):
            value = data[key]
            if key == "size":
                value = f"{human_size(record.size)} ({record.size} bytes)"
            typer.echo(f"{key + ':':12} {value}")
        for claim in claims or [{"scope": "none", "kind": "", "user": ""}]:
            who = "everyone" if claim["scope"] == "trusted" else claim.get("user") or "nobody"
            typer.echo(f"{'claim:':12} {claim.get('kind') or 'none'} by "
                       f"{claim.get('user') or '?'}; resolves by name for {who}")

    @store_app.command("verify")
    def verify(paths: Annotated[list[str] | None, typer.Argument()] = None,
               json_out: JsonOpt = False) -> None:
        """Re-hash store paths; name each corrupted file and exit non-zero."""
        store, _ = _store()
        names = [store.resolve_name(p) for p in paths] if paths else None
        problems = store.verify(names)
        checked = len(names) if names is not None else len(store.names())
        if json_out:
            print_json({"checked": checked, "problems": [p._asdict() for p in problems]})
        else:
            for p in problems:
                typer.echo(f"corrupt: {p}", err=True)
            if not problems:
                typer.echo(f"{checked} store paths verified")
        if problems:
            first = problems[0]
            raise IntegrityError(f"{len(problems)} problem(s) in the store, first: {first}",
                                 hint="reinstall the affected path")

    @app.command("doctor")
    def doctor(repair: Annotated[bool, typer.Option(
        "--repair", help="Rebuild the index and lost records from store/ and profiles/.")
                                  ] = False) -> None:
        """Check the store, its index and every generation; --repair rebuilds what the
        files can tell (the index, lost records) and sets bad records aside."""
        from omg import doctor as doc
        from store.local import LocalStore

        store, layout = _store()
        if repair and not isinstance(store, LocalStore):
            raise PermissionDenied("the shared store's index is repaired by its owner",
                                   hint="run `omg doctor --repair` as root (or omgd's "
                                        "user), with the daemon stopped")
        if repair:
            result = doc.repair(layout)
            for note in result.notes:
                typer.echo(f"repaired: {note}")
            kept = f" (the old index is in {result.old_index})" if result.old_index else ""
            typer.echo(f"index rebuilt: {result.store_paths} store paths, "
                       f"{result.generations} generations{kept}")
            return
        try:
            problems = doc.diagnose(store, layout)
        finally:
            store.close()
        for line in problems:
            typer.echo(line, err=True)
        if problems:
            raise IntegrityError(f"{len(problems)} problem(s) found, first: {problems[0]}",
                                 hint="`omg doctor --repair` rebuilds the index and lost "
                                 "records; reinstall a store path whose content is corrupt")
        typer.echo(f"ok: {len(store.names())} store paths verified, all generations complete")
