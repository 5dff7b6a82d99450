"""Links customers open without an account: the satisfaction survey of one ticket, and the
magic link to follow every ticket of one e-mail address.

Both are signed (Django's signing with SECRET_KEY and a salt of their own) and carry the
company's schema, so a link made for company A names nothing in company B: the views refuse a
link whose schema is not the host's, with the same 404 as a forged one. Nothing is stored.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from relata.db import connection
from tenants.models import Company

SURVEY_SALT = "service.survey"
MAGIC_SALT = "service.magic"
SURVEY_DAYS = 60
MAGIC_DAYS = 30


def _schema() -> str:
    return str(connection.schema_name)


def survey_token(ticket_id: int) -> str:
    return signing.dumps({"s": _schema(), "t": ticket_id}, salt=SURVEY_SALT, compress=True)


def survey_ticket_id(token: str) -> int | None:
    """The ticket of this company the link is for, or None (forged, expired, another's)."""
    try:
        data = signing.loads(token, salt=SURVEY_SALT, max_age=SURVEY_DAYS * 86400)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") != _schema():
        return None
    ticket = data.get("t")
    return ticket if isinstance(ticket, int) else None


def magic_token(email: str) -> str:
    return signing.dumps({"s": _schema(), "e": email.lower()}, salt=MAGIC_SALT, compress=True)


def magic_email(token: str) -> str | None:
    try:
        data = signing.loads(token, salt=MAGIC_SALT, max_age=MAGIC_DAYS * 86400)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") != _schema():
        return None
    email = data.get("e")
    return email if isinstance(email, str) and email else None


def absolute(company: Company, path: str) -> str:
    """A link for a letter: the company's host (letters are read outside any request)."""
    domain = company.get_primary_domain()
    host = domain.domain if domain else f"{company.slug}.{settings.BASE_DOMAIN}"
    return f"{settings.SITE_SCHEME}://{host}{path}"
