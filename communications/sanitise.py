"""Received HTML made safe to show inside the CRM's pages (nh3, the Ammonia sanitiser).

Scripts, styles, event handlers and forms go; links open outside with no referrer. Remote
images are tracking pixels as often as pictures, so they are dropped until the person asks
to see them (the page's Content-Security-Policy blocks them too unless asked).
"""

from __future__ import annotations

from dataclasses import dataclass

import nh3

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em",
    "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "q",
    "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "*": {"title"},
}


@dataclass(frozen=True)
class SafeHtml:
    html: str
    blocked_images: int


def _is_remote(url: str) -> bool:
    return url.strip().lower().startswith(("http:", "https:", "//"))


def clean(html: str, *, show_images: bool = False) -> SafeHtml:
    blocked = 0

    def keep(tag: str, attribute: str, value: str) -> str | None:
        nonlocal blocked
        if tag == "img" and attribute == "src":
            if not _is_remote(value):
                return None  # cid: parts and data: payloads are not shown inline
            if not show_images:
                blocked += 1
                return None
        return value

    safe = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=keep,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return SafeHtml(safe, blocked)
