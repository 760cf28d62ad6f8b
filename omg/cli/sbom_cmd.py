"""`omg sbom`: a profile's current generation as a CycloneDX or SPDX document (omg/sbom.py).

A read through the backend (`Backend.sbom_source`), so it works in the shared mode
from the world-readable files, with omgd down too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from omg.cli.output import backend
from omg.cli.profile_cmd import ProfileOpt, _project
from store.errors import NotFound, PermissionDenied, UsageError


def register(app: typer.Typer) -> None:
    @app.command("sbom")
    def sbom_cmd(
        profile: ProfileOpt = "default",
        local: Annotated[bool, typer.Option(
            "--local", "--project", "-l", help="The project profile of this directory "
            "(the nearest version file's directory, or the current directory).")] = False,
        fmt: Annotated[str, typer.Option(
            "--format", "-f", help="cyclonedx (CycloneDX 1.6 JSON) or spdx (SPDX 2.3 JSON).")
        ] = "cyclonedx",
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", help="Write the document here instead of to stdout.")] = None,
    ) -> None:
        """A software bill of materials of a profile: its runtimes and packages, their
        upstream sha256 and store hashes, and what each depends on."""
        from omg import sbom

        if fmt not in sbom.FORMATS:
            raise UsageError(f"unknown SBOM format {fmt!r}",
                             hint=f"--format {' or '.join(sbom.FORMATS)}")
        with backend() as b:
            src = b.sbom_source(profile=profile, project=_project(local))
        _write(sbom.render(src, fmt), output)


def _write(text: str, output: Path | None) -> None:
    """Stdout, or `output` whole or not at all (a temporary name renamed over it)."""
    if output is None:
        sys.stdout.write(text)
        return
    import errno

    from store.fsutil import atomic_write

    try:
        atomic_write(output, text.encode(), 0o644)
    except OSError as exc:
        what = f"cannot write {output}: {exc.strerror or exc}"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise PermissionDenied(what) from exc
        if exc.errno == errno.ENOENT:
            raise NotFound(what) from exc
        raise UsageError(what) from exc
