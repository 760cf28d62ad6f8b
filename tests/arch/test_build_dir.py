"""Several users share one build_dir (the default /var/tmp/omg-build): each gets a
private directory of its own in it, whoever made it first."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.fsutil import force_remove
from tests.daemon.test_users import User, users  # noqa: F401  (the fixture)

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A directory like /var/tmp (world-writable, sticky) the users can reach."""
    path = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="omg-build-dir-"))
    os.chmod(path, 0o1777)
    try:
        yield path
    finally:
        force_remove(path)


def work_root_as(user: User, build_dir: Path) -> subprocess.CompletedProcess[str]:
    code = ("import sys; from pathlib import Path; from omg.arch.build import _work_root; "
            "from store.errors import OmgError\n"
            "try: print(_work_root(Path(sys.argv[1])))\n"
            "except OmgError as e: print(e, file=sys.stderr); sys.exit(e.exit_code)")
    return subprocess.run([sys.executable, "-c", code, str(build_dir)], cwd=REPO,
                          user=user.uid, group=user.gid, extra_groups=[],
                          capture_output=True, text=True, env={"PYTHONPATH": str(REPO)})


def test_two_users_share_a_build_dir(users: tuple[User, User],  # noqa: F811
                                     shared_tmp: Path) -> None:
    build_dir = shared_tmp / "omg-build"
    first, second = (work_root_as(u, build_dir) for u in users)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr  # the old chmod failed here
    assert stat.S_IMODE(build_dir.stat().st_mode) == 0o1777
    for user, proc in zip(users, (first, second), strict=True):
        mine = Path(proc.stdout.strip())
        assert mine.parent == build_dir
        st = mine.stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (user.uid, 0o700)


def test_a_build_dir_a_user_cannot_write_is_a_clear_error(users: tuple[User, User],  # noqa: F811
                                                          shared_tmp: Path) -> None:
    build_dir = shared_tmp / "root-made"
    build_dir.mkdir(mode=0o755)
    proc = work_root_as(users[0], build_dir)
    assert proc.returncode == 9
    assert proc.stderr.startswith(f"cannot make a build directory in {build_dir}")
    # a directory of that name made by someone else is refused, not used
    os.chmod(build_dir, 0o1777)
    (build_dir / f"user-{users[0].uid}").mkdir()
    proc = work_root_as(users[0], build_dir)
    assert proc.returncode == 7 and "is not a directory of yours" in proc.stderr
