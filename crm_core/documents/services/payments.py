"""An invoice's payment, as the company's accounting reports it (the exchange with 1C) or a
member marks it on the deal's card."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core.access import require_change
from crm_core.documents.models import Document, Kind
from crm_core.models import Activity
from tenants.models import Membership


@transaction.atomic
def mark_paid(
    *,
    invoice: Document,
    paid_at: dt.datetime,
    amount: Decimal | None,
    by: Membership | None = None,
) -> bool:
    """Record that the invoice was paid (by 1C's report, or by the member `by`); a line in
    the deal's history says so once. A payment reported without its sum is the invoice's
    total: the deal's payment state and the reports count the same figure.

    Idempotent: the same payment reported again changes nothing and returns False.
    """
    invoice = Document.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != Kind.INVOICE:
        return False
    amount = invoice.total if amount is None else amount
    if invoice.paid_at == paid_at and invoice.paid_amount == amount:
        return False
    first = invoice.paid_at is None
    invoice.paid_at = paid_at
    invoice.paid_amount = amount
    invoice.save(update_fields=["paid_at", "paid_amount"])
    if first:
        summary = (
            _("Invoice № %(number)s is paid (reported by 1C)")
            if by is None
            else _("Invoice № %(number)s is marked paid")
        )
        Activity.objects.create(
            deal=invoice.deal,
            client=invoice.deal.client,
            kind=Activity.Kind.DOCUMENT,
            summary=summary % {"number": invoice.number},
            happened_at=paid_at,
            author_id=by.user_id if by is not None else None,
        )
    return True


def mark_paid_by_hand(*, membership: Membership, invoice: Document, amount: Decimal | None) -> bool:
    """A member who may change the deal marks its invoice paid today (the whole total unless
    `amount` says less); raises ValidationError for a sum that is not a payment of it."""
    deal = invoice.deal
    require_change(membership, deal.responsible_id)
    if invoice.kind != Kind.INVOICE:
        raise ValidationError(_("Only an invoice is paid."), code="not_invoice")
    if amount is not None and not (Decimal(0) < amount <= invoice.total):
        raise ValidationError(
            _("The sum paid is more than nothing and at most the invoice's total."),
            code="bad_amount",
        )
    return mark_paid(invoice=invoice, paid_at=timezone.now(), amount=amount, by=membership)
