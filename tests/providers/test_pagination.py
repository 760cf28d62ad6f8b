"""Release listings read every page: GitHub's API (100 releases a page, `Link` headers)
for bun, python and ruby, and Adoptium's (20 builds a page, 404 past the end) for java.

The mirror's `routes` answer like the real APIs; a plain file stands for a static
mirror that ignores `?page=`.
"""

from __future__ import annotations

import json
from typing import Any

from omg import install
from omg.config import Settings
from tests.providers.mirrors import MirrorServer, build_bun, write

BUN_API = "/gh/oven-sh/bun/releases"
JAVA_21 = "/adoptium/v3/assets/feature_releases/21/ga"


def _bun_releases(n: int) -> list[dict[str, Any]]:
    """`n` releases newest first: 1.{n/10-1}.9 ... 1.0.0."""
    return [{"tag_name": f"bun-v1.{(n - 1 - i) // 10}.{(n - 1 - i) % 10}", "draft": False,
             "prerelease": False, "published_at": "2024-05-01T00:00:00Z"} for i in range(n)]


def _github(releases: list[dict[str, Any]], *, links: bool = True) -> Any:
    """GitHub's pager: `per_page`/`page`, and Link headers naming /repositories/<id>."""

    def route(query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        per, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        last = max(1, -(-len(releases) // per))
        body = json.dumps(releases[(page - 1) * per: page * per]).encode()
        if not links:
            return 200, body, {}
        u = f"https://api.github.com/repositories/42/releases?per_page={per}&page="
        rels = [f'<{u}{page + 1}>; rel="next"'] if page < last else []
        rels.append(f'<{u}{last}>; rel="last"')
        return 200, body, {"Link": ", ".join(rels)}

    return route


def _hits(mirror: MirrorServer, path: str) -> int:
    return sum(1 for p, _ in mirror.requests if p == path)


def test_link_header_pages_are_followed(settings: Settings, mirror: MirrorServer) -> None:
    mirror.routes[BUN_API] = _github(_bun_releases(250))
    versions = [r.version for r in install.list_remote(settings, "bun")]
    assert len(versions) == 250 and versions[0] == "1.24.9" and versions[-1] == "1.0.0"
    assert _hits(mirror, BUN_API) == 3
    # A version only the last page lists installs.
    build_bun(mirror.root, mirror.url, versions=("1.0.0",))
    [r] = install.install(settings, ["bun@1.0.0"])
    assert r.version == "1.0.0"


def test_no_next_link_ends_the_listing(settings: Settings, mirror: MirrorServer) -> None:
    releases = _bun_releases(100)
    mirror.routes[BUN_API] = lambda q: (200, json.dumps(releases).encode(),
                                        {"Link": '<https://x/r?page=1>; rel="first"'})
    assert len(install.list_remote(settings, "bun")) == 100
    assert _hits(mirror, BUN_API) == 1


def test_pages_without_links_are_asked_while_full(settings: Settings,
                                                  mirror: MirrorServer) -> None:
    mirror.routes[BUN_API] = _github(_bun_releases(150), links=False)
    assert len(install.list_remote(settings, "bun")) == 150
    assert _hits(mirror, BUN_API) == 2


def test_static_mirror_ignoring_page_is_read_once(settings: Settings,
                                                  mirror: MirrorServer) -> None:
    """A full page served again for ?page=2 is the same page: the listing stops."""
    write(mirror.root / BUN_API.lstrip("/"), json.dumps(_bun_releases(100)))
    versions = [r.version for r in install.list_remote(settings, "bun")]
    assert len(versions) == len(set(versions)) == 100
    assert _hits(mirror, BUN_API) == 2


def test_each_page_is_cached(settings: Settings, mirror: MirrorServer) -> None:
    mirror.routes[BUN_API] = _github(_bun_releases(250))
    install.list_remote(settings, "bun")
    n = len(mirror.requests)
    assert len(install.list_remote(settings, "bun")) == 250
    assert len(mirror.requests) == n


def test_ruby_and_python_read_every_page(settings: Settings, mirror: MirrorServer) -> None:
    ruby = json.loads((mirror.root / "gh/jdx/ruby/releases").read_text())
    filler = [{"tag_name": f"9.9.{i}", "draft": False, "assets": []} for i in range(120)]
    mirror.routes["/gh/jdx/ruby/releases"] = _github(filler + ruby)
    assert [r.version for r in install.list_remote(settings, "ruby")][:1] == ["3.3.4"]
    pbs = json.loads((mirror.root / "gh/astral-sh/pbs/releases").read_text())
    old = [{"tag_name": f"2019{i:04d}", "draft": False} for i in range(100)]
    for tag in old:  # no build for this platform in these
        write(mirror.root / "pbs" / tag["tag_name"] / "SHA256SUMS", "")
    # Newest tags last in the API's answer: only reading page 2 finds them.
    mirror.routes["/gh/astral-sh/pbs/releases"] = _github(old + pbs)
    assert install.list_remote(settings, "python")[0].version == "3.12.5"


def test_next_page_reads_link_headers() -> None:
    from omg.providers.github import next_page

    link = ('<https://api.github.com/repositories/1/releases?per_page=100&page=3>; '
            'rel="next", <https://api.github.com/repositories/1/releases?page=9>; rel="last"')
    assert next_page(link) == 3
    assert next_page('<https://x/releases?page=1>; rel="prev"') is None
    assert next_page('<https://x/releases?page=2>; rel="next last"') == 2
    assert next_page("") is None


def _adoptium(n: int, *, cap: int = 20) -> Any:
    builds = [{"release_name": f"jdk-21.0.{n - 1 - i}+1", "timestamp": "2024-01-01T00:00:00Z",
               "version_data": {"semver": f"21.0.{n - 1 - i}+1", "major": 21},
               "binaries": [{"image_type": "jdk", "package": {
                   "link": f"http://unused/{i}.tar.gz", "checksum": "4" * 64,
                   "name": f"{i}.tar.gz"}}]} for i in range(n)]

    def route(query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        size, page = min(int(query.get("page_size", 10)), cap), int(query.get("page", 0))
        chunk = builds[page * size:(page + 1) * size]
        if not chunk:
            return 404, b'{"errorMessage": "No releases match the request"}', {}
        return 200, json.dumps(chunk).encode(), {}

    return route


def test_adoptium_pages_until_a_short_page(settings: Settings, mirror: MirrorServer) -> None:
    mirror.routes[JAVA_21] = _adoptium(45)
    java21 = [r.version for r in install.list_remote(settings, "java") if r.version[:3] == "21."]
    assert len(java21) == 45 and "21.0.0+1" in java21
    assert _hits(mirror, JAVA_21) == 3


def test_adoptium_404_past_the_end(settings: Settings, mirror: MirrorServer) -> None:
    mirror.routes[JAVA_21] = _adoptium(40)
    java21 = [r.version for r in install.list_remote(settings, "java") if r.version[:3] == "21."]
    assert len(java21) == 40 and _hits(mirror, JAVA_21) == 3  # 20, 20, then a 404


def test_adoptium_static_mirror_full_page(settings: Settings, mirror: MirrorServer) -> None:
    """A static mirror serves its one file for every page: read once, not forever."""
    route = _adoptium(20)
    write(mirror.root / JAVA_21.lstrip("/"), route({"page": "0", "page_size": "20"})[1])
    java21 = [r.version for r in install.list_remote(settings, "java") if r.version[:3] == "21."]
    assert len(java21) == 20 and _hits(mirror, JAVA_21) == 2
