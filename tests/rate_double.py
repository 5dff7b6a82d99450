"""A rate source for tests (settings.RATE_SOURCE): answers from a dictionary, no network."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crm_core.rate_sources import PublishedRates

# Roubles per unit, as the Central Bank would publish them.
RUB_RATES = {"EUR": Decimal("100"), "USD": Decimal("90"), "KZT": Decimal("0.2")}
ASKED: list[date] = []


class FixedRates:
    def rates_on(self, day: date) -> PublishedRates:
        ASKED.append(day)
        return PublishedRates(day=day, quote="RUB", rates=dict(RUB_RATES))
