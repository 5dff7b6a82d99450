"""Exchange rates as the pages use them: every sum in the company's base currency.

Which rate: today's, for every deal, open or closed (docs/decisions.md, "Deals in several
currencies"). A rate holds from its day until the next one, for at most ``RATE_HOLDS_DAYS``
days: the Central Bank of Russia sets no rate on weekends and over the New Year holidays, and
an admin typing rates by hand should not have to type one every morning. An older rate, or
none, is *missing*: the pages leave that currency's deals out of their sums and say so,
rather than add euros to roubles or convert at a stale rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Q, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.utils import timezone

from crm_core.models import ExchangeRate
from relata.db import connection

RATE_HOLDS_DAYS = 14
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Rates:
    """The rates of one day, for the currencies the company's deals are in."""

    base: str
    day: date
    # Units of the base currency per unit of the currency; the base itself is 1.
    rates: dict[str, Decimal] = field(default_factory=dict)
    # The day each rate was set (the page shows it when it is not today's).
    set_on: dict[str, date] = field(default_factory=dict)
    # Currencies some deal is in that have no usable rate.
    missing: tuple[str, ...] = ()

    def rate(self, currency: str) -> Decimal | None:
        if currency == self.base:
            return Decimal(1)
        return self.rates.get(currency)

    def to_base(self, amount: Decimal | None, currency: str) -> Decimal:
        """The amount in the base currency; 0 for a currency without a rate (the page says
        which ones are left out: ``missing``)."""
        rate = self.rate(currency)
        if amount is None or rate is None:
            return Decimal(0)
        return (amount * rate).quantize(CENT)

    def in_base(
        self, amount: str | Combinable = "amount", currency: str = "currency"
    ) -> Combinable:
        """A database expression for the amount (a field's name, or an expression) in the base
        currency (0 without a rate), to sum in SQL: ``Sum(rates.in_base())`` or
        ``Sum(rates.in_base("deal__amount", "deal__currency"))``."""
        money = DecimalField(max_digits=30, decimal_places=8)
        value = F(amount) if isinstance(amount, str) else amount
        whens = [When(Q(**{currency: self.base}), then=value)]
        whens += [
            When(Q(**{currency: code}), then=value * Value(rate, output_field=money))
            for code, rate in sorted(self.rates.items())
            if code != self.base
        ]
        return Case(*whens, default=Value(Decimal(0)), output_field=money)

    def left_out(self, currencies: Iterable[str]) -> list[str]:
        """Which of these currencies have no rate (and so are not in a sum)."""
        return sorted({c for c in currencies if self.rate(c) is None})


def base_currency() -> str:
    """The company's base currency, from the tenant the connection serves (no query)."""
    return str(getattr(connection.tenant, "currency", "") or "RUB")


def rates_today(base: str | None = None, day: date | None = None) -> Rates:
    """The day's rates (today in the active time zone) for every currency a deal is in.

    One query, however many deals: the currencies in use come from the trigger-kept
    ``DealTotal`` rows (a few per stage and manager), each joined to its newest rate on or
    before the day.
    """
    base = base or base_currency()
    day = day or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT used.currency, rate.rate, rate.day
            FROM (SELECT DISTINCT currency FROM crm_core_dealtotal
                  WHERE deals <> 0 AND currency <> %(base)s) AS used
            LEFT JOIN LATERAL (
                SELECT r.rate, r.day FROM crm_core_exchangerate AS r
                WHERE r.base = %(base)s AND r.currency = used.currency
                  AND r.day <= %(day)s AND r.day > %(oldest)s
                ORDER BY r.day DESC LIMIT 1
            ) AS rate ON true
            """,
            {"base": base, "day": day, "oldest": day - timedelta(days=RATE_HOLDS_DAYS)},
        )
        rows = cursor.fetchall()
    return Rates(
        base=base,
        day=day,
        rates={code: rate for code, rate, _ in rows if rate is not None},
        set_on={code: set_on for code, rate, set_on in rows if rate is not None},
        missing=tuple(sorted(code for code, rate, _ in rows if rate is None)),
    )


def recent_rates(base: str, days: int = 31) -> QuerySet[ExchangeRate]:
    """The rates of the last ``days`` days in this base, newest first (the settings page)."""
    since = timezone.localdate() - timedelta(days=days)
    return ExchangeRate.objects.filter(base=base, day__gte=since).order_by("-day", "currency")
