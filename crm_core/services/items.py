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
from crm_core.templatetags.crm_format import money
from tenants.models import Membership

# numeric(14, 2): the largest amount a deal can hold is just below 10^12.
DEAL_AMOUNT_LIMIT = 10**12


def _line(quantity: Decimal, price: Decimal) -> str:
    """ "2 × 37 200 ₽" as people write it (the feed keeps this text as it was written)."""
    return f"{quantity.normalize():f} × {money(price)}"


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
    *,
    membership: Membership,
    deal: Deal,
    name: str,
    quantity: Decimal,
    price: Decimal | None,
    keep_amount: bool = False,
) -> DealItem:
    """A line on the deal. A name from the price list links the product and, when no price
    is typed, takes the list price; the line keeps its own copy of both afterwards.

    The deal's amount becomes the lines' total, unless ``keep_amount``: then an amount typed
    by hand stays (the card asks when the amount does not follow the lines, see
    ``amount_follows_items``)."""
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
    before = Deal.objects.values_list("amount", flat=True).get(pk=deal.pk)
    total = _total(deal)
    if total >= DEAL_AMOUNT_LIMIT:
        # Each line fits its columns; the deal's amount, their sum, has its own limit.
        raise ValidationError(
            _("With this line the deal's amount would exceed %(limit)s.")
            % {"limit": f"{DEAL_AMOUNT_LIMIT - 1:,}".replace(",", " ")},
            code="amount",
        )
    if keep_amount:
        Deal.objects.filter(pk=deal.pk).update(version=F("version") + 1)
        changes: dict[str, tuple[object, object]] = {
            "item": (None, f"{item.name} {quantity}×{price}")
        }
        summary = f"+ {item.name}: {_line(quantity, price)}"
    else:
        _recalculate(deal, total)
        changes = {"item": (None, f"{item.name} {quantity}×{price}"), "amount": (before, total)}
        summary = f"+ {item.name}: {_line(quantity, price)} = {money(total)}"
    record(membership, deal, "add_item", changes)
    Activity.objects.create(
        kind=Activity.Kind.NOTE,
        deal=deal,
        client_id=deal.client_id,
        author=membership.user,
        summary=summary,
    )
    return item


def items_total(deal: Deal) -> Decimal:
    """The sum of the deal's lines (quantity × price), to the kopeck."""
    return _total(deal).quantize(Decimal("0.01"))


def amount_follows_items(deal: Deal) -> bool:
    """Whether the deal's amount is its lines' total. When it is not (an amount typed by hand,
    or kept on purpose), adding a line asks before replacing it."""
    return not deal.amount or deal.amount == items_total(deal)


@transaction.atomic
def remove_item(*, membership: Membership, item: DealItem) -> None:
    require_write(membership)
    deal = item.deal
    name = item.name
    item.delete()
    total = _recalculate(deal)
    record(membership, deal, "remove_item", {"item": (name, None), "amount": (deal.amount, total)})
