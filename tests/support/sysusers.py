"""Real Linux users and groups for the tests that need them, made once per machine.

Several pytest workers (pytest-xdist) may ask for the same user at the same time, and
useradd refuses a name another useradd has just taken: creation is serialised by one
lock file, and a user that exists is used as it is. Users are kept after the run (other
test files use the same names); the tests never delete a user they did not make.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

#: Root-only (the tests that use it run as root); /run is not shared with other hosts.
_LOCK = "/run/omg-tests-users.lock"


@contextmanager
def users_lock() -> Iterator[None]:
    """Held while users or groups are made, and by tests that delete one."""
    fd = os.open(_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _exists(kind: str, name: str) -> bool:
    return subprocess.run(["getent", kind, name], capture_output=True).returncode == 0


def ensure_group(name: str) -> None:
    with users_lock():
        if not _exists("group", name):
            subprocess.run(["groupadd", "--system", name], check=True)


def ensure_user(name: str, *, home: bool = False,
                groups: tuple[str, ...] = ()) -> pwd.struct_passwd:
    """The system user `name` (no login shell; with a home directory if `home`),
    made if missing, and a member of `groups` (which must exist)."""
    with users_lock():
        if not _exists("passwd", name):
            subprocess.run(["useradd", "--system", "-m" if home else "-M",
                            "-s", "/usr/sbin/nologin", name], check=True)
        for group in groups:
            subprocess.run(["usermod", "-aG", group, name], check=True)
    return pwd.getpwnam(name)
