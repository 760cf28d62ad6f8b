"""End to end with real Bun and a real CPython, each through a profile.

Bun: the npm registry's `@oven/bun-linux-x64`, laid out as Bun's GitHub release
(`bun-v<v>/bun-linux-x64.zip` with `bun-linux-x64/bun`, SHASUMS256.txt). Python: a
real upstream CPython build made relocatable and laid out as python-build-standalone's
install_only release (tests/support/realbin.py `relocatable_python`). Both served by a
local mirror in the upstream layout, installed and used through `omg use`.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.fsutil import force_remove
from tests.conftest import OmgEnv, make_env
from tests.support import realbin, sysusers

pytestmark = pytest.mark.slow

USER = "omg-py-t"


def _bin(omg_env: OmgEnv) -> Path:
    return Path(json.loads(omg_env.run("current", "--json", check=True).stdout)["bin"])


def _use(omg_env: OmgEnv, mirror: Path, layout: dict[str, str], spec: str) -> None:
    with realbin.serve(mirror) as url:
        env = {k: v.format(url=url) for k, v in layout.items()}
        omg_env.run("use", spec, extra_env=env, check=True)


def test_real_bun_and_bunx_through_the_profile(omg_env: OmgEnv, tmp_path: Path) -> None:
    try:
        layout = realbin.build_bun_mirror(tmp_path / "m")
    except Exception as exc:  # no registry reachable and nothing cached
        pytest.skip(f"cannot fetch the real Bun: {exc}")
    _use(omg_env, tmp_path / "m", layout, f"bun@{realbin.BUN_VERSION}")
    bin_dir = _bin(omg_env)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(omg_env.root / "home")}
    for exe in ("bun", "bunx"):
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True,
                             env=env)
        assert out.stdout.strip() == realbin.BUN_VERSION, exe


@pytest.fixture(scope="module")
def python_home() -> Iterator[tuple[OmgEnv, Path]]:
    """An OMG_HOME every user can traverse, with the real CPython in use in its profile."""
    try:
        build = realbin.relocatable_python()
    except Exception as exc:
        pytest.skip(f"cannot make a relocatable CPython here: {exc}")
    root = Path(tempfile.mkdtemp(prefix="omg-py-"))
    try:
        os.chmod(root, 0o755)
        omg_env = make_env(root / "e")
        layout = realbin.build_python_mirror(root / "m")
        _use(omg_env, root / "m", layout, f"python@{build['version']}")
        [py] = omg_env.store().find("python")
        yield omg_env, omg_env.layout.store_path(py.path)
    finally:
        force_remove(root)


def _tree(path: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry of a store path: (mode, size, mtime), to see that nothing is written."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def _python_checks(bin_dir: Path, prefix: Path, work: Path, user: pwd.struct_passwd | None
                   ) -> None:
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(work), "LC_ALL": "C.UTF-8"}

    def run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(cmd), capture_output=True, text=True, env=env, cwd=work,
                              check=check, timeout=300, user=user and user.pw_uid,
                              group=user and user.pw_gid, extra_groups=user and [])

    out = run("python3", "-c", "import ssl, sys, os, json, sqlite3, email.mime.text, "
              "asyncio; print(sys.prefix); print(os.__file__)").stdout.split()
    assert out[0] == str(prefix)  # the store path, and its own stdlib
    assert out[1].startswith(f"{prefix}/lib/python3.") and out[1].endswith("/os.py")
    assert run("python", "-c", "import sys; print(sys.prefix)").stdout.strip() == str(prefix)
    assert f"{prefix}/lib/python3." in run("pip", "--version").stdout
    assert f"{prefix}/lib/python3." in run("pip3", "--version").stdout
    refused = run("pip", "install", "--no-index", "six", check=False)
    assert refused.returncode != 0
    assert "externally-managed-environment" in refused.stderr
    assert "omg venv create NAME" in refused.stderr
    run("python3", "-m", "venv", str(work / "venv"))
    venv = run(str(work / "venv" / "bin" / "python"), "-c",
               "import sys; print(sys.prefix); print(sys.base_prefix)").stdout.split()
    assert venv == [str(work / "venv"), str(prefix)]
    assert "venv" in run(str(work / "venv" / "bin" / "pip"), "--version").stdout


def test_real_python_through_the_profile_as_root(python_home: tuple[OmgEnv, Path],
                                                 tmp_path: Path) -> None:
    omg_env, prefix = python_home
    before = _tree(prefix)
    _python_checks(_bin(omg_env), prefix, tmp_path, None)
    assert _tree(prefix) == before  # no .pyc (or anything) written into the store
    omg_env.run("store", "verify", check=True)


def test_real_python_through_the_profile_as_a_user(python_home: tuple[OmgEnv, Path]) -> None:
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("a real user needs root and useradd")
    pw = sysusers.ensure_user(USER)
    omg_env, prefix = python_home
    work = Path(tempfile.mkdtemp(prefix="omg-py-user-"))
    try:
        os.chown(work, pw.pw_uid, pw.pw_gid)
        before = _tree(prefix)
        _python_checks(_bin(omg_env), prefix, work, pw)
        assert _tree(prefix) == before
        omg_env.run("store", "verify", check=True)
    finally:
        force_remove(work)
