"""Placeholders in rule texts: {deal}, {client}, {amount}, {stage}, {manager}, {company}."""

from __future__ import annotations

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm_core.models import Deal
from crm_core.templatetags.crm_format import money
from tenants.models import Company, User

NAMES = ("deal", "client", "amount", "stage", "manager", "company", "link")


def check(text: str) -> None:
    """Refuse a text with a placeholder we cannot fill, naming it and the ones we can."""
    try:
        fields = [f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise ValidationError(
            _("Braces must come in pairs: {deal}, not {deal or deal}."), code="placeholder"
        ) from exc
    unknown = sorted({f for f in fields if f not in NAMES})
    if unknown:
        raise ValidationError(
            _("Unknown placeholder %(bad)s; use %(good)s.")
            % {
                "bad": ", ".join("{" + u + "}" for u in unknown),
                "good": ", ".join("{" + n + "}" for n in NAMES),
            },
            code="placeholder",
        )


def fill(text: str, deal: Deal, company: Company) -> str:
    manager = User.objects.filter(pk=deal.responsible_id).first() if deal.responsible_id else None
    values = {
        "deal": deal.title,
        "client": deal.client.name if deal.client_id and deal.client else "",
        # Written as every page writes amounts ("74 400 ₽"), not "74 400,00".
        "amount": money(deal.amount, deal.currency),
        "stage": deal.stage.name,
        "manager": manager.get_full_name() if manager else "",
        "company": company.name,
        "link": f"/deals/{deal.pk}/",
    }
    try:
        return text.format_map(values)
    except (KeyError, ValueError, IndexError):
        # A rule saved before a check existed: send the text as written rather than nothing.
        return text
