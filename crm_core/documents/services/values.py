"""The plain values a document template sees: built from a deal, never the models themselves."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm_core.documents.models import Kind, Requisites, VatRate
from crm_core.documents.services.wording import (
    KOPECK,
    amount_in_words,
    money,
    quantity,
    russian_date,
)
from crm_core.models import Client, Deal

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
    if rate == VatRate.NONE:
        return Decimal(0)
    percent = Decimal(rate)
    return (total * percent / (100 + percent)).quantize(KOPECK, rounding=ROUND_HALF_UP)


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


def _items(lines: list[tuple[str, Decimal, str, Decimal]]) -> tuple[list[dict[str, Any]], Decimal]:
    items = []
    total = Decimal(0)
    for index, (name, amount, unit, price) in enumerate(lines, start=1):
        line_total = (amount * price).quantize(KOPECK, rounding=ROUND_HALF_UP)
        total += line_total
        items.append(
            {
                "n": index,
                "name": name,
                "quantity": quantity(amount),
                "unit": unit,
                "price": money(price),
                "total": money(line_total),
            }
        )
    return items, total


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
    lines: list[tuple[str, Decimal, str, Decimal]],
) -> tuple[dict[str, Any], Decimal, Decimal]:
    """The values, the total and the VAT of a document."""
    items, total = _items(lines)
    vat = vat_of(total, vat_rate)
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
            "total": money(total),
            "vat": money(vat),
            "vat_rate": "" if vat_rate == VatRate.NONE else vat_rate,
            "vat_label": "Без НДС" if vat_rate == VatRate.NONE else f"НДС {vat_rate}%",
            "with_vat": vat_rate != VatRate.NONE,
            "total_words": amount_in_words(total),
            "count": len(items),
        },
    }
    return values, total, vat


def for_deal(
    deal: Deal, *, kind: str, vat_rate: str, number: str, day: date
) -> tuple[dict[str, Any], Decimal, Decimal]:
    lines = [
        (item.name, item.quantity, item.product.unit if item.product else "шт", item.price)
        for item in deal.items.select_related("product").order_by("pk")
    ]
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
        lines=[("Окно ПВХ 1300×1400", Decimal(2), "шт", Decimal("15000.00"))],
    )
    return values


def placeholders() -> list[str]:
    """Every placeholder a template may use, for the help next to the editor."""
    names: list[str] = []
    for root, value in sample().items():
        if isinstance(value, dict):
            names.extend(f"{root}.{key}" for key in value)
        elif isinstance(value, list):
            names.extend(f"{root}[].{key}" for key in value[0])
    return names
