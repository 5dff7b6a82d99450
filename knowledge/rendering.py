"""Articles are written in Markdown (CommonMark with tables and strikethrough, by
markdown-it-py) and shown as HTML that nh3 has cleaned: raw HTML typed into an article is
shown as text, and whatever the renderer makes passes through the same allow-list before it
reaches a page. Links open outside with no referrer; only web, mail and phone links stay."""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "ul",
    "img",
}  # fmt: skip
# Pictures only from the company's own article pictures (a path on the host the page is on,
# so company A's article can never show a picture of B's, or track its readers elsewhere).
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
OWN_PICTURE = re.compile(
    r"/help/images/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/"
)
_BLANKS = re.compile(r"\s+")

_markdown = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "typographer": False}
).enable(["table", "strikethrough"])


def _only_own_pictures(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if OWN_PICTURE.fullmatch(value) else None
    return value


def to_html(source: str) -> str:
    """The article's Markdown as safe HTML."""
    return nh3.clean(
        _markdown.render(source),
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=_only_own_pictures,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def to_text(rendered: str) -> str:
    """The words of the rendered article, for search and snippets (no markup, no links)."""
    bare = nh3.clean(rendered.replace("</", " </").replace("<br", " <br"), tags=set())
    return _BLANKS.sub(" ", html.unescape(bare)).strip()
