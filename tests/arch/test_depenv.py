"""The build environment of store dependencies (pure)."""

from __future__ import annotations

from omg.arch.depenv import dep_env


def test_each_search_path_lists_the_dependencies_in_order() -> None:
    env = dep_env("/s", ["a-lib-1", "b-tool-2", "a-lib-1"])
    assert env["PATH"] == "/s/a-lib-1/usr/bin:/s/b-tool-2/usr/bin"
    assert env["PKG_CONFIG_PATH"].split(":") == [
        "/s/a-lib-1/usr/lib/pkgconfig", "/s/a-lib-1/usr/share/pkgconfig",
        "/s/b-tool-2/usr/lib/pkgconfig", "/s/b-tool-2/usr/share/pkgconfig"]
    assert env["CPATH"] == "/s/a-lib-1/usr/include:/s/b-tool-2/usr/include"
    assert env["LIBRARY_PATH"] == env["LD_LIBRARY_PATH"] == \
        "/s/a-lib-1/usr/lib:/s/b-tool-2/usr/lib"


def test_no_dependencies_no_variables() -> None:
    assert dep_env("/s", []) == {}
