"""AUR packages of this area as real package directories (tests/arch/data/aur/<pkgbase>/,
a PKGBUILD, its files and the .SRCINFO makepkg wrote), served by the session's test AUR
for the length of one test.

The test AUR of tests/arch/conftest.py serves generated PKGBUILDs (AUR_PKGS); until it
serves directories itself, `served` adds one to it and takes it away again.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.arch.conftest import EPOCH, ArchWorld

DATA = Path(__file__).parent / "data" / "aur"


def srcinfo(pkgbase: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (DATA / pkgbase / ".SRCINFO").read_text().splitlines():
        if " = " in line:
            key, value = line.strip().split(" = ", 1)
            out.setdefault(key, []).append(value)
    return out


def snapshot(pkgbase: str, subst: dict[str, str] | None = None) -> bytes:
    """The directory as the AUR's cgit snapshot (`pkgbase/...`), with each `@KEY@` of
    `subst` replaced in every file (a path known only when the test runs)."""
    content = {p.name: p.read_text() for p in sorted((DATA / pkgbase).iterdir())}
    for key, value in (subst or {}).items():
        content = {n: t.replace(f"@{key}@", value) for n, t in content.items()}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in content.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{pkgbase}/{name}")
            info.size, info.mtime = len(data), int(EPOCH)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@contextmanager
def served(world: ArchWorld, pkgbase: str, subst: dict[str, str] | None = None
           ) -> Iterator[dict[str, Any]]:
    """Serve the package for the block; the spec is the RPC record's source (mutable:
    `version` changes what the AUR says)."""
    info = srcinfo(pkgbase)
    spec: dict[str, Any] = {"version": info["pkgver"][0], "desc": info["pkgdesc"][0],
                            "depends": info.get("depends", []),
                            "makedepends": info.get("makedepends", [])}
    world.aur.pkgs[pkgbase] = spec
    world.aur.snapshots[pkgbase] = snapshot(pkgbase, subst)
    try:
        yield spec
    finally:
        world.aur.pkgs.pop(pkgbase, None)
        world.aur.snapshots.pop(pkgbase, None)
