"""Prices on billing pages: "1 290 ₽" in Russian, "1,290 ₽" in English, kopecks only when
there are any. (crm_core has its own money filter; billing sits below the CRM and does not
import it.)"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import get_format
from django.utils.translation import get_language

register = template.Library()

CURRENCY_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸", "BYN": "Br"}


@register.filter
def price(value: object, currency: str = "RUB") -> str:
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return str(value)
    digits = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    thousands = str(get_format("THOUSAND_SEPARATOR"))
    point = str(get_format("DECIMAL_SEPARATOR"))
    if thousands in ("", " "):
        thousands = "\N{NO-BREAK SPACE}"
    text = digits.replace(",", "\0").replace(".", point).replace("\0", thousands)
    sign = CURRENCY_SIGNS.get(str(currency).upper(), str(currency).upper())
    return f"{text}\N{NO-BREAK SPACE}{sign}"


@register.filter
def plan_name(plan: object) -> str:
    """The plan's name in the page's language."""
    return str(plan.display_name(get_language() or "ru"))  # type: ignore[attr-defined]


@register.filter
def limit_of(plan: object, key: str) -> int | None:
    limits = getattr(plan, "limits", None) or {}
    value = limits.get(key) if isinstance(limits, dict) else None
    return value if isinstance(value, int) else None
