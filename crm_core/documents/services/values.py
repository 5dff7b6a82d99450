"""The plain values a document template sees: built from a deal, never the models themselves."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm_core import pricing
from crm_core.documents.models import Kind, Requisites
from crm_core.documents.services.wording import (
    amount_in_words,
    money,
    quantity,
    russian_date,
)
from crm_core.models import Client, Deal, DiscountKind, VatRate
from crm_core.services.products import pricing_settings

# How each kind is titled on the document itself (the documents are Russian paperwork).
TITLES = {Kind.QUOTE: "Коммерческое предложение", Kind.INVOICE: "Счёт на оплату",
          Kind.CONTRACT: "Договор"}  # fmt: skip

CLIENT_FIELDS = ("name", "full_name", "inn", "kpp", "address", "postal_address", "bank_name",
                 "bik", "bank_account", "correspondent_account")  # fmt: skip
COMPANY_FIELDS = ("name", "full_name", "inn", "kpp", "ogrn", "address", "bank_name", "bik",
                  "bank_account", "correspondent_account", "director", "accountant", "phone",
                  "email")  # fmt: skip


def vat_of(total: Decimal, rate: str) -> Decimal:
    """The VAT inside a price that includes it: total × rate / (100 + rate)."""
    return pricing.line(quantity=Decimal(1), price=total, rate=rate).vat


def requisites() -> Requisites:
    return Requisites.objects.order_by("pk").first() or Requisites()


def _client(client: Client | None) -> dict[str, str]:
    if client is None:
        return dict.fromkeys(CLIENT_FIELDS, "")
    return {
        "name": client.name,
        "full_name": client.full_name or client.name,
        "inn": client.inn,
        "kpp": client.kpp,
        "address": client.legal_address,
        "postal_address": client.postal_address or client.legal_address,
        "bank_name": client.bank_name,
        "bik": client.bik,
        "bank_account": client.bank_account,
        "correspondent_account": client.correspondent_account,
    }


def _company(ours: Requisites) -> dict[str, str]:
    values = {field: str(getattr(ours, field)) for field in COMPANY_FIELDS}
    values["full_name"] = values["full_name"] or values["name"]
    return values


@dataclass(frozen=True)
class Line:
    """One line of a document, as the deal's calculation has it."""

    name: str
    quantity: Decimal
    unit: str
    price: Decimal
    rate: str
    discount_percent: Decimal = Decimal(0)
    discount_amount: Decimal = Decimal(0)


def rate_label(rate: str) -> str:
    return "Без НДС" if pricing.rate_percent(rate) is None else f"{rate}%"


def _items(
    lines: list[Line], *, prices_include_vat: bool
) -> tuple[list[dict[str, Any]], pricing.Totals]:
    items = []
    figures_all = []
    for index, line in enumerate(lines, start=1):
        figures = pricing.line(
            quantity=line.quantity,
            price=line.price,
            rate=line.rate,
            discount_percent=line.discount_percent,
            discount_amount=line.discount_amount,
            prices_include_vat=prices_include_vat,
        )
        figures_all.append(figures)
        items.append(
            {
                "n": index,
                "name": line.name,
                "quantity": quantity(line.quantity),
                "unit": line.unit,
                "price": money(line.price),
                "discount": money(figures.discount) if figures.discount else "",
                # The line's sum as the invoice's table shows it: after the discount, in the
                # company's own terms (with VAT when prices include it, without otherwise).
                "total": money(figures.total if prices_include_vat else figures.net),
                "vat_rate": rate_label(figures.rate),
                "vat": money(figures.vat) if pricing.rate_percent(figures.rate) else "",
            }
        )
    return items, pricing.totals(figures_all)


def _vat_lines(totals: pricing.Totals) -> list[dict[str, Any]]:
    """VAT per rate, the way Russian invoices print it: "НДС 22%: 1 234,56" for each rate,
    "Без НДС" for lines without it (rates in the order they first appear)."""
    rows = []
    for rate, vat in totals.vat_by_rate.items():
        with_vat = pricing.rate_percent(rate) is not None
        rows.append(
            {
                "rate": rate if with_vat else "",
                "label": f"НДС {rate}%" if with_vat else "Без НДС",
                "amount": money(vat) if with_vat else "",
                "with_vat": with_vat,
            }
        )
    return rows


def build(
    *,
    kind: str,
    vat_rate: str,
    number: str,
    day: date,
    deal_title: str,
    deal_id: int,
    client: Client | None,
    ours: Requisites,
    lines: list[Line],
    prices_include_vat: bool = True,
) -> tuple[dict[str, Any], Decimal, Decimal]:
    """The values, the total to pay and the VAT of a document. Each line keeps its own VAT
    rate; ``vat_rate`` is for lines that carry none (made before rates were kept per line)."""
    lines = [dataclasses.replace(line, rate=line.rate or vat_rate) for line in lines]
    items, totals = _items(lines, prices_include_vat=prices_include_vat)
    vat_lines = _vat_lines(totals)
    rates_with_vat = [row["rate"] for row in vat_lines if row["with_vat"]]
    values = {
        "document": {
            "number": number,
            "date": russian_date(day),
            "title": TITLES[Kind(kind)],
        },
        "company": _company(ours),
        "client": _client(client),
        "deal": {"title": deal_title, "id": deal_id},
        "items": items,
        "totals": {
            "total": money(totals.total),
            "net": money(totals.net),
            "subtotal": money(totals.subtotal),
            "discount": money(totals.discount) if totals.discount else "",
            "vat": money(totals.vat),
            # One rate for the whole document, as older templates print it ("" when mixed).
            "vat_rate": rates_with_vat[0] if len(vat_lines) == 1 and rates_with_vat else "",
            "vat_label": ", ".join(row["label"] for row in vat_lines),
            "with_vat": bool(rates_with_vat),
            "vat_included": prices_include_vat,
            "vat_lines": vat_lines,
            "total_words": amount_in_words(totals.total),
            "count": len(items),
        },
    }
    return values, totals.total, totals.vat


def for_deal(
    deal: Deal, *, kind: str, vat_rate: str, number: str, day: date
) -> tuple[dict[str, Any], Decimal, Decimal]:
    lines = []
    for item in deal.items.select_related("product").order_by("pk"):
        percent = item.discount_kind == DiscountKind.PERCENT
        lines.append(
            Line(
                name=item.name,
                quantity=item.quantity,
                unit=item.unit or (item.product.unit if item.product else "шт"),
                price=item.price,
                rate=item.vat_rate,
                discount_percent=item.discount if percent else Decimal(0),
                discount_amount=Decimal(0) if percent else item.discount,
            )
        )
    if not lines:
        raise ValidationError(
            _("The deal has no products yet: add them to the calculation first."),
            code="no_items",
        )
    return build(
        kind=kind,
        vat_rate=vat_rate,
        number=number,
        day=day,
        deal_title=deal.title,
        deal_id=deal.pk,
        client=deal.client,
        ours=requisites(),
        lines=lines,
        prices_include_vat=pricing_settings().prices_include_vat,
    )


def sample(kind: str = Kind.INVOICE, vat_rate: str = VatRate.TWENTY_TWO) -> dict[str, Any]:
    """Values shaped like a real document's, to check and preview a template with."""
    client = Client(
        name="ООО «Пример»", full_name="Общество с ограниченной ответственностью «Пример»",
        inn="7701234567", kpp="770101001", legal_address="г. Москва, ул. Примерная, д. 1",
        bank_name="ПАО Сбербанк", bik="044525225", bank_account="40702810900000000001",
        correspondent_account="30101810400000000225",
    )  # fmt: skip
    values, _total, _vat = build(
        kind=kind,
        vat_rate=vat_rate,
        number="1",
        day=date.today(),
        deal_title="Пример сделки",
        deal_id=1,
        client=client,
        ours=Requisites(name="ООО «Поставщик»", inn="7700000000"),  # the shape, not the data
        lines=[Line("Окно ПВХ 1300×1400", Decimal(2), "шт", Decimal("15000.00"), vat_rate)],
    )
    return values


def placeholders() -> list[str]:
    """Every placeholder a template may use, for the help next to the editor."""
    names: list[str] = []
    for root, value in sample().items():
        if isinstance(value, dict):
            for key, inner in value.items():
                names.append(f"{root}.{key}")
                if isinstance(inner, list) and inner and isinstance(inner[0], dict):
                    names.extend(f"{root}.{key}[].{sub}" for sub in inner[0])
        elif isinstance(value, list):
            names.extend(f"{root}[].{key}" for key in value[0])
    return names
