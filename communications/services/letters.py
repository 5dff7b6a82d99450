"""Letter templates: {client}, {contact}, {deal}, {amount}, {manager}, {company} filled in."""

from __future__ import annotations

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm_core.models import Client, Contact, Deal
from crm_core.templatetags.crm_format import money
from tenants.models import Company, User

NAMES = ("client", "contact", "deal", "amount", "manager", "company")


def check(text: str) -> None:
    try:
        fields = [f for _l, f, _s, _c in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise ValidationError(_("Braces must come in pairs: {client}.")) from exc
    unknown = sorted({f for f in fields if f not in NAMES})
    if unknown:
        raise ValidationError(
            _("Unknown placeholder %(bad)s; use %(good)s.")
            % {
                "bad": ", ".join("{" + u + "}" for u in unknown),
                "good": ", ".join("{" + n + "}" for n in NAMES),
            }
        )


def fill(
    text: str,
    *,
    company: Company,
    manager: User,
    client: Client | None = None,
    contact: Contact | None = None,
    deal: Deal | None = None,
) -> str:
    client = client or (deal.client if deal is not None else None)
    values = {
        "client": client.name if client else "",
        "contact": " ".join(p for p in (contact.first_name, contact.middle_name) if p)
        if contact
        else "",
        "deal": deal.title if deal else "",
        "amount": money(deal.amount, deal.currency) if deal else "",
        "manager": manager.get_full_name(),
        "company": company.name,
    }
    try:
        return text.format_map(values)
    except (KeyError, ValueError, IndexError):
        return text
