"""The calculation on a deal: products, quantities, prices; the deal's amount follows them."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.utils.translation import gettext as _

from crm_core.access import require_write
from crm_core.models import Activity, Deal, DealItem, Product
from crm_core.services.audit import record
from tenants.models import Membership

# numeric(14, 2): the largest amount a deal can hold is just below 10^12.
DEAL_AMOUNT_LIMIT = 10**12


def _total(deal: Deal) -> Decimal:
    line = ExpressionWrapper(
        F("quantity") * F("price"), output_field=DecimalField(max_digits=30, decimal_places=5)
    )
    return DealItem.objects.filter(deal=deal).aggregate(total=Sum(line))["total"] or Decimal(0)


def _recalculate(deal: Deal, total: Decimal | None = None) -> Decimal:
    total = _total(deal) if total is None else total
    Deal.objects.filter(pk=deal.pk).update(
        amount=total.quantize(Decimal("0.01")), version=F("version") + 1
    )
    return total


@transaction.atomic
def add_item(
    *, membership: Membership, deal: Deal, name: str, quantity: Decimal, price: Decimal | None
) -> DealItem:
    """A line on the deal. A name from the price list links the product and, when no price
    is typed, takes the list price; the line keeps its own copy of both afterwards."""
    require_write(membership)
    if not name.strip():
        raise ValidationError(_("Name the product or service."), code="required")
    if quantity <= 0:
        raise ValidationError(_("The quantity must be more than zero."), code="quantity")
    product = Product.objects.filter(name__iexact=name.strip(), is_active=True).first()
    if price is None:
        if product is None:
            raise ValidationError(_("Enter the price."), code="price")
        price = product.price
    if price < 0:
        raise ValidationError(_("The price cannot be negative."), code="price")
    item = DealItem.objects.create(
        deal=deal, product=product, name=name.strip(), quantity=quantity, price=price
    )
    before = deal.amount
    total = _total(deal)
    if total >= DEAL_AMOUNT_LIMIT:
        # Each line fits its columns; the deal's amount, their sum, has its own limit.
        raise ValidationError(
            _("With this line the deal's amount would exceed %(limit)s.")
            % {"limit": f"{DEAL_AMOUNT_LIMIT - 1:,}".replace(",", " ")},
            code="amount",
        )
    _recalculate(deal, total)
    record(
        membership,
        deal,
        "add_item",
        {"item": (None, f"{item.name} {quantity}×{price}"), "amount": (before, total)},
    )
    Activity.objects.create(
        kind=Activity.Kind.NOTE,
        deal=deal,
        client_id=deal.client_id,
        author=membership.user,
        summary=f"+ {item.name}: {quantity} × {price} = {total}",
    )
    return item


@transaction.atomic
def remove_item(*, membership: Membership, item: DealItem) -> None:
    require_write(membership)
    deal = item.deal
    name = item.name
    item.delete()
    total = _recalculate(deal)
    record(membership, deal, "remove_item", {"item": (name, None), "amount": (deal.amount, total)})
