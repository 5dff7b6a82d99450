"""The company's product and price list."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm_core.access import require_admin
from crm_core.models import Product
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
    product: Product | None = None,
) -> Product:
    """Add a product or change one. Deals keep the name and price they were sold at."""
    require_admin(membership)
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
        "is_active": is_active,
    }
    if product is None:
        product = Product.objects.create(**values)
        record(membership, product, "create", {"name": (None, name), "price": (None, price)})
        return product
    changes = {k: (getattr(product, k), v) for k, v in values.items() if getattr(product, k) != v}
    for key, value in values.items():
        setattr(product, key, value)
    product.save()
    if changes:
        record(membership, product, "update", changes)
    return product
