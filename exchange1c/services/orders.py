"""Relata's won deals and issued invoices as CommerceML orders for 1C, and what 1C says
back about them (its status, payment and shipment).

An order is offered at every `query` until 1C answers `success` for the session that got it;
then it is confirmed and never sent again. 1C knows an order by its «Ид», which is ours.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from lxml import etree

from crm_core.documents.models import Document, Kind
from crm_core.documents.services.payments import mark_paid
from crm_core.models import Client, Deal, DealItem, Stage
from crm_core.pricing import line
from exchange1c.models import ExchangeSession, ExchangeSettings, OutboundOrder
from onboarding.importing import values
from onboarding.importing.xmltree import kid, kids, local, text_of
from onboarding.models import ImportedRecord
from relata.db import connection

SCHEMA_VERSION = "2.05"  # what УТ 10/11, УНФ and Бухгалтерия all read
# 1C:Предприятие's exchange with sites has read windows-1251 since the first CommerceML.
ENCODING = "windows-1251"


def _enlist(since: dt.datetime | None) -> None:
    """An order row for every invoice issued and every won deal without an invoice since the
    exchange was switched on (the unique constraints make a repeat a no-op)."""
    if since is None:
        return
    invoices = Document.objects.filter(kind=Kind.INVOICE, created_at__gte=since).exclude(
        Exists(OutboundOrder.objects.filter(invoice=OuterRef("pk")))
    )
    OutboundOrder.objects.bulk_create(
        [OutboundOrder(deal_id=i.deal_id, invoice=i) for i in invoices], ignore_conflicts=True
    )
    won = (
        Deal.objects.filter(stage__outcome=Stage.Outcome.WON, closed_at__gte=since)
        .exclude(Exists(Document.objects.filter(deal=OuterRef("pk"), kind=Kind.INVOICE)))
        .exclude(Exists(OutboundOrder.objects.filter(deal=OuterRef("pk"), invoice=None)))
    )
    OutboundOrder.objects.bulk_create(
        [OutboundOrder(deal=d) for d in won.only("pk")], ignore_conflicts=True
    )


@transaction.atomic
def offer(session: ExchangeSession) -> bytes:
    """The `query` answer: every order 1C has not confirmed yet, marked as offered in this
    session (its `success` confirms exactly these)."""
    current = ExchangeSettings.objects.filter(pk=1).first()
    _enlist(current.orders_since if current else None)
    orders = list(
        OutboundOrder.objects.select_for_update(of=("self",))
        .filter(confirmed_at=None)
        .select_related("deal", "deal__client", "invoice")
        .order_by("id")
    )
    now = timezone.now()
    for order in orders:
        order.offered_in, order.offered_at = session, now
        order.times_offered += 1
    OutboundOrder.objects.bulk_update(orders, ["offered_in", "offered_at", "times_offered"])
    return _document_xml(orders, now)


def confirm(session: ExchangeSession) -> int:
    """1C's `success`: the orders this session offered are in 1C now."""
    return OutboundOrder.objects.filter(offered_in=session, confirmed_at=None).update(
        confirmed_at=timezone.now()
    )


# --- the XML ----------------------------------------------------------------------------


def _sub(parent: Any, name: str, text: object = None, **attrs: str) -> Any:
    node = etree.SubElement(parent, name, attrs)
    if text is not None:
        node.text = str(text)
    return node


def _external_ids(entity: str, ids: set[int]) -> dict[int, str]:
    """The 1C ids records came in with: 1C finds its own counterparty or product by them."""
    rows = (
        ImportedRecord.objects.filter(entity=entity, record_id__in=ids)
        .exclude(external_id="")
        .order_by("id")
        .values_list("record_id", "external_id")
    )
    return dict(rows)


def _document_xml(orders: list[OutboundOrder], now: dt.datetime) -> bytes:
    root = etree.Element(
        "КоммерческаяИнформация",
        ВерсияСхемы=SCHEMA_VERSION,
        ДатаФормирования=timezone.localtime(now).strftime("%Y-%m-%dT%H:%M:%S"),
    )
    deal_ids = {o.deal_id for o in orders}
    items: dict[int, list[DealItem]] = {}
    for item in DealItem.objects.filter(deal_id__in=deal_ids).order_by("id"):
        items.setdefault(item.deal_id, []).append(item)
    clients = _external_ids("client", {o.deal.client_id for o in orders if o.deal.client_id})
    products = _external_ids(
        "product", {i.product_id for lines in items.values() for i in lines if i.product_id}
    )
    for order in orders:
        _order(root, order, items.get(order.deal_id, []), clients, products)
    xml = etree.tostring(root, encoding=ENCODING, xml_declaration=True, pretty_print=True)
    assert isinstance(xml, bytes)  # an encoding given: lxml returns bytes
    return xml


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _order(
    root: Any,
    order: OutboundOrder,
    lines: list[DealItem],
    clients: dict[int, str],
    products: dict[int, str],
) -> None:
    deal, invoice = order.deal, order.invoice
    when = timezone.localtime(invoice.created_at if invoice else deal.closed_at or timezone.now())
    total = invoice.total if invoice else deal.amount
    document = _sub(root, "Документ")
    _sub(document, "Ид", order.guid)
    _sub(document, "Номер", invoice.number if invoice else deal.pk)
    _sub(document, "Дата", when.strftime("%Y-%m-%d"))
    _sub(document, "ХозОперация", "Заказ товара")
    _sub(document, "Роль", "Продавец")
    _sub(document, "Валюта", "руб" if deal.currency == "RUB" else deal.currency)
    _sub(document, "Курс", 1)
    _sub(document, "Сумма", _money(total))
    if deal.client is not None:
        _counterparty(_sub(document, "Контрагенты"), deal.client, clients)
    _sub(document, "Время", when.strftime("%H:%M:%S"))
    _sub(document, "Комментарий", deal.title)
    goods = _sub(document, "Товары")
    for item in lines:
        figures = line(
            quantity=item.quantity,
            price=item.price,
            rate=item.vat_rate,
            discount_percent=item.discount if item.discount_kind == "percent" else Decimal(0),
            discount_amount=item.discount if item.discount_kind == "amount" else Decimal(0),
        )
        product_id = products.get(item.product_id or 0) or (
            f"relata-product-{item.product_id}" if item.product_id else f"relata-line-{item.pk}"
        )
        _good(
            goods,
            ident=product_id,
            name=item.name,
            unit=item.unit,
            price=item.price,
            quantity=item.quantity,
            total=figures.total,
        )
    if not lines:
        # A deal without lines is still money 1C must see: one service line of its amount.
        _good(
            goods,
            ident=f"relata-deal-{deal.pk}",
            name=deal.title,
            unit="шт",
            price=total,
            quantity=Decimal(1),
            total=total,
        )
    requisites = _sub(document, "ЗначенияРеквизитов")
    for name, value in (
        ("Статус заказа", "Счет выставлен" if invoice else "Сделка выиграна"),
        ("Номер сделки в Relata", deal.pk),
    ):
        requisite = _sub(requisites, "ЗначениеРеквизита")
        _sub(requisite, "Наименование", name)
        _sub(requisite, "Значение", value)


def _counterparty(parent: Any, client: Client, ids: dict[int, str]) -> None:
    node = _sub(parent, "Контрагент")
    _sub(node, "Ид", ids.get(client.pk) or f"relata-client-{client.pk}")
    _sub(node, "Наименование", client.name)
    if client.kind == Client.Kind.PERSON:
        _sub(node, "ПолноеНаименование", client.full_name or client.name)
    else:
        _sub(node, "ОфициальноеНаименование", client.full_name or client.name)
    _sub(node, "Роль", "Покупатель")
    if client.inn:
        _sub(node, "ИНН", client.inn)
    if client.kpp:
        _sub(node, "КПП", client.kpp)
    if client.legal_address:
        _sub(_sub(node, "АдресРегистрации"), "Представление", client.legal_address)


def _good(
    goods: Any,
    *,
    ident: str,
    name: str,
    unit: str,
    price: Decimal,
    quantity: Decimal,
    total: Decimal,
) -> None:
    good = _sub(goods, "Товар")
    _sub(good, "Ид", ident)
    _sub(good, "Наименование", name)
    _sub(good, "БазоваяЕдиница", unit or "шт", Код="796", НаименованиеПолное="Штука")
    _sub(good, "ЦенаЗаЕдиницу", _money(price))
    _sub(good, "Количество", f"{quantity.normalize():f}")
    _sub(good, "Сумма", _money(total))
    requisites = _sub(good, "ЗначенияРеквизитов")
    for name_, value in (("ВидНоменклатуры", "Товар"), ("ТипНоменклатуры", "Товар")):
        requisite = _sub(requisites, "ЗначениеРеквизита")
        _sub(requisite, "Наименование", name_)
        _sub(requisite, "Значение", value)


# --- what 1C says back ------------------------------------------------------------------


def _uuid_or_none(text: str) -> str | None:
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        return None


def _requisites(document: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    holder = kid(document, "ЗначенияРеквизитов")
    for requisite in kids(holder, "ЗначениеРеквизита") if holder is not None else []:
        found[text_of(requisite, "Наименование").lower()] = text_of(requisite, "Значение")
    return found


def _moment(text: str) -> dt.datetime | None:
    """1C's date and time ("2026-12-05T12:00:00", "05.12.2026 12:00:00", or a date alone),
    in the company's time zone when it names none."""
    text = text.strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        day, _space, clock = text.partition(" ")
        iso = values.date(day)
        if not iso:
            return None
        try:
            moment = dt.datetime.fromisoformat(f"{iso}T{clock}" if clock else iso)
        except ValueError:
            moment = dt.datetime.fromisoformat(iso)
    return timezone.make_aware(moment, _company_zone()) if timezone.is_naive(moment) else moment


def _company_zone() -> dt.tzinfo:
    name = getattr(getattr(connection, "tenant", None), "time_zone", "") or ""
    try:
        return ZoneInfo(name) if name else timezone.get_current_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.get_current_timezone()


def apply_reported(document: Any) -> bool:
    """One «Документ» 1C sent back about an order of ours: its status, payment, shipment.
    Returns False when the document is not one of ours (the importer takes it then).

    Idempotent: the same report again changes nothing.
    """
    guid = _uuid_or_none(text_of(document, "Ид"))
    order = (
        OutboundOrder.objects.filter(guid=guid).select_related("invoice").first() if guid else None
    )
    if order is None:
        return False
    said = _requisites(document)
    paid_at = _moment(said.get("дата оплаты по 1с", ""))
    if paid_at is None and said.get("оплачен", "").lower() == "true":
        paid_at = _moment(text_of(document, "Дата")) or timezone.now()
    shipped_at = _moment(said.get("дата отгрузки по 1с", ""))
    if shipped_at is None and said.get("отгружен", "").lower() == "true":
        shipped_at = order.shipped_at or timezone.now()
    order.status_in_1c = said.get("статус заказа", order.status_in_1c)[:200]
    order.paid_at = paid_at or order.paid_at
    order.shipped_at = shipped_at or order.shipped_at
    # 1C sends its documents back only after it has them: the order counts as confirmed.
    order.confirmed_at = order.confirmed_at or timezone.now()
    order.save(update_fields=["status_in_1c", "paid_at", "shipped_at", "confirmed_at"])
    if paid_at is not None and order.invoice is not None:
        mark_paid(
            invoice=order.invoice, paid_at=paid_at, amount=values.number(text_of(document, "Сумма"))
        )
    return True


def documents_in(root: Any) -> list[Any]:
    return [child for child in root if local(child) == "Документ"]


__all__ = ["apply_reported", "confirm", "documents_in", "offer"]
