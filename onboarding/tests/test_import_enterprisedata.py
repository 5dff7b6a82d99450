"""EnterpriseData 1.x: counterparties with embedded contact information, invoices as deals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import pytest

from crm_core.models import Client, Deal
from onboarding.tests.helpers import run_import

pytestmark = pytest.mark.usefixtures("media_root")

CONTACTINFO = (
    '<КонтактнаяИнформация xmlns="http://www.v8.1c.ru/ssl/contactinfo" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" Представление="{shown}">'
    '<Состав xsi:type="{kind}" Значение="{shown}"/></КонтактнаяИнформация>'
)


def enterprise_data(version: str = "1.8") -> bytes:
    phone = escape(CONTACTINFO.format(shown="+7 (495) 765-43-21", kind="НомерТелефона"))
    email = escape(CONTACTINFO.format(shown="Buh@Vector.ru", kind="ЭлектроннаяПочта"))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Message xmlns:msg="http://www.1c.ru/SSL/Exchange/Message"
         xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <msg:Header>
    <msg:Format>http://v8.1c.ru/edi/edi_stnd/EnterpriseData/{version}</msg:Format>
    <msg:CreationDate>2026-03-01T10:00:00</msg:CreationDate>
  </msg:Header>
  <Body xmlns="http://v8.1c.ru/edi/edi_stnd/EnterpriseData/{version}">
    <Справочник.Контрагенты>
      <КлючевыеСвойства>
        <Ссылка>5f1c2b0a-0000-11ee-8000-000000000001</Ссылка>
        <Наименование>Вектор ООО</Наименование>
        <НаименованиеПолное>Общество с ограниченной ответственностью "Вектор"</НаименованиеПолное>
        <ИНН>7736207543</ИНН>
        <КПП>773601001</КПП>
        <ЮридическоеФизическоеЛицо>ЮридическоеЛицо</ЮридическоеФизическоеЛицо>
      </КлючевыеСвойства>
      <КонтактнаяИнформация>
        <Строка>
          <ВидКонтактнойИнформации>ТелефонКонтрагента</ВидКонтактнойИнформации>
          <ЗначенияПолей>{phone}</ЗначенияПолей>
        </Строка>
        <Строка>
          <ВидКонтактнойИнформации>EmailКонтрагента</ВидКонтактнойИнформации>
          <ЗначенияПолей>{email}</ЗначенияПолей>
        </Строка>
      </КонтактнаяИнформация>
    </Справочник.Контрагенты>
    <Документ.СчетНаОплатуПокупателю>
      <КлючевыеСвойства>
        <Ссылка>9a9a9a9a-0000-11ee-8000-000000000002</Ссылка>
        <Дата>2026-02-27T12:30:00</Дата>
        <Номер>00-000042</Номер>
      </КлючевыеСвойства>
      <Валюта><Код>643</Код></Валюта>
      <Сумма>15000.50</Сумма>
      <Контрагент>
        <Ссылка>5f1c2b0a-0000-11ee-8000-000000000001</Ссылка>
        <Наименование>Вектор ООО</Наименование>
        <ИНН>7736207543</ИНН>
        <КПП>773601001</КПП>
      </Контрагент>
      <Товары>
        <Строка>
          <Номенклатура>
            <Ссылка>n-1</Ссылка><Наименование>Окно ПВХ 1200x1400</Наименование>
          </Номенклатура>
          <Количество>2</Количество>
          <Цена>7500.25</Цена>
          <Сумма>15000.50</Сумма>
        </Строка>
      </Товары>
    </Документ.СчетНаОплатуПокупателю>
  </Body>
</Message>
""".encode()


@pytest.mark.parametrize("version", ["1.3", "1.8", "1.22"])
def test_counterparty_and_invoice(make_company: Any, version: str) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, enterprise_data(version), "exchange.xml")
        assert report.batch.file_format == "enterprisedata"
        client = Client.objects.get()
        assert (client.name, client.inn, client.kpp) == ("Вектор ООО", "7736207543", "773601001")
        assert client.full_name == 'Общество с ограниченной ответственностью "Вектор"'
        assert list(client.phones.values_list("e164", flat=True)) == ["+74957654321"]
        assert client.contacts.get().emails == ["buh@vector.ru"]
        deal = Deal.objects.get()
        assert deal.client == client
        assert deal.title == "Счёт № 00-000042 от 27.02.2026"
        assert deal.amount == Decimal("15000.50")
        assert list(deal.items.values_list("name", "quantity", "price")) == [
            ("Окно ПВХ 1200x1400", Decimal(2), Decimal("7500.25"))
        ]
        again = run_import(a.company, a.owner, enterprise_data(version), "exchange.xml")
        assert again.counts.get("created", 0) == 0
        assert Deal.objects.count() == 1
