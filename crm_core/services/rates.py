"""Writes of exchange rates and of the company's base currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm_core.access import require_admin
from crm_core.currencies import SIGNS
from crm_core.models import ExchangeRate
from crm_core.rate_sources import PublishedRates
from crm_core.services.audit import record
from tenants.models import Company, Membership


def _known(currency: str) -> str:
    code = currency.strip().upper()
    if code not in SIGNS:
        raise ValidationError(_("Choose a currency from the list."), code="currency")
    return code


@transaction.atomic
def set_rate(
    *, membership: Membership, company: Company, day: date, currency: str, rate: Decimal
) -> ExchangeRate:
    """The admin's rate of ``currency`` in the base currency on ``day``: made, or the day's
    rate replaced (a loaded one too — what the admin typed wins). Audited."""
    require_admin(membership)
    code = _known(currency)
    if code == company.currency:
        raise ValidationError(
            _("The base currency needs no rate: it is the one sums are in."), code="base"
        )
    if rate <= 0:
        raise ValidationError(_("A rate is more than zero."), code="rate")
    before = (
        ExchangeRate.objects.filter(base=company.currency, currency=code, day=day)
        .values_list("rate", flat=True)
        .first()
    )
    row, _made = ExchangeRate.objects.update_or_create(
        base=company.currency,
        currency=code,
        day=day,
        defaults={
            "rate": rate,
            "source": ExchangeRate.Source.MANUAL,
            "created_by": membership.user,
        },
    )
    record(membership, row, "rate_set", {"rate": (before, rate)})
    return row


@transaction.atomic
def delete_rate(*, membership: Membership, rate: ExchangeRate) -> None:
    require_admin(membership)
    record(membership, rate, "rate_deleted", {"rate": (rate.rate, None)})
    rate.delete()


def store_loaded(*, company: Company, published: PublishedRates) -> int:
    """Keep a source's rates for the company's base currency, on the day the source gives
    them for. Idempotent (safe to run twice); a rate an admin typed for that day is kept.
    Returns how many rates were written."""
    rates = published.against(company.currency)
    if not rates:
        return 0
    manual = set(
        ExchangeRate.objects.filter(
            base=company.currency,
            day=published.day,
            source=ExchangeRate.Source.MANUAL,
        ).values_list("currency", flat=True)
    )
    rows = [
        ExchangeRate(
            day=published.day,
            currency=code,
            base=company.currency,
            rate=rate,
            source=ExchangeRate.Source.LOADED,
        )
        for code, rate in sorted(rates.items())
        if code not in manual
    ]
    ExchangeRate.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["base", "currency", "day"],
        update_fields=["rate", "source", "updated_at"],
    )
    return len(rows)


def set_base_currency(*, membership: Membership, company: Company, currency: str) -> None:
    """The currency the company's sums are in. Deals keep their own currencies and amounts;
    rates stored for the former base stay, unused until it is chosen again."""
    require_admin(membership)
    code = _known(currency)
    if code == company.currency:
        return
    before = company.currency
    Company.objects.filter(pk=company.pk).update(currency=code)
    company.currency = code
    record(membership, company, "base_currency", {"currency": (before, code)})
