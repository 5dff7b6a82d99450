"""What members see of documents: only those of deals they may see; and what a deal's issued
invoices say of its payment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import pgettext

from crm_core.access import visible
from crm_core.documents.models import Document, DocumentTemplate, Kind
from crm_core.models import Deal
from tenants.models import Membership

UNPAID, PARTLY, PAID = "unpaid", "partly", "paid"


def visible_documents(membership: Membership) -> QuerySet[Document]:
    deals = visible(Deal.objects.all(), membership)
    return Document.objects.filter(deal__in=deals)


def documents_of(deal: Deal) -> QuerySet[Document]:
    return Document.objects.filter(deal=deal).select_related("attachment")


def usable_templates() -> QuerySet[DocumentTemplate]:
    return DocumentTemplate.objects.filter(is_active=True).order_by("kind", "name")


def paid_sum() -> Coalesce:
    """An invoice's payment as a sum (paid without a sum reported: its total); what the deal's
    payment state and the reports' "paid by invoices" both count."""
    return Coalesce(F("paid_amount"), F("total"), output_field=DecimalField())


@dataclass(frozen=True)
class Payment:
    """A deal's payment by its issued invoices: what was paid against what is due (the deal's
    amount, or its invoices' total when the deal has no amount)."""

    state: str  # UNPAID, PARTLY or PAID
    paid: Decimal
    due: Decimal
    invoices: int

    @property
    def label(self) -> str:
        return {
            UNPAID: pgettext("a deal's payment", "not paid"),
            PARTLY: pgettext("a deal's payment", "partly paid"),
            PAID: pgettext("a deal's payment", "paid"),
        }[self.state]


def payment_states(deal_ids: Iterable[int]) -> dict[int, Payment]:
    """The payment of each of these deals that has an issued invoice (one query)."""
    ids = list(deal_ids)
    if not ids:
        return {}
    rows = (
        Document.objects.filter(kind=Kind.INVOICE, deal_id__in=ids)
        .order_by()
        .values("deal_id", "deal__amount")
        .annotate(
            issued=Sum("total"),
            paid=Sum(paid_sum(), filter=Q(paid_at__isnull=False)),
            n=Count("id"),
        )
    )
    return {
        row["deal_id"]: _payment(row["deal__amount"], row["issued"], row["paid"], row["n"])
        for row in rows
    }


def _payment(
    amount: Decimal | None, issued: Decimal | None, paid: Decimal | None, invoices: int
) -> Payment:
    paid = paid or Decimal(0)
    amount = amount or Decimal(0)
    due = amount if amount > 0 else (issued or Decimal(0))
    if paid > 0 and paid >= due:
        state = PAID
    elif paid > 0:
        state = PARTLY
    else:
        state = UNPAID
    return Payment(state, paid, due, invoices)


def payment_of(deal: Deal, documents: Iterable[Document]) -> Payment | None:
    """The deal's payment from its documents already read (the card's documents panel),
    counted as ``payment_states`` counts it in SQL."""
    invoices = [d for d in documents if d.kind == Kind.INVOICE]
    if not invoices:
        return None
    paid = [d.total if d.paid_amount is None else d.paid_amount for d in invoices if d.paid_at]
    return _payment(
        deal.amount,
        sum((d.total for d in invoices), Decimal(0)),
        sum(paid, Decimal(0)),
        len(invoices),
    )


def payment_marks(deal_ids: list[int]) -> dict[int, tuple[str, str]]:
    """The deals' payment state as the board's cards and the deals list show it."""
    return {
        deal_id: (f"payment-{payment.state}", payment.label)
        for deal_id, payment in payment_states(deal_ids).items()
    }
