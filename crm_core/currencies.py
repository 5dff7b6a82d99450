"""The currencies a deal can be in, and the sign each is written with.

The list is the currencies Russian and CIS small businesses sell in (ISO 4217 codes); the
Central Bank of Russia publishes a daily rate for each of them, so the beat task can load
every one. The sign goes after the amount, as Russian price tags write it ("1 500 €").
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SIGNS: dict[str, str] = {
    "RUB": "₽",
    "USD": "$",
    "EUR": "€",
    "CNY": "¥",
    "KZT": "₸",
    "BYN": "Br",
    "UZS": "сўм",
    "KGS": "сом",
    "AMD": "֏",
    "AZN": "₼",
    "GEL": "₾",
    "TRY": "₺",
    "AED": "AED",
    "GBP": "£",
}

NAMES = {
    "RUB": _("Russian rouble"),
    "USD": _("US dollar"),
    "EUR": _("Euro"),
    "CNY": _("Chinese yuan"),
    "KZT": _("Kazakh tenge"),
    "BYN": _("Belarusian rouble"),
    "UZS": _("Uzbek sum"),
    "KGS": _("Kyrgyz som"),
    "AMD": _("Armenian dram"),
    "AZN": _("Azerbaijani manat"),
    "GEL": _("Georgian lari"),
    "TRY": _("Turkish lira"),
    "AED": _("UAE dirham"),
    "GBP": _("Pound sterling"),
}

CHOICES = [(code, f"{code} ({SIGNS[code]})") for code in SIGNS]


def sign(code: str) -> str:
    """The currency's sign, or its code when it has none of its own here."""
    return SIGNS.get(code.upper(), code.upper())
