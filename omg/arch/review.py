"""Review of an AUR package's files, as a diff against the last version reviewed.

Reviewed copies live in ``OMG_HOME/arch/reviewed/<pkgbase>/``; they are replaced
only once the user accepts (a new copy renamed over the old), so a declined or
failed build keeps the previous reviewed state.

`approve` is the whole gate before makepkg: the files (or their diff), the static
check's findings (omg.arch.lint) and the dependency tree, then one question naming
the findings and who builds. Findings are never silent: with --noconfirm they go to
stderr, and `[arch] review_findings = "deny"` refuses high ones before any build.
"""

from __future__ import annotations

import difflib
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from omg.arch import lint, pgp
from omg.arch.names import dep_name
from store.errors import Interrupted, UnsafeInput
from store.fsutil import force_remove, walk_tree

if TYPE_CHECKING:
    from omg.arch.resolve import Plan
    from omg.arch.settings import ArchSettings


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


# --- the static check, the tree and the question ---------------------------------------

def findings(pkgbase: str, srcdir: Path) -> list[lint.Finding]:
    """The static check of PKGBUILD and the install scripts (top-level `*.install`)."""
    out: list[lint.Finding] = []
    for path in sorted(srcdir.iterdir()):
        if (path.name == "PKGBUILD" or path.suffix == ".install") and path.is_file() \
                and not path.is_symlink():
            out += lint.check(path.read_text(errors="replace"), f"{pkgbase}/{path.name}",
                              install_script=path.suffix == ".install")
    return out


def findings_text(found: list[lint.Finding]) -> str:
    if not found:
        return ""
    lines = [f"==> static check: {len(found)} finding{'s' if len(found) > 1 else ''}\n"]
    for f in found:
        lines.append(f"  {f.severity:<6} {f.file}:{f.line} {f.rule}: {f.message}\n"
                     f"         | {f.text}\n")
    return "".join(lines)


def builder(arch: ArchSettings) -> str:
    """Who makepkg runs as: the build user only when omg is root (omg.arch.build)."""
    if os.geteuid() == 0:
        return arch.build_user
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def question(bases: list[str], who: str, found: list[lint.Finding]) -> str:
    q = f"Build {', '.join(bases)} as {who}?"
    if not found:
        return q
    named = ", ".join(f.short() for f in found[:4]) + (", ..." if len(found) > 4 else "")
    high = sum(f.severity == lint.HIGH for f in found)
    return f"{len(found)} finding{'s' if len(found) > 1 else ''} ({high} high: {named}). {q}"


def dependency_tree(plan: Plan, targets: list[str], *, reused: set[str],
                    installed: Callable[[str], str | None]) -> str:
    """The AUR and repository dependencies of the targets, each with its state."""
    infos = {str(i["Name"]): i for i in plan.order}
    lines = ["==> dependencies\n"]
    seen: set[str] = set()

    def aur_line(name: str, kind: str) -> str:
        info = infos[name]
        state = "in the store" if name in reused else "to build"
        return f"{name} {info.get('Version', '')} [AUR{kind}, {state}]"

    def walk(name: str, prefix: str) -> None:
        info = infos[name]
        children: list[tuple[str, str, bool]] = []  # (text, AUR name or "", make)
        for key in ("Depends", "MakeDepends", "CheckDepends"):
            listed = info.get(key)
            for item in listed if isinstance(listed, list) else []:
                dep, dn = str(item), dep_name(str(item))
                kind = "" if key == "Depends" else ", make"
                if dn in infos and dn in plan.aur_deps.get(name, []):
                    children.append((aur_line(dn, kind), dn, kind != ""))
                else:
                    have = installed(dep)
                    state = f"installed {have}" if have else "not installed"
                    children.append((f"{dep} [repo{kind}, {state}]", "", kind != ""))
        for i, (text, aur_name, _make) in enumerate(children):
            last = i == len(children) - 1
            again = aur_name in seen and bool(infos[aur_name].get("Depends") or
                                              infos[aur_name].get("MakeDepends"))
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{text}"
                         f"{' (see above)' if again else ''}\n")
            if aur_name and aur_name not in seen:
                seen.add(aur_name)
                walk(aur_name, prefix + ("   " if last else "│  "))

    for t in dict.fromkeys(targets):
        if t in infos:
            lines.append(aur_line(t, "") + "\n")
            seen.add(t)
            walk(t, "")
    return "".join(lines)


def approve(arch: ArchSettings, sources: Mapping[str, Path], tree: str, *, home: Path,
            noconfirm: bool, confirm: Callable[[str], bool] | None,
            show: Callable[[str], None] | None) -> list[lint.Finding]:
    """Show, check and ask before any build; the findings, for the result. `home`:
    where the last reviewed copies are (this user's, also in the shared mode)."""
    if not sources:
        return []
    found = [f for base, src in sources.items() for f in findings(base, src)]
    if noconfirm:
        for line in findings_text(found).splitlines():
            sys.stderr.write(f"warning: {line.strip()}\n")
    elif show is not None:  # one text: one pager on a terminal
        show("".join(review_text(home, base, src)
                     + findings_text([f for f in found if f.file.startswith(f"{base}/")])
                     for base, src in sources.items()) + tree)
    high = [f for f in found if f.severity == lint.HIGH]
    if high and arch.review_findings == "deny":
        raise UnsafeInput(f"{len(high)} high-severity finding{'s' if len(high) > 1 else ''} "
                          f"in review: {', '.join(f.short() for f in high)}",
                          hint='nothing was built; [arch] review_findings = "warn" leaves '
                               'the decision to you')
    if not noconfirm:
        if confirm is None or not confirm(question(list(sources), builder(arch), found)):
            raise Interrupted("build declined: nothing was built")
        for base, src in sources.items():
            mark_reviewed(home, base, src)
    return found


# --- on a terminal: colour --------------------------------------------------------

_COLOURS = (("==> ", "\033[1m"), ("+++ ", "\033[1m"), ("--- ", "\033[1m"),
            ("@@", "\033[36m"), ("+", "\033[32m"), ("-", "\033[31m"),
            ("  high ", "\033[1;31m"), ("  medium ", "\033[33m"), ("  low ", "\033[33m"))


def colour(text: str) -> str:
    """ANSI colours for a review: headers bold, additions green, removals red."""
    out = []
    for line in text.splitlines(True):
        for start, code in _COLOURS:
            if line.startswith(start):
                body = line.rstrip("\n")
                line = f"{code}{body}\033[0m" + line[len(body):]
                break
        out.append(line)
    return "".join(out)
