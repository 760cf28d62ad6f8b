"""`omg lock` (and `lock push`, `lock pull`), `omg status`, `omg fingerprint`
(omg/lock_cases.py; docs/lock-files.md).

The lock file is the user's: read and written here, in the user's process; only the
resolution (upstream indexes, the store) goes through the backend, so through omgd
in the shared mode. `omg status` exits 1 on drift and `omg lock --check` when the
lock would change, as `git diff --exit-code` does (docs/errors.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from omg.cli.output import backend, print_json

if TYPE_CHECKING:
    from omg import lock_cases as C
    from omg import lockfile as L

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
DirArg = Annotated[Path | None, typer.Argument(
    help="Project directory (default: here; the nearest version file's directory).")]
DirOpt = Annotated[Path | None, typer.Option(
    "--directory", "-C", help="Project directory (default: here).")]
NameOpt = Annotated[str, typer.Option(
    "--name", help="The lock's name on the cache (default: the project directory's).")]
SCHEMA = 1


def register(app: typer.Typer) -> None:
    lock_app = typer.Typer(help="Lock the project's tools: exact versions, every platform's "
                                "artifacts and sha256s (omg.lock).")

    @lock_app.callback(invoke_without_command=True)
    def lock_cmd(
        ctx: typer.Context,
        directory: DirOpt = None,
        platform: Annotated[list[str] | None, typer.Option(
            "--platform", help="Only these platforms (linux-x64-gnu, linux-arm64-gnu, "
            "...); default: linux x64 and arm64 and this machine's.")] = None,
        check: Annotated[bool, typer.Option(
            "--check", help="Write nothing; exit 1 if the lock would change.")] = False,
        offline: Annotated[bool, typer.Option(
            "--offline", help="Use only cached upstream indexes.")] = False,
        refresh: Annotated[bool, typer.Option(
            "--refresh", help="Re-read upstream indexes even if cached.")] = False,
        json_out: JsonOpt = False,
    ) -> None:
        """Write omg.lock beside the version files: each tool's exact version, and for
        every platform upstream offers the artifacts' URLs and sha256s (installs
        nothing)."""
        if ctx.invoked_subcommand is not None:
            return
        from omg import lock_cases

        with backend() as b:
            result = lock_cases.lock(b, directory or Path.cwd(), platforms=platform or (),
                                     offline=offline, refresh=refresh, check=check)
        if json_out:
            print_json(lock_json(result))
        else:
            for w in result.warnings:
                typer.echo(f"warning: {w}", err=True)
            typer.echo(_lock_line(result, check))
        if check and result.changed:
            raise typer.Exit(1)

    @lock_app.command("push")
    def push_cmd(
        url: Annotated[str, typer.Argument(help="The cache: file:///DIR, s3://BUCKET/...")],
        name: NameOpt = "",
        secret_file: Annotated[Path | None, typer.Option(
            "--secret-file", help="Sign with this key (omg cache keygen).")] = None,
        directory: DirOpt = None,
    ) -> None:
        """Put this project's omg.lock and fingerprints at locks/NAME/ on a cache."""
        from omg import lock_cases

        done = lock_cases.push(url, directory or Path.cwd(), name=name,
                               secret_file=secret_file)
        for w in done.warnings:
            typer.echo(f"warning: {w}", err=True)
        signed = f", signed by {done.signed_by}" if done.signed_by else ""
        typer.echo(f"pushed {done.path} to {done.url} as {done.name}{signed}")

    @lock_app.command("pull")
    def pull_cmd(
        url: Annotated[str, typer.Argument(help="The cache: file:///DIR, https://..., "
                                                "s3://BUCKET/...")],
        name: NameOpt = "",
        directory: DirOpt = None,
    ) -> None:
        """Fetch locks/NAME/omg.lock from a cache into this project (checked against
        [cache] trusted_keys when there are any)."""
        from omg import config, lock_cases

        trusted = config.substituters(config.load())[1]
        done = lock_cases.pull(url, directory or Path.cwd(), name=name, trusted=trusted)
        for w in done.warnings:
            typer.echo(f"warning: {w}", err=True)
        signed = f", signed by {done.signed_by}" if done.signed_by else ""
        typer.echo(f"pulled {done.name} from {done.url} into {done.path}{signed}")

    app.add_typer(lock_app, name="lock")

    @app.command("status")
    def status_cmd(directory: DirArg = None, json_out: JsonOpt = False) -> None:
        """Drift between omg.lock, the version files and the project profile: each tool
        missing, different or extra; exit 1 on drift."""
        from omg import lock_cases

        with backend() as b:
            result = lock_cases.status(b, directory or Path.cwd())
        if json_out:
            print_json(status_json(result))
        else:
            typer.echo("\n".join(status_lines(result)))
        if result.drift:
            raise typer.Exit(1)

    @app.command("fingerprint")
    def fingerprint_cmd(
        directory: DirArg = None,
        platform: Annotated[str, typer.Option(
            "--platform", help="Another platform's (linux-arm64-gnu ...); default: "
            "this machine's.")] = "",
        json_out: JsonOpt = False,
    ) -> None:
        """A BLAKE3 hash of the environment the lock gives on this platform: the same on
        every machine with the same lock and platform."""
        from omg import lock_cases

        result = lock_cases.fingerprint(directory or Path.cwd(), platform)
        if json_out:
            print_json({"schema": SCHEMA, "lock": result.lock, "platform": result.platform,
                        "fingerprint": result.fingerprint, "rows": list(result.rows)})
            return
        typer.echo(result.fingerprint)


def _lock_line(result: C.LockResult, check: bool) -> str:
    tools = ", ".join(f"{t.tool} {t.version} ({len(t.targets)} platform"
                      f"{'s' if len(t.targets) != 1 else ''})" for t in result.lock.tools)
    if check:
        return f"{result.path}: {'would change' if result.changed else 'up to date'}: {tools}"
    return f"{result.path}: {'written' if result.changed else 'unchanged'}: {tools}"


def lock_json(result: C.LockResult) -> dict[str, object]:
    return {"schema": SCHEMA, "path": result.path, "changed": result.changed,
            "warnings": list(result.warnings), "lock": lock_document(result.lock)}


def lock_document(lock: L.Lock) -> dict[str, object]:
    """The lock as JSON (docs/json.md, `omg lock`): the file's content, lists for tables."""
    from omg import lockfile as L

    return {"format": L.FORMAT, "tools": [
        {"tool": t.tool, "spec": t.spec, "file": t.file, "version": t.version,
         "platforms": [{"platform": p.platform, "store_path": p.store_path or None,
                        "artifacts": [{"url": a.url, "sha256": a.sha256,
                                       "component": a.component or None}
                                      for a in p.artifacts]} for p in t.targets]}
        for t in lock.tools],
        "aur": [{"name": p.name, "version": p.version, "store_path": p.store_path,
                 "commit": p.commit or None} for p in lock.packages]}


def status_json(result: C.StatusResult) -> dict[str, object]:
    return {"schema": SCHEMA, "project": result.project, "lock": result.lock or None,
            "profile": result.profile or None,
            "drift": [{"tool": d.tool, "kind": d.kind, "where": d.where,
                       "files": d.files or None, "lock": d.lock or None,
                       "profile": d.profile or None} for d in result.drift]}


def status_lines(result: C.StatusResult) -> list[str]:
    head = f"{result.project}: " + (f"lock {result.lock}" if result.lock else "no lock")
    if not result.drift:
        return [f"{head}; no drift"]
    out = [f"{head}; drift:"]
    for d in result.drift:
        said = ", ".join(f"{k} {v}" for k, v in (("files", d.files), ("lock", d.lock),
                                                 ("profile", d.profile)) if v)
        out.append(f"  {d.tool:<8} {d.kind} in the {d.where}" + (f" ({said})" if said else ""))
    return out
