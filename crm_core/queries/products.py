"""The catalogue as the deal card's line form offers it: the products whose name or SKU
matches what the person has typed so far, however large the catalogue is."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from crm_core.models import Product

# What a suggestion list shows at once; typing narrows it.
SUGGESTIONS = 20


def product_suggestions(typed: str) -> QuerySet[Product]:
    """Active products matching ``typed`` (any part of the name, the SKU's start), by name;
    nothing typed: the first ones by name."""
    products = Product.objects.filter(is_active=True)
    typed = typed.strip()
    if typed:
        products = products.filter(Q(name__icontains=typed) | Q(sku__istartswith=typed))
    return products.order_by("name", "id")[:SUGGESTIONS]
