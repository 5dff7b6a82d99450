"""An invoice's payment, as the company's accounting reports it (the exchange with 1C)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from crm_core.documents.models import Document, Kind
from crm_core.models import Activity


@transaction.atomic
def mark_paid(*, invoice: Document, paid_at: dt.datetime, amount: Decimal | None) -> bool:
    """Record that the invoice was paid; a line in the deal's history says so once.

    Idempotent: the same payment reported again changes nothing and returns False.
    """
    invoice = Document.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != Kind.INVOICE:
        return False
    if invoice.paid_at == paid_at and invoice.paid_amount == amount:
        return False
    first = invoice.paid_at is None
    invoice.paid_at = paid_at
    invoice.paid_amount = amount
    invoice.save(update_fields=["paid_at", "paid_amount"])
    if first:
        Activity.objects.create(
            deal=invoice.deal,
            client=invoice.deal.client,
            kind=Activity.Kind.DOCUMENT,
            summary=_("Invoice № %(number)s is paid (reported by 1C)") % {"number": invoice.number},
            happened_at=paid_at,
        )
    return True
