"""Where the daily exchange rates come from: a pluggable source.

``settings.RATE_SOURCE`` names the class (an import path); it is built with no arguments and
asked for one day's rates. The shipped source is the Central Bank of Russia's daily XML; tests
use a double that answers from a dictionary (tests never reach the network).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol

import requests
from defusedxml import ElementTree
from django.conf import settings
from django.utils.module_loading import import_string

from crm_core.currencies import SIGNS


class RateSourceError(Exception):
    """The source could not give the day's rates (down, or answered something unreadable)."""


@dataclass(frozen=True)
class PublishedRates:
    """One day's rates as a source publishes them: units of ``quote`` per unit of each
    currency (the Central Bank quotes everything in roubles)."""

    day: date
    quote: str
    rates: dict[str, Decimal]

    def against(self, base: str) -> dict[str, Decimal]:
        """The rates in another base by crossing through the quote currency (1 EUR in tenge =
        roubles per euro ÷ roubles per tenge); empty when the source has no rate for the base.
        Only the currencies a deal can be in (crm_core.currencies), the base left out."""
        quoted = {**self.rates, self.quote: Decimal(1)}
        if base not in quoted:
            return {}
        per_base = quoted[base]
        return {
            code: (rate / per_base).quantize(Decimal("0.00000001"))
            for code, rate in quoted.items()
            if code in SIGNS and code != base
        }


class RateSource(Protocol):
    def rates_on(self, day: date) -> PublishedRates: ...


class CentralBankOfRussia:
    """The Bank of Russia's official rates (XML_daily.asp?date_req=dd/mm/yyyy).

    The answer is windows-1251 XML: ``<ValCurs Date="06.12.2026"><Valute><CharCode>EUR
    </CharCode><Nominal>1</Nominal><Value>98,1234</Value>…``. ``Value`` is for ``Nominal``
    units (100 tenge, 10 yuan once), so the rate per unit is their quotient. The date in the
    answer is the day the rates were set: asked for a Sunday, the Bank answers Saturday's.
    """

    def __init__(self, url: str | None = None, timeout: float = 10.0) -> None:
        self.url = url or settings.CBR_DAILY_URL
        self.timeout = timeout

    def rates_on(self, day: date) -> PublishedRates:
        try:
            response = requests.get(
                self.url, params={"date_req": day.strftime("%d/%m/%Y")}, timeout=self.timeout
            )
            response.raise_for_status()
        except requests.RequestException as exc:
            raise RateSourceError(f"the Central Bank did not answer: {exc}") from exc
        return self.parse(response.content)

    @staticmethod
    def parse(content: bytes) -> PublishedRates:
        try:
            root = ElementTree.fromstring(content)
            day = datetime.strptime(root.attrib["Date"], "%d.%m.%Y").date()
            rates = {}
            for valute in root.iter("Valute"):
                code = (valute.findtext("CharCode") or "").strip().upper()
                value = Decimal((valute.findtext("Value") or "").strip().replace(",", "."))
                nominal = Decimal((valute.findtext("Nominal") or "1").strip())
                if code and value > 0 and nominal > 0:
                    rates[code] = value / nominal
        except (ElementTree.ParseError, KeyError, ValueError, InvalidOperation) as exc:
            raise RateSourceError(f"the Central Bank's answer is unreadable: {exc}") from exc
        if not rates:
            raise RateSourceError("the Central Bank's answer holds no rates")
        return PublishedRates(day=day, quote="RUB", rates=rates)


def rate_source() -> RateSource:
    source: RateSource = import_string(settings.RATE_SOURCE)()
    return source
