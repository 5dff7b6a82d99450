"""The sale exchange driven as 1C drives it: Relata's orders out until confirmed, 1C's
payments and its own orders in."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from lxml import etree

from crm_core.documents.models import Document, DocumentTemplate, Kind
from crm_core.documents.services.defaults import install_default_templates
from crm_core.documents.services.documents import generate
from crm_core.models import Client, Deal, Pipeline, Stage
from crm_core.reports.queries import results, scope_for
from crm_core.services.deals import create_deal, move_deal
from crm_core.services.items import add_item
from exchange1c.models import ExchangeSession, OutboundOrder
from exchange1c.tests.onec import fixture_1c
from tenants.models import Membership
from tests.test_isolation import login_on_host


def _won_deals(exchange: Any) -> tuple[Deal, Deal, Document]:
    """A won deal with an invoice (two lines) and a won deal with neither invoice nor lines."""
    member = Membership.objects.get(company=exchange.company, user=exchange.owner)
    pipeline = Pipeline.objects.first()
    assert pipeline is not None
    won = pipeline.stages.get(outcome=Stage.Outcome.WON)
    client = Client.objects.create(
        name="ООО «Ромашка»", full_name="ООО «Ромашка»", inn="7707083893", kpp="770701001"
    )
    windows = create_deal(membership=member, title="Окна в офис", pipeline=pipeline, client=client)
    add_item(
        membership=member, deal=windows, name="Окно ПВХ", quantity=Decimal(3), price=Decimal(12000)
    )
    add_item(
        membership=member, deal=windows, name="Монтаж", quantity=Decimal(1), price=Decimal(5000)
    )
    install_default_templates()
    template = DocumentTemplate.objects.filter(kind=Kind.INVOICE).first()
    assert template is not None
    invoice = generate(membership=member, deal=windows, template=template)
    windows.refresh_from_db()
    move_deal(membership=member, deal=windows, stage=won)
    doors = create_deal(
        membership=member, title="Двери", pipeline=pipeline, client=client, amount=Decimal(5000)
    )
    move_deal(membership=member, deal=doors, stage=won)
    return windows, doors, invoice


def _documents(xml: bytes) -> list[Any]:
    assert xml.startswith(b"<?xml version='1.0' encoding='windows-1251'?>")
    root = etree.fromstring(xml)
    return root.findall("Документ")


def _paid_report(guid: str) -> bytes:
    """What 1C sends back about an order of ours once the money came (windows-1251)."""
    return f"""<?xml version="1.0" encoding="windows-1251"?>
<КоммерческаяИнформация ВерсияСхемы="2.05" ДатаФормирования="2026-12-06T10:00:00">
 <Документ>
  <Ид>{guid}</Ид><Номер>1</Номер><Дата>2026-12-04</Дата><ХозОперация>Заказ товара</ХозОперация>
  <Роль>Продавец</Роль><Валюта>руб</Валюта><Курс>1</Курс><Сумма>41000.00</Сумма>
  <ЗначенияРеквизитов>
   <ЗначениеРеквизита>
    <Наименование>Номер оплаты по 1С</Наименование><Значение>17</Значение>
   </ЗначениеРеквизита>
   <ЗначениеРеквизита>
    <Наименование>Дата оплаты по 1С</Наименование><Значение>2026-12-05T12:00:00</Значение>
   </ЗначениеРеквизита>
   <ЗначениеРеквизита>
    <Наименование>Оплачен</Наименование><Значение>true</Значение>
   </ЗначениеРеквизита>
   <ЗначениеРеквизита>
    <Наименование>Статус заказа</Наименование><Значение>[F] Доставлен</Значение>
   </ЗначениеРеквизита>
  </ЗначенияРеквизитов>
 </Документ>
</КоммерческаяИнформация>
""".encode("cp1251")


def test_a_full_sale_exchange(exchange: Any, eager: None) -> None:
    with exchange.company:
        windows, doors, invoice = _won_deals(exchange)
    onec = exchange.onec("sale")
    assert onec.checkauth().word == "success"
    assert onec.init().word == "zip=yes"

    first = _documents(onec.get("query").body)
    assert len(first) == 2
    by_number = {d.findtext("Номер"): d for d in first}
    ordered = by_number[str(invoice.number)]
    assert ordered.findtext("ХозОперация") == "Заказ товара"
    assert ordered.findtext("Сумма") == "41000.00"
    assert ordered.findtext("Контрагенты/Контрагент/ИНН") == "7707083893"
    assert ordered.findtext("Контрагенты/Контрагент/Роль") == "Покупатель"
    assert [g.findtext("Наименование") for g in ordered.findall("Товары/Товар")] == [
        "Окно ПВХ",
        "Монтаж",
    ]
    alone = by_number[str(doors.pk)]
    assert [g.findtext("Сумма") for g in alone.findall("Товары/Товар")] == ["5000.00"]

    # 1C fell over before `success`: the next query offers the same orders (same Ид) again.
    again = _documents(onec.get("query").body)
    assert sorted(d.findtext("Ид") for d in again) == sorted(d.findtext("Ид") for d in first)
    assert onec.get("success").lines == ["success"]
    assert _documents(onec.get("query").body) == []  # sent once confirmed, never again

    # 1C reports the invoice paid, in a file of two chunks.
    onec.upload("orders-1.xml", _paid_report(ordered.findtext("Ид")))
    assert onec.import_file("orders-1.xml").lines == ["success"]
    with exchange.company:
        invoice.refresh_from_db()
        assert invoice.paid_at is not None
        # 1C's clock is the company's: 12:00 in its own time zone.
        zone = ZoneInfo(exchange.company.time_zone)
        assert invoice.paid_at.astimezone(zone).isoformat()[:16] == "2026-12-05T12:00"
        assert invoice.paid_amount == Decimal("41000.00")
        order = OutboundOrder.objects.get(invoice=invoice)
        assert order.status_in_1c == "[F] Доставлен"
        assert order.times_offered == 2
        assert Deal.objects.count() == 2  # our own order did not come back as a new deal
        # The report of won deals shows the money the invoices brought in.
        owner = Membership.objects.get(company=exchange.company, user=exchange.owner)
        today = timezone.localdate(timezone=zone)  # the company's month, not UTC's
        scope = scope_for(owner, exchange.company, date_from=today.replace(day=1), date_to=today)
        with translation.override("en"):
            won = results(scope)
        paid_column = won.headers.index("Paid by invoices")
        assert [row[paid_column] for row in won.rows] == [Decimal("41000.00")]

    # 1C's own orders (not ours) go through the importer: deals for them, once.
    for _run in range(2):
        onec = exchange.onec("sale")
        assert onec.checkauth().word == "success"
        onec.init()
        onec.upload(
            "orders-2.xml",
            fixture_1c("ArgentCrusade-commerceml/documents-example.xml").read_bytes(),
        )
        assert onec.import_file("orders-2.xml").lines == ["success"]
    with exchange.company:
        titles = set(Deal.objects.values_list("title", flat=True))
        assert {"Заказ товара № 142 от 29.06.2015", "Заказ товара № 235 от 29.06.2015"} <= titles
        assert Deal.objects.count() == 4
        assert ExchangeSession.objects.filter(status=ExchangeSession.Status.DONE).count() == 3

    # The deal card shows the invoice paid.
    browser = login_on_host(exchange.owner, exchange.company, exchange.host)
    card = browser.get(f"/deals/{windows.pk}/", HTTP_HOST=exchange.host)
    assert card.status_code == 200
    assert "document-paid" in card.content.decode()


def test_a_windows_1251_order_file_from_1c_becomes_a_deal(exchange: Any, eager: None) -> None:
    onec = exchange.onec("sale")
    assert onec.checkauth().word == "success"
    onec.init()
    onec.upload("orders.xml", fixture_1c("carono-php-commerceml/orders.xml").read_bytes())
    assert onec.import_file("orders.xml").lines == ["success"]
    with exchange.company:
        deal = Deal.objects.get()
        assert deal.amount == Decimal("9683.42")


def test_a_report_on_an_unknown_order_is_not_ours(exchange: Any, eager: None) -> None:
    """A document whose Ид is no order of ours goes to the importer, not to payments."""
    onec = exchange.onec("sale")
    assert onec.checkauth().word == "success"
    onec.init()
    onec.upload("orders-3.xml", _paid_report(str(uuid.uuid4())))
    assert onec.import_file("orders-3.xml").word in {"success", "failure"}
    with exchange.company:
        assert not Document.objects.filter(paid_at__isnull=False).exists()
