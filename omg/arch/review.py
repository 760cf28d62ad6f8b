"""Review of an AUR package's files, as a diff against the last version reviewed.

Reviewed copies live in ``OMG_HOME/arch/reviewed/<pkgbase>/``; they are replaced
only once the user accepts (a new copy renamed over the old), so a declined or
failed build keeps the previous reviewed state.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

from omg.arch import pgp
from store.fsutil import force_remove, walk_tree


def reviewed_dir(home: Path, pkgbase: str) -> Path:
    return home / "arch" / "reviewed" / pkgbase


def _files(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if not root.is_dir():
        return out
    for dirpath, dirnames, filenames in walk_tree(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for f in filenames:
            full = Path(dirpath) / f
            rel = str(full.relative_to(root))
            if full.is_symlink():
                out[rel] = f"-> {os.readlink(full)}\n"
                continue
            data = full.read_bytes()
            out[rel] = data.decode("utf-8", "replace") if b"\0" not in data[:8192] \
                else f"<binary file, {len(data)} bytes>\n"
    return out


def review_text(home: Path, pkgbase: str, srcdir: Path) -> str:
    """PKGBUILD first, then every other file: whole, or a diff against the last review."""
    old = _files(reviewed_dir(home, pkgbase))
    new = _files(srcdir)
    names = sorted(new, key=lambda n: (n != "PKGBUILD", n))
    parts: list[str] = []
    if not old:
        parts.append(f"==> {pkgbase}: first review, every file in full\n")
        for n in names:
            parts.append(f"--- {n}\n{new[n]}")
            if not new[n].endswith("\n"):
                parts.append("\n")
    else:
        parts.append(f"==> {pkgbase}: changes since the last review\n")
        for n in sorted(set(old) | set(new), key=lambda n: (n != "PKGBUILD", n)):
            a, b = old.get(n, ""), new.get(n, "")
            if a != b:
                parts.extend(difflib.unified_diff(a.splitlines(True), b.splitlines(True),
                                                  f"a/{n}", f"b/{n}"))
        if len(parts) == 1:
            parts.append("(no changes)\n")
    parts.extend(f"{line}\n" for line in pgp.review_lines(pgp.srcinfo_of(srcdir)))
    return "".join(parts)


def mark_reviewed(home: Path, pkgbase: str, srcdir: Path) -> None:
    dest = reviewed_dir(home, pkgbase)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{pkgbase}.new-{os.getpid()}")
    force_remove(tmp)
    shutil.copytree(srcdir, tmp, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    old = dest.with_name(f".{pkgbase}.old-{os.getpid()}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(tmp, dest)
    force_remove(old)
