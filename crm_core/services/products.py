"""The company's catalogue: products with VAT and units, price lists, how prices are quoted."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm_core.access import require_admin
from crm_core.models import PriceList, PricingSettings, Product, ProductPrice, VatRate
from crm_core.services.audit import record
from tenants.models import Membership


@transaction.atomic
def save_product(
    *,
    membership: Membership,
    name: str,
    sku: str,
    unit: str,
    price: Decimal,
    is_active: bool,
    vat_rate: str | None = None,
    list_prices: dict[int, Decimal | None] | None = None,
    product: Product | None = None,
) -> Product:
    """Add a product or change one, with its prices in the price lists (``list_prices``:
    price list id → price, None to take the product out of that list). Atomic. Deals keep
    the name, price and VAT they were sold at."""
    require_admin(membership)
    if vat_rate is None:  # not given: kept (a new product gets the standard rate)
        vat_rate = product.vat_rate if product is not None else VatRate.TWENTY_TWO
    if vat_rate not in VatRate.values:
        raise ValidationError({"vat_rate": _("Choose the VAT rate.")})
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Name the product or service.")})
    if price < 0:
        raise ValidationError({"price": _("The price cannot be negative.")})
    sku = sku.strip()
    same_sku = Product.objects.filter(sku=sku)
    if product is not None:
        same_sku = same_sku.exclude(pk=product.pk)
    if sku and same_sku.exists():
        raise ValidationError({"sku": _("Another product already has this SKU.")})
    values = {
        "name": name,
        "sku": sku,
        "unit": unit.strip() or "шт",
        "price": price,
        "vat_rate": vat_rate,
        "is_active": is_active,
    }
    if product is None:
        product = Product.objects.create(**values)
        changes: dict[str, tuple[object, object]] = {
            "name": (None, name),
            "price": (None, price),
        }
        changes |= _save_list_prices(product, list_prices or {})
        record(membership, product, "create", changes)
        return product
    changes = {k: (getattr(product, k), v) for k, v in values.items() if getattr(product, k) != v}
    for key, value in values.items():
        setattr(product, key, value)
    product.save()
    changes |= _save_list_prices(product, list_prices or {})
    if changes:
        record(membership, product, "update", changes)
    return product


def _save_list_prices(
    product: Product, list_prices: dict[int, Decimal | None]
) -> dict[str, tuple[object, object]]:
    lists = {p.pk: p for p in PriceList.objects.filter(pk__in=list_prices)}
    have = {p.price_list_id: p for p in ProductPrice.objects.filter(product=product)}
    changes: dict[str, tuple[object, object]] = {}
    for list_id, new in list_prices.items():
        if list_id not in lists:
            continue  # a list removed meanwhile: nothing to price
        old = have.get(list_id)
        label = f"price: {lists[list_id].name}"
        if new is not None and new < 0:
            raise ValidationError({f"list_{list_id}": _("The price cannot be negative.")})
        if new is None:
            if old is not None:
                old.delete()
                changes[label] = (old.price, None)
        elif old is None:
            ProductPrice.objects.create(price_list_id=list_id, product=product, price=new)
            changes[label] = (None, new)
        elif old.price != new:
            changes[label] = (old.price, new)
            old.price = new
            old.save(update_fields=["price"])
    return changes


def price_in(product: Product, price_list: PriceList | None) -> Decimal:
    """The product's price in the list; its base price when the list has none for it."""
    if price_list is not None:
        found = ProductPrice.objects.filter(price_list=price_list, product=product).first()
        if found is not None:
            return found.price
    return product.price


@transaction.atomic
def save_price_list(
    *, membership: Membership, name: str, price_list: PriceList | None = None
) -> PriceList:
    require_admin(membership)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Name the price list.")})
    same = PriceList.objects.filter(name__iexact=name)
    if price_list is not None:
        same = same.exclude(pk=price_list.pk)
    if same.exists():
        raise ValidationError({"name": _("There is already a price list with this name.")})
    if price_list is None:
        top = PriceList.objects.order_by("-position").values_list("position", flat=True).first()
        price_list = PriceList.objects.create(name=name, position=(top or 0) + 1)
        record(membership, price_list, "create", {"name": (None, name)})
        return price_list
    if price_list.name != name:
        record(membership, price_list, "update", {"name": (price_list.name, name)})
        price_list.name = name
        price_list.save(update_fields=["name"])
    return price_list


@transaction.atomic
def delete_price_list(*, membership: Membership, price_list: PriceList) -> None:
    """Its prices go with it; deals that sold from it keep their lines and prices."""
    require_admin(membership)
    record(membership, price_list, "delete", {"name": (price_list.name, None)})
    price_list.delete()


def pricing_settings() -> PricingSettings:
    """The company's row (the defaults until an admin changes them)."""
    return PricingSettings.objects.order_by("pk").first() or PricingSettings()


@transaction.atomic
def save_pricing_settings(*, membership: Membership, prices_include_vat: bool) -> PricingSettings:
    """Changes how every deal's VAT is counted from now on; lines keep their prices."""
    require_admin(membership)
    row = PricingSettings.objects.select_for_update().order_by("pk").first() or PricingSettings()
    if row.pk is None or row.prices_include_vat != prices_include_vat:
        record_changes = {"prices_include_vat": (row.prices_include_vat, prices_include_vat)}
        row.prices_include_vat = prices_include_vat
        row.save()
        record(membership, row, "update", record_changes)
    return row
