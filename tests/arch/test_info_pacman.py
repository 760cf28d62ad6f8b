"""`omg info` as pacman -Si / -Qi / -Ql / -Fl show a package, and the AUR's fields."""

from __future__ import annotations

import subprocess
import time

import pytest

from omg.arch.info import humanize_size
from tests.arch.conftest import EPOCH, ArchWorld
from tests.conftest import OmgEnv
from tests.schema import check


def fields(text: str) -> dict[str, str]:
    """`Label : value` lines (continuation lines joined with "|")."""
    out: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if line.startswith(" " * 18) and last:
            out[last] += "|" + line.strip()
        else:
            label, _, value = line.partition(": ")
            last = label.rstrip()
            assert len(label) == 16, line  # pacman's column
            out[last] = value
    return out


def date(seconds: int | str) -> str:
    return time.strftime("%c", time.localtime(int(seconds)))


@pytest.mark.parametrize(("size", "shown"), [
    (0, "0.00 B"), (2048, "2048.00 B"), (2049, "2.00 KiB"), (1572864, "1536.00 KiB"),
    (3 * 1024 * 1024, "3.00 MiB"), (5 * 1024 ** 4, "5.00 TiB")])
def test_sizes_as_pacman_humanizes_them(size: int, shown: str) -> None:
    assert humanize_size(size) == shown


def test_repo_package_as_pacman_si(world: ArchWorld, aenv: OmgEnv) -> None:
    shown = fields(aenv.run("info", "python-repotool", check=True).stdout)
    assert list(shown)[:7] == ["Repository", "Name", "Version", "Description",
                               "Architecture", "URL", "Licenses"]
    assert shown["Repository"] == "testrepo" and shown["Architecture"] == "any"
    assert shown["Depends On"] == "repolib" and shown["Conflicts With"] == "None"
    assert shown["Groups"] == "None" and shown["Replaces"] == "None"
    assert shown["Build Date"] == date(EPOCH) and shown["Packager"] == "Unknown Packager"
    assert shown["Validated By"] == "MD5 Sum  SHA-256 Sum"
    assert shown["Download Size"].endswith((" B", " KiB")) and "Install Date" not in shown
    data = check("info", aenv.run("info", "testrepo/python-repotool", "--json",
                                  check=True).stdout)
    assert data["build_date"] == "2023-11-14T22:13:20Z" and data["install_date"] is None
    assert isinstance(data["size"], int) and isinstance(data["installed_size"], int)
    assert humanize_size(data["size"]) == shown["Download Size"]
    assert data["validated_by"] == ["MD5 Sum", "SHA-256 Sum"]
    provides = fields(aenv.run("info", "repolib", check=True).stdout)["Provides"]
    assert provides == "virtual-lib=1.0"


def test_files_from_the_files_db_then_installed(world: ArchWorld, aenv: OmgEnv) -> None:
    listed = aenv.run("info", "repolib", "--files", check=True).stdout
    assert "repolib /usr/bin/repolib\n" in listed
    assert all(line.startswith("repolib /") for line in listed.splitlines())
    pacman = ["pacman", "--config", str(world.conf), "--noconfirm"]
    subprocess.run([*pacman, "-S", "repolib"], check=True, capture_output=True)
    try:
        shown = fields(aenv.run("info", "repolib", check=True).stdout)
        assert "Install Date" in shown
        data = check("info", aenv.run("info", "repolib", "--json", "--files",
                                      check=True).stdout)
        assert data["installed"] == "1.0-1" and data["install_date"].endswith("Z")
        root = str(world.root).rstrip("/")
        assert f"{root}/usr/bin/repolib" in data["files"]  # pacman -Ql: under the root
    finally:
        subprocess.run([*pacman, "-R", "repolib"], check=True, capture_output=True)


def test_aur_package_fields(world: ArchWorld, aenv: OmgEnv) -> None:
    shown = fields(aenv.run("info", "aur/fixtures-relations", check=True).stdout)
    assert shown["Version"] == "1:2.0-3" and shown["Package Base"] == "fixtures-relations"
    assert shown["Conflicts With"] == "fixtures-old<2" and shown["Replaces"] == "fixtures-old"
    assert shown["Check Deps"] == "repolib" and shown["Licenses"] == "Apache-2.0  MIT"
    assert shown["Optional Deps"] == "aur-tool|python"  # one per line, as pacman
    assert shown["Keywords"] == "fixture  relations" and shown["Groups"] == "fixtures-group"
    assert shown["First Submitted"] == date(1600000000)
    assert shown["Last Modified"] == date(1700500000)
    assert shown["Out Of Date"] == date(1701000000)
    assert shown["Submitter"] == "tester" and shown["Votes"] == "7"
    assert shown["Popularity"] == "0.75" and shown["Maintainer"] == "tester"
    data = check("info", aenv.run("info", "aur/fixtures-relations", "--json",
                                  check=True).stdout)
    assert data["first_submitted"] == "2020-09-13T12:26:40Z"
    assert data["out_of_date"] == "2023-11-26T12:00:00Z" and data["votes"] == 7
    assert data["checkdepends"] == ["repolib"] and data["keywords"] == ["fixture",
                                                                          "relations"]
    orphan = fields(aenv.run("info", "fixtures-uses-tool", check=True).stdout)
    assert orphan["Maintainer"] == "None" and orphan["Out Of Date"] == "No"
    split = check("info", aenv.run("info", "fixtures-split-core", "--json",
                                   check=True).stdout)
    assert split["co_maintainers"] == ["helper-a", "helper-b"]
    assert split["submitter"] == "original" and split["package_base"] == "fixtures-split"


def test_info_errors(world: ArchWorld, aenv: OmgEnv) -> None:
    files = aenv.run("info", "aur/aur-tool", "--files")
    assert files.returncode == 3 and files.stderr.startswith("error: no file list for")
    repo = aenv.run("info", "nosuchrepo/repolib")
    assert repo.returncode == 3 and "no repository 'nosuchrepo'" in repo.stderr
    missing = aenv.run("info", "testrepo/aur-tool")
    assert missing.returncode == 3 and "not found in repository testrepo" in missing.stderr
