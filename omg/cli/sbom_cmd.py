"""`omg sbom`: a profile's current generation, or a lock file's pins (`--lock FILE`), as a
CycloneDX or SPDX document (omg/sbom.py).

A read through the backend (`Backend.sbom_source`), so it works in the shared mode
from the world-readable files, with omgd down too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from omg.cli.output import backend
from omg.cli.profile_cmd import ProfileOpt, _project
from store.errors import NotFound, PermissionDenied, UsageError

if TYPE_CHECKING:
    from omg import sbom as sbom_doc


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
        lock: Annotated[Path | None, typer.Option(
            "--lock", help="Describe this omg.lock's pins for this platform instead of a "
            "profile.")] = None,
    ) -> None:
        """A software bill of materials of a profile: its runtimes and packages, their
        upstream sha256 and store hashes, and what each depends on."""
        from omg import sbom

        if fmt not in sbom.FORMATS:
            raise UsageError(f"unknown SBOM format {fmt!r}",
                             hint=f"--format {' or '.join(sbom.FORMATS)}")
        if lock is not None:
            _write(sbom.render(_lock_document(lock, local, profile), fmt), output)
            return
        with backend() as b:
            src = b.sbom_source(profile=profile, project=_project(local))
        _write(sbom.render(src, fmt), output)


def _lock_document(path: Path, local: bool, profile: str) -> sbom_doc.Document:
    """A lock file is read by this process alone (no store, no daemon)."""
    from omg import lock_cases, sbom

    if local or profile != "default":
        raise UsageError("--lock describes a lock file: no --profile nor --local with it")
    lock = lock_cases.read_lock(path)
    return sbom.lock_document(lock, str(path), lock_cases.current_platform())


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
