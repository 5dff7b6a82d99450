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
}  # fmt: skip
# No pictures yet: the pages' Content-Security-Policy allows images from the company host only,
# and articles have no uploads of their own (a picture's Markdown stays as its alt text).
ATTRIBUTES = {"a": {"href", "title"}}
_BLANKS = re.compile(r"\s+")

_markdown = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "typographer": False}
).enable(["table", "strikethrough"])


def to_html(source: str) -> str:
    """The article's Markdown as safe HTML."""
    return nh3.clean(
        _markdown.render(source),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def to_text(rendered: str) -> str:
    """The words of the rendered article, for search and snippets (no markup, no links)."""
    bare = nh3.clean(rendered.replace("</", " </").replace("<br", " <br"), tags=set())
    return _BLANKS.sub(" ", html.unescape(bare)).strip()
