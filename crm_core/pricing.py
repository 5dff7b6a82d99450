"""The arithmetic of a calculation: line sums, discounts and VAT, to the kopeck, as 1C does it.

Every figure is rounded per line (half up, to kopecks) and the totals are the sums of the
rounded line figures: the VAT of an invoice is the sum of its lines' VAT, not the VAT of the
total, so the document, the deal and the accountant's 1C agree to the kopeck.

Pure functions over Decimals: no database, so the rules are tested on their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

KOPECK = Decimal("0.01")
HUNDRED = Decimal(100)
NO_VAT = "none"


def kopecks(value: Decimal) -> Decimal:
    return value.quantize(KOPECK, rounding=ROUND_HALF_UP)


def rate_percent(rate: str) -> Decimal | None:
    """The rate as a number; None for "без НДС" (no VAT at all, unlike 0 %)."""
    return None if rate in (NO_VAT, "") else Decimal(rate)


@dataclass(frozen=True)
class LineFigures:
    """One line of a calculation, every figure already rounded to kopecks.

    ``total`` is what the client pays for the line (VAT included in either mode); ``net``
    the same without VAT."""

    amount: Decimal  # quantity × price, before the discount
    discount: Decimal  # in roubles
    vat: Decimal
    net: Decimal
    total: Decimal
    rate: str


def line(
    *,
    quantity: Decimal,
    price: Decimal,
    rate: str,
    discount_percent: Decimal = Decimal(0),
    discount_amount: Decimal = Decimal(0),
    prices_include_vat: bool = True,
) -> LineFigures:
    """The figures of one line. A discount larger than the line is capped at the line."""
    amount = kopecks(quantity * price)
    discount = kopecks(amount * discount_percent / HUNDRED) if discount_percent else Decimal(0)
    discount = min(amount, discount + kopecks(discount_amount))
    after_discount = amount - discount
    percent = rate_percent(rate)
    if percent is None or percent == 0:
        vat = Decimal(0)
    elif prices_include_vat:
        vat = kopecks(after_discount * percent / (HUNDRED + percent))
    else:
        vat = kopecks(after_discount * percent / HUNDRED)
    if prices_include_vat:
        net, total = after_discount - vat, after_discount
    else:
        net, total = after_discount, after_discount + vat
    return LineFigures(
        amount=amount, discount=discount, vat=vat, net=net, total=total, rate=rate or NO_VAT
    )


@dataclass
class Totals:
    """A calculation's totals: before the discount, the discount, VAT (per rate), to pay."""

    subtotal: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)
    vat: Decimal = Decimal(0)
    net: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    # rate → VAT of the lines at that rate, in the order rates first appear; "none" → 0.
    vat_by_rate: dict[str, Decimal] = field(default_factory=dict)
    # rate → the lines' total at that rate (the base the VAT was taken from).
    total_by_rate: dict[str, Decimal] = field(default_factory=dict)

    @property
    def with_vat(self) -> bool:
        return any(rate_percent(rate) is not None for rate in self.vat_by_rate)


def totals(lines: Iterable[LineFigures]) -> Totals:
    result = Totals()
    for figures in lines:
        result.subtotal += figures.amount
        result.discount += figures.discount
        result.vat += figures.vat
        result.net += figures.net
        result.total += figures.total
        result.vat_by_rate[figures.rate] = result.vat_by_rate.get(figures.rate, Decimal(0)) + (
            figures.vat
        )
        result.total_by_rate[figures.rate] = (
            result.total_by_rate.get(figures.rate, Decimal(0)) + figures.total
        )
    return result
