"""`omg cache keygen|push|pull`: signing keys, pushing store paths to a binary cache,
pulling them from one.

docs/binary-cache.md describes the format, the keys and the order of the writes. A
push reads the store only, so it runs in this process in both modes (omgd plays no
part): the secret key never leaves the client. A pull writes the store, so it goes
through the Backend (omgd in the shared mode, with omgd's own keys).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from omg.cli.output import backend, print_result

if TYPE_CHECKING:
    from omg.cache.push import PushResult
    from omg.cache.substitute import PullResult

SecretOpt = Annotated[str, typer.Option(
    "--secret-file", help="The secret key file (NAME:BASE64, mode 0600).")]


def register(app: typer.Typer) -> None:
    cache_app = typer.Typer(help="Binary caches: signing keys, push, pull "
                                 "(docs/binary-cache.md).",
                            no_args_is_help=True)
    app.add_typer(cache_app, name="cache")

    @cache_app.command("keygen")
    def keygen(
        name: Annotated[str, typer.Argument(
            help="The key's name, e.g. cache.example.org-1 (signatures carry it).")],
        secret_file: SecretOpt,
    ) -> None:
        """Make an ed25519 key pair: the secret into a new file (mode 0600), the public
        key (NAME:BASE64, what `trusted_keys` lists) on stdout."""
        from omg.cache import keys

        secret = keys.generate(name)
        keys.write_secret(Path(secret_file), secret)
        typer.echo(secret.public().text)

    @cache_app.command("push")
    def push(
        url: Annotated[str, typer.Argument(
            help="The cache: file:///DIR or s3://BUCKET/PREFIX?endpoint=URL&region=R.")],
        secret_file: SecretOpt,
        items: Annotated[list[str] | None, typer.Argument(
            help="TOOL@VERSION, aur/NAME or a store path (name, path or unique prefix); "
                 "none: everything your profiles and installed roots reach.")] = None,
        jobs: Annotated[int | None, typer.Option(
            "--jobs", "-j", min=1, max=64,
            help="Parallel uploads (default: the network jobs setting, 4).")] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Push store paths and their references to a cache, signed; idempotent."""
        from omg import config
        from omg.cache import keys
        from omg.cache import push as P
        from omg.cache.storage import open_storage
        from omg.cli.runtime_cmd import progress_bar
        from omg.net import NetOptions
        from omg.providers.base import Platform
        from store.layout import Layout

        key = keys.load_secret(Path(secret_file))
        settings = config.load()
        jobs = jobs or NetOptions.from_config(settings.raw).jobs
        with backend() as b:
            layout = Layout(Path(b.home_dir))
            names = P.resolve_items(b, items) if items else P.default_roots(layout,
                                                                             settings.user)
        storage = open_storage(url)
        try:
            with progress_bar() as progress:
                result = P.push(layout, storage, names, key, jobs=jobs, progress=progress,
                                platform=Platform.detect().key)
        finally:
            storage.close()
        for w in result.warnings:
            typer.echo(f"warning: {w}", err=True)
        print_result(result, json_out, P.lines, lambda r: _json(b.home_dir, r))

    @cache_app.command("pull")
    def pull(
        url: Annotated[str, typer.Argument(
            help="The cache: file:///DIR, https://HOST/BASE or s3://BUCKET/PREFIX?...")],
        items: Annotated[list[str], typer.Argument(
            help="Store path names or TOOL@VERSION (this platform).")],
        json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Pull store paths (and their references) from a cache into the store, accepted
        only if signed by a trusted key ([cache] trusted_keys; omgd's own in the shared
        mode, from one of its substituters). For testing and pre-seeding: install, use
        and sync ask the substituters by themselves."""
        from omg.cache import substitute

        with backend() as b:
            result = b.cache_pull(url, items)
        print_result(result, json_out, substitute.lines, lambda r: _pull_json(b.home_dir, r))


def _json(home_dir: str, r: PushResult) -> dict[str, object]:
    from omg.cli import json_out as J

    paths = J.Paths(home_dir)
    return J.versioned({
        "url": r.url, "pushed": paths.store_paths(r.pushed),
        "present": paths.store_paths(r.present), "objects": r.objects,
        "object_bytes": r.object_bytes, "content_bytes": r.content_bytes,
        "index_entries": r.index_entries, "warnings": r.warnings})


def _pull_json(home_dir: str, r: PullResult) -> dict[str, object]:
    from omg.cli import json_out as J

    paths = J.Paths(home_dir)
    return J.versioned({
        "url": r.url, "pulled": paths.store_paths(r.pulled),
        "present": paths.store_paths(r.present), "objects": r.objects,
        "object_bytes": r.object_bytes})
