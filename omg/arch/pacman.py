"""Delegation to pacman: -S, -R, -U with the configured config, root and dbpath.

Through sudo when omg is not root. pacman's own output goes to the terminal.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from omg.arch.settings import ArchSettings
from store.errors import OmgError, UsageError


class PacmanFailed(OmgError):
    exit_code = 1


def command(arch: ArchSettings, args: list[str]) -> list[str]:
    cmd = ["pacman", "--config", str(arch.pacman_conf)]
    if arch.root:
        cmd += ["--root", arch.root]
    if arch.dbpath:
        cmd += ["--dbpath", arch.dbpath]
    cmd += args
    if os.geteuid() != 0:
        cmd = ["sudo", *cmd]
    return cmd


def output(arch: ArchSettings, args: list[str], *, what: str) -> str:
    """pacman's standard output (a query or `--print`); its errors in the error."""
    if shutil.which("pacman") is None:
        raise UsageError("pacman is not installed")
    proc = subprocess.run(command(arch, args), check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise PacmanFailed(f"pacman {what} failed: {why.removeprefix('error: ')}")
    return proc.stdout


def run(arch: ArchSettings, args: list[str], *, what: str) -> None:
    if shutil.which("pacman") is None:
        raise UsageError("pacman is not installed")
    proc = subprocess.run(command(arch, args), check=False)
    if proc.returncode != 0:
        raise PacmanFailed(f"pacman {what} failed (exit {proc.returncode})")
