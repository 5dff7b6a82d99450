"""The calculation on a deal: products, quantities, prices, discounts and VAT; the deal's
amount follows the lines' total to pay (see crm_core.pricing for the arithmetic)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from crm_core import pricing
from crm_core.access import require_write
from crm_core.models import Activity, Deal, DealItem, DiscountKind, PriceList, Product, VatRate
from crm_core.services.audit import record
from crm_core.services.products import price_in, pricing_settings
from crm_core.templatetags.crm_format import money
from tenants.models import Membership

# numeric(14, 2): the largest amount a deal can hold is just below 10^12.
DEAL_AMOUNT_LIMIT = 10**12


def _line(quantity: Decimal, price: Decimal) -> str:
    """ "2 × 37 200 ₽" as people write it (the feed keeps this text as it was written)."""
    return f"{quantity.normalize():f} × {money(price)}"


def figures_of(item: DealItem, *, prices_include_vat: bool) -> pricing.LineFigures:
    percent = item.discount_kind == DiscountKind.PERCENT
    return pricing.line(
        quantity=item.quantity,
        price=item.price,
        rate=item.vat_rate or VatRate.NONE,
        discount_percent=item.discount if percent else Decimal(0),
        discount_amount=Decimal(0) if percent else item.discount,
        prices_include_vat=prices_include_vat,
    )


def calculation(
    deal: Deal, prices_include_vat: bool | None = None
) -> tuple[list[tuple[DealItem, pricing.LineFigures]], pricing.Totals]:
    """The deal's lines with their figures, and the totals (one query for the lines).
    ``prices_include_vat``: the company's setting, when the caller has read it already."""
    include = (
        pricing_settings().prices_include_vat if prices_include_vat is None else prices_include_vat
    )
    lines = [
        (item, figures_of(item, prices_include_vat=include))
        for item in DealItem.objects.filter(deal=deal).order_by("pk")
    ]
    return lines, pricing.totals(figures for _item, figures in lines)


def _total(deal: Deal) -> Decimal:
    return calculation(deal)[1].total


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
    vat_rate: str = "",
    discount: Decimal | None = None,
    discount_kind: str = DiscountKind.PERCENT,
) -> DealItem:
    """A line on the deal. A name from the catalogue links the product and, when no price
    is typed, takes its price in the deal's price list (the base price when the list has
    none); the VAT rate and unit come from the product unless given. The line keeps its own
    copy of all of them afterwards.

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
        price = price_in(product, deal.price_list)
    if price < 0:
        raise ValidationError(_("The price cannot be negative."), code="price")
    if vat_rate and vat_rate not in VatRate.values:
        raise ValidationError(_("Choose the VAT rate."), code="vat")
    discount = _checked_discount(discount or Decimal(0), discount_kind, quantity * price)
    item = DealItem.objects.create(
        deal=deal,
        product=product,
        name=name.strip(),
        quantity=quantity,
        price=price,
        unit=product.unit if product else "",
        vat_rate=vat_rate or (product.vat_rate if product else VatRate.TWENTY_TWO),
        discount_kind=discount_kind,
        discount=discount,
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


def _checked_discount(discount: Decimal, kind: str, line_amount: Decimal) -> Decimal:
    if kind not in DiscountKind.values:
        raise ValidationError(_("Choose how the discount is given."), code="discount")
    if discount < 0:
        raise ValidationError(_("The discount cannot be negative."), code="discount")
    if kind == DiscountKind.PERCENT and discount > 100:
        raise ValidationError(_("A discount cannot be more than 100 %."), code="discount")
    if kind == DiscountKind.AMOUNT and discount > line_amount:
        raise ValidationError(
            _("The discount cannot be more than the line's amount, %(amount)s.")
            % {"amount": money(pricing.kopecks(line_amount))},
            code="discount",
        )
    return discount


def items_total(deal: Deal) -> Decimal:
    """What the deal's lines come to: after discounts, VAT included (or added on top)."""
    return _total(deal)


@transaction.atomic
def set_discount(
    *, membership: Membership, item: DealItem, discount: Decimal, discount_kind: str
) -> DealItem:
    """Change a line's discount; the deal's amount follows when it followed the lines."""
    require_write(membership)
    deal = Deal.objects.select_for_update().get(pk=item.deal_id)
    follows = amount_follows_items(deal)
    discount = _checked_discount(discount, discount_kind, item.quantity * item.price)
    before = (item.discount_kind, item.discount)
    item.discount, item.discount_kind = discount, discount_kind
    item.save(update_fields=["discount", "discount_kind"])
    changes: dict[str, tuple[object, object]] = {
        f"discount: {item.name}": (f"{before[1]} {before[0]}", f"{discount} {discount_kind}")
    }
    if follows:
        changes["amount"] = (deal.amount, _recalculate(deal))
    record(membership, deal, "update_item", changes)
    return item


@transaction.atomic
def choose_price_list(
    *, membership: Membership, deal: Deal, price_list: PriceList | None, reprice: bool
) -> int:
    """Sell the deal from another price list. With ``reprice``, every line linked to a
    product takes that product's price in the new list (lines typed by hand keep theirs);
    returns the number of lines repriced. The deal's amount follows when it followed the lines."""
    require_write(membership)
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    follows = amount_follows_items(deal)
    old = deal.price_list
    changes: dict[str, tuple[object, object]] = {}
    if deal.price_list_id != (price_list.pk if price_list else None):
        changes["price_list"] = (str(old) if old else None, str(price_list) if price_list else None)
        Deal.objects.filter(pk=deal.pk).update(price_list=price_list, version=F("version") + 1)
    repriced = 0
    if reprice:
        for item in DealItem.objects.filter(deal=deal, product__isnull=False).select_related(
            "product"
        ):
            assert item.product is not None
            new = price_in(item.product, price_list)
            if new != item.price:
                changes[f"price: {item.name}"] = (item.price, new)
                item.price = new
                item.save(update_fields=["price"])
                repriced += 1
        if repriced and follows:
            changes["amount"] = (deal.amount, _recalculate(deal))
    if changes:
        record(membership, deal, "price_list", changes)
    return repriced


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
    total = _recalculate(deal)  # as before: removing a line always sets the amount
    record(membership, deal, "remove_item", {"item": (name, None), "amount": (deal.amount, total)})
