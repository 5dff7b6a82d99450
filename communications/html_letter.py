"""The HTML part of a letter written as plain text in the CRM (a reply box, not an editor).

Mail programs show the HTML part of a multipart/alternative letter: paragraphs, clickable links
and lists read better there than a wall of plain text, and the text part stays for the rest.
What the person typed is escaped first; blank lines part paragraphs, lines starting with "-",
"*" or "•" make a bulleted list and "1." / "1)" a numbered one; web and mail addresses become
links (Django's ``urlize``). The result passes nh3's allow-list as received letters do
(``sanitise``), so nothing typed can become markup of its own.
"""

from __future__ import annotations

import re

import nh3
from django.utils.html import escape, urlize

TAGS = {"a", "br", "li", "ol", "p", "ul"}
BULLET = re.compile(r"^\s*[-*•]\s+(?P<item>\S.*)$")
NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(?P<item>\S.*)$")
STYLE = "font-family: Arial, sans-serif; font-size: 14px; line-height: 1.5;"


def _line(text: str) -> str:
    return urlize(escape(text), nofollow=True, autoescape=False)


def _block(lines: list[str]) -> list[str]:
    """One paragraph's lines: runs of list items become lists, the rest a paragraph."""
    out: list[str] = []
    plain: list[str] = []
    items: list[str] = []
    kind = ""

    def flush() -> None:
        nonlocal kind
        if plain:
            out.append("<p>" + "<br>".join(_line(t) for t in plain) + "</p>")
            plain.clear()
        if items:
            out.append(f"<{kind}>" + "".join(f"<li>{_line(t)}</li>" for t in items) + f"</{kind}>")
            items.clear()
        kind = ""

    for line in lines:
        bullet, numbered = BULLET.match(line), NUMBERED.match(line)
        found = "ul" if bullet else "ol" if numbered else ""
        if found and (plain or found != kind):
            flush()
        if found:
            kind = found
            items.append((bullet or numbered).group("item"))  # type: ignore[union-attr]
        else:
            if items:
                flush()
            plain.append(line)
    flush()
    return out


def text_to_html(text: str) -> str:
    """The letter's text as a small, safe HTML document."""
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip())
    body = "".join(part for block in blocks if block.strip() for part in _block(block.split("\n")))
    safe = nh3.clean(
        body,
        tags=TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f'<body><div style="{STYLE}">{safe}</div></body></html>'
    )
