"""Listing GitHub releases (the API) for providers whose artifacts are release assets.

The API base is its own mirror setting (``OMG_<TOOL>_API_MIRROR``, default
``https://api.github.com/repos/<owner>/<repo>``); the assets come from
``OMG_<TOOL>_MIRROR`` (``.../releases/download``), so both can be mirrored.

The API answers 100 releases a page at most, so a listing reads every page: it
follows ``Link: rel="next"`` when the server sends Link headers (GitHub does,
and then their absence ends the listing), else it asks ``?page=N+1`` while
pages are full. A static mirror ignores ``?page=`` and answers the same page
again: that ends the listing too. Each page is cached on its own.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from omg.providers.base import Context, bad_index, parse_json

PER_PAGE = 100
#: A bound for a server whose pages never end (a Link cycle, a broken pager).
MAX_PAGES = 100

_LINK = re.compile(r'<([^>]*)>\s*;[^,]*?\brel="?([^",]*)"?')


def api_mirror_var(tool: str) -> str:
    return f"OMG_{tool.upper()}_API_MIRROR"


def next_page(link: str) -> int | None:
    """The page number a Link header's rel="next" names, if any.

    Only the number is taken: GitHub's links name ``/repositories/<id>/...``,
    and the listing must keep going through the configured mirror.
    """
    for target, rels in _LINK.findall(link):
        if "next" in rels.split():
            pages = parse_qs(urlsplit(target).query).get("page", [])
            return int(pages[0]) if pages and pages[0].isdigit() else None
    return None


def list_releases(ctx: Context, tool: str, default_api: str, *,
                  ttl: float) -> list[dict[str, object]]:
    """Every non-draft release the API lists, newest first (the API's order); each has
    a text ``tag_name``."""
    base = ctx.mirror_of(f"{tool}_api", default_api)
    out: list[dict[str, object]] = []
    previous = b""
    page = 1
    for _ in range(MAX_PAGES):
        url = f"{base}/releases?per_page={PER_PAGE}&page={page}"
        doc = ctx.fetch(url, api_mirror_var(tool), ttl)
        if doc.body == previous:  # a static mirror ignores ?page=: nothing more
            break
        data = parse_json(url, doc.body)
        if not isinstance(data, list):
            raise bad_index(url, "expected a list of releases")
        for item in data:
            if not isinstance(item, dict) or not isinstance(item.get("tag_name"), str):
                raise bad_index(url, "a release lacks 'tag_name'")
            if not item.get("draft"):
                out.append(item)
        if doc.link:  # the server pages with Link headers: they alone say what follows
            following = next_page(doc.link)
            if following is None or following <= page:
                break
            page = following
        elif len(data) < PER_PAGE:
            break
        else:
            page += 1
        previous = doc.body
    return out
