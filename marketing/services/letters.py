"""A campaign's letter: its blocks (heading, text, button, image, divider) with placeholders,
turned into the HTML and plain-text parts for one recipient.

Placeholders are written in braces: {first_name}, {last_name}, {middle_name}, {full_name},
{name_and_patronymic}, {first_name_dative}, {name_and_patronymic_dative}, {dear} and {client}.
Text is escaped before the values go in, so neither the author nor a contact person's name can
put markup into a letter. Links are http(s) only; the worker replaces each with a tracked
redirect through the company host (``link_for``)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from crm_core.models import Contact
from marketing.salutation import dative, gender

KINDS = {
    "heading": gettext_lazy("Heading"),
    "text": gettext_lazy("Text"),
    "button": gettext_lazy("Button"),
    "image": gettext_lazy("Image"),
    "divider": gettext_lazy("Divider"),
}
PLACEHOLDERS = (
    "first_name",
    "last_name",
    "middle_name",
    "full_name",
    "name_and_patronymic",
    "first_name_dative",
    "name_and_patronymic_dative",
    "dear",
    "client",
)
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Anything in braces that looks like a placeholder ("{имя}", "{Name}") is checked, so a typo
# is an error on saving rather than braces in a thousand letters.
LOOKS_LIKE_PLACEHOLDER = re.compile(r"\{(\w{1,40})\}")
MAX_BLOCKS = 50
MAX_TEXT = 10_000


def _url(value: Any, field: str, number: int) -> str:
    url = str(value or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(url) > 2000:
        raise ValidationError(
            _("Block %(n)s: %(field)s must be an http(s) address.") % {"n": number, "field": field}
        )
    return url


def _placeholders(text: str, number: int) -> str:
    unknown = sorted(
        {name for name in LOOKS_LIKE_PLACEHOLDER.findall(text) if name not in PLACEHOLDERS}
    )
    if unknown:
        raise ValidationError(
            _("Block %(n)s: unknown placeholder %(names)s.")
            % {"n": number, "names": ", ".join("{" + u + "}" for u in unknown)}
        )
    return text


def unknown_placeholders(text: str) -> list[str]:
    return sorted(
        {name for name in LOOKS_LIKE_PLACEHOLDER.findall(text) if name not in PLACEHOLDERS}
    )


def clean_blocks(raw: Any) -> list[dict[str, str]]:
    """The blocks as they are kept, or a ValidationError naming the block at fault."""
    if not isinstance(raw, list) or len(raw) > MAX_BLOCKS:
        raise ValidationError(_("At most %(n)s blocks.") % {"n": MAX_BLOCKS})
    blocks: list[dict[str, str]] = []
    for number, block in enumerate(raw, start=1):
        if not isinstance(block, dict) or block.get("kind") not in KINDS:
            raise ValidationError(_("Block %(n)s: unknown kind.") % {"n": number})
        kind = str(block["kind"])
        text = _placeholders(str(block.get("text") or "").strip()[:MAX_TEXT], number)
        if kind in {"heading", "text", "button"} and not text:
            raise ValidationError(_("Block %(n)s is empty.") % {"n": number})
        kept = {"kind": kind, "text": text}
        if kind == "button":
            kept["url"] = _url(block.get("url"), _("the button's link"), number)
        if kind == "image":
            kept["url"] = _url(block.get("url"), _("the image's address"), number)
        blocks.append(kept)
    if not any(b["kind"] in {"heading", "text"} for b in blocks):
        raise ValidationError(_("Write at least a heading or a text."))
    return blocks


def values_for(contact: Contact | None, language: str) -> dict[str, str]:
    """What the placeholders say for this person (empty strings for a test letter to nobody)."""
    first = contact.first_name if contact else ""
    middle = contact.middle_name if contact else ""
    last = contact.last_name if contact else ""
    sex = gender(first, middle)
    with override(language):
        dear = {
            "male": _("Dear (to a man)"),
            "female": _("Dear (to a woman)"),
        }.get(sex, _("Hello"))
    pair = " ".join(p for p in (first, middle) if p)
    pair_dative = " ".join(
        p for p in (dative(first, "first", sex), dative(middle, "middle", sex)) if p
    )
    return {
        "first_name": first,
        "last_name": last,
        "middle_name": middle,
        "full_name": " ".join(p for p in (first, middle, last) if p),
        "name_and_patronymic": pair,
        "first_name_dative": dative(first, "first", sex),
        "name_and_patronymic_dative": pair_dative,
        "dear": dear,
        "client": contact.client.name if contact and contact.client_id and contact.client else "",
    }


def fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@dataclass
class Letter:
    subject: str
    html: str
    text: str


def render(
    *,
    subject: str,
    blocks: list[dict[str, str]],
    values: dict[str, str],
    link_for: Callable[[str], str],
    unsubscribe_url: str,
    open_pixel_url: str = "",
    company_name: str,
    language: str,
) -> Letter:
    """The letter for one recipient. ``link_for`` turns an author's link into the tracked one
    (the identity for a preview)."""
    shown: list[dict[str, str]] = []
    lines: list[str] = []
    for block in blocks:
        text = fill(block.get("text", ""), values)
        item = {"kind": block["kind"], "text": text}
        if block["kind"] in {"button", "image"}:
            item["url"] = link_for(block["url"]) if block["kind"] == "button" else block["url"]
        shown.append(item)
        if block["kind"] == "divider":
            lines.append("—" * 20)
        elif block["kind"] == "button":
            lines.append(f"{text}: {item['url']}")
        elif block["kind"] == "image":
            if text:
                lines.append(text)
        else:
            lines.append(text)
    with override(language):
        body = render_to_string(
            "marketing/letter.html",
            {
                "blocks": shown,
                "subject": fill(subject, values),
                "unsubscribe_url": unsubscribe_url,
                "open_pixel_url": open_pixel_url,
                "company_name": company_name,
            },
        )
        footer = _("You receive this letter because you agreed to mailings from %(company)s.") % {
            "company": company_name
        }
        footer += "\n" + _("Unsubscribe: %(url)s") % {"url": unsubscribe_url}
    text = "\n\n".join(lines) + "\n\n-- \n" + footer + "\n"
    return Letter(subject=fill(subject, values), html=body, text=text)


def escape(text: str) -> str:
    return html.escape(text)
