"""Sites allowed to embed a company's request form, as web origins (scheme://host[:port]).

They end up in a Content-Security-Policy header (frame-ancestors), where a stray ``;`` or
``'unsafe-inline'`` would rewrite the policy, so every entry is parsed as an origin when the
admin saves it and again when the header is written (rows saved before the check existed).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A host name, optionally with a leading "*." (CSP's "any subdomain of").
_HOST = re.compile(rf"^(?:\*\.)?(?:{_LABEL}\.)*{_LABEL}$")


def parse_origin(text: str) -> str:
    """``https://Okna.example:8443/`` → ``https://okna.example:8443``; anything that is not an
    http(s) origin (a path, a query, credentials, quotes, spaces, semicolons) is refused."""
    raw = text.strip()
    refused = ValidationError(
        _("%(site)s is not a site address like https://okna.example"),
        code="origin",
        params={"site": raw[:100]},
    )
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise refused from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise refused
    host = parts.hostname
    if ":" in host:  # an IPv6 literal
        try:
            host = f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise refused from None
    else:
        wildcard = host.startswith("*.")
        name = host[2:] if wildcard else host
        try:
            # An IDN (окна.рф) as the browser sends it in the header: punycode.
            host = ("*." if wildcard else "") + name.encode("idna").decode("ascii")
        except UnicodeError:
            raise refused from None
        if not _HOST.match(host):
            raise refused
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def parse_sites(text: str) -> list[str]:
    """Every line (or space-separated entry) as an origin; the first bad one is refused."""
    return list(dict.fromkeys(parse_origin(entry) for entry in text.split()))


def validate_sites(text: str) -> None:
    parse_sites(text)


def frame_ancestors(text: str) -> str:
    """The frame-ancestors sources for the stored list: only valid origins get through (a bad
    entry saved before validation is left out and logged); an empty list means any site, but
    a list whose entries were all bad means none but our own."""
    entries = text.split()
    if not entries:
        return "'self' *"
    good = []
    for entry in entries:
        try:
            good.append(parse_origin(entry))
        except ValidationError:
            logger.warning("request form: ignoring a site that is not an origin: %r", entry[:100])
    return " ".join(["'self'", *dict.fromkeys(good)])
