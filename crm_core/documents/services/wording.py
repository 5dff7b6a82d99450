"""How amounts and dates are written on Russian documents."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import date_format
from django.utils.translation import override
from num2words import num2words

KOPECK = Decimal("0.01")


def money(amount: Decimal) -> str:
    """12 345,60 — a thin group separator and a decimal comma, as accountants write it."""
    value = amount.quantize(KOPECK, rounding=ROUND_HALF_UP)
    whole, _sep, fraction = f"{value:,.2f}".partition(".")
    return f"{whole.replace(',', ' ')},{fraction}"


def quantity(amount: Decimal) -> str:
    text = f"{amount.normalize():f}"
    return text.replace(".", ",")


def amount_in_words(amount: Decimal) -> str:
    """«Двенадцать тысяч триста сорок пять рублей 60 копеек»: rubles and kopecks declined by
    num2words; kopecks in figures, as on a payment invoice."""
    value = amount.quantize(KOPECK, rounding=ROUND_HALF_UP)
    words = num2words(value, lang="ru", to="currency", currency="RUB", cents=False, separator="")
    return words[:1].upper() + words[1:]


def russian_date(day: date) -> str:
    """25 ноября 2026 г. — the month in the genitive case."""
    with override("ru"):
        return f"{date_format(day, 'j E Y')} г."
