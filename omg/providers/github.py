"""Listing GitHub releases (the API) for providers whose artifacts are release assets.

The API base is its own mirror setting (``OMG_<TOOL>_API_MIRROR``, default
``https://api.github.com/repos/<owner>/<repo>``); the assets come from
``OMG_<TOOL>_MIRROR`` (``.../releases/download``), so both can be mirrored.
"""

from __future__ import annotations

from typing import Any

from omg.providers.base import Context, bad_index


def api_mirror_var(tool: str) -> str:
    return f"OMG_{tool.upper()}_API_MIRROR"


def list_releases(ctx: Context, tool: str, default_api: str, *, ttl: float,
                  pages: int = 1) -> list[dict[str, Any]]:
    base = ctx.mirror_of(f"{tool}_api", default_api)
    out: list[dict[str, Any]] = []
    for page in range(1, pages + 1):
        url = f"{base}/releases?per_page=100&page={page}"
        data = ctx.json(url, api_mirror_var(tool), ttl)
        if not isinstance(data, list):
            raise bad_index(url, "expected a list of releases")
        for item in data:
            if not isinstance(item, dict) or not isinstance(item.get("tag_name"), str):
                raise bad_index(url, "a release lacks 'tag_name'")
            if not item.get("draft"):
                out.append(item)
        if len(data) < 100:
            break
    return out
