"""EnterpriseData 1.x (the "universal exchange format" 1C documents for CRM integration).

A `Message` with a `msg:Header` (`msg:Format` names the version) and a `Body` of objects:
`Справочник.Контрагенты` become clients with their contact information (an XML document
embedded as escaped text in `ЗначенияПолей`); invoices, orders and sales become deals.
Local names only: the namespace carries the version (1.0 … 1.22).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from lxml import etree

from onboarding.importing import values
from onboarding.importing.records import ClientIn, DealIn, ItemIn, SourceRow
from onboarding.importing.xmltree import ends, kid, kids, local, release, text_of

DEAL_DOCUMENTS = {
    "Документ.СчетНаОплатуПокупателю": "Счёт",
    "Документ.ЗаказКлиента": "Заказ",
    "Документ.РеализацияТоваровУслуг": "Реализация",
}
KINDS = {
    "ЮридическоеЛицо": "legal",
    "ФизическоеЛицо": "person",
    "ИндивидуальныйПредприниматель": "sole_trader",
}


def read(stream: IO[bytes], encoding: str) -> Iterator[SourceRow]:
    number = 0
    for element, path in ends(stream, encoding):
        name = local(element)
        if path[-1:] != ["Body"]:
            continue
        row: SourceRow | None = None
        if name == "Справочник.Контрагенты":
            number += 1
            client = counterparty(element)
            row = SourceRow(number=number, client=client)
            row.values = {"Ссылка": client.external_id, "Наименование": client.name}
        elif name in DEAL_DOCUMENTS:
            number += 1
            row = document(number, element, DEAL_DOCUMENTS[name])
        release(element)
        if row is not None:
            yield row


def counterparty(element: Any) -> ClientIn:
    keys = kid(element, "КлючевыеСвойства")
    keys = element if keys is None else keys
    client = _reference(keys)
    info = kid(element, "КонтактнаяИнформация")
    for line in kids(info, "Строка") if info is not None else []:
        kind = text_of(line, "ВидКонтактнойИнформации") + text_of(line, "ТипКонтактнойИнформации")
        presentation, kind_of_value = _contact_info(text_of_raw(line, "ЗначенияПолей"))
        presentation = presentation or text_of(line, "Представление")
        if not presentation:
            continue
        kind = (kind + kind_of_value).lower()
        if "почт" in kind or "email" in kind or "@" in presentation:
            client.emails.extend(values.emails(presentation))
        elif "телефон" in kind:
            client.phones.extend(values.phones(presentation))
        elif "адрес" in kind:
            if "факт" in kind or "почтов" in kind:
                client.postal_address = client.postal_address or presentation
            else:
                client.legal_address = client.legal_address or presentation
    return client


def _reference(node: Any) -> ClientIn:
    return ClientIn(
        external_id=text_of(node, "Ссылка"),
        name=text_of(node, "Наименование") or text_of(node, "НаименованиеПолное"),
        full_name=text_of(node, "НаименованиеПолное"),
        inn=text_of(node, "ИНН"),
        kpp=text_of(node, "КПП"),
        kind=KINDS.get(text_of(node, "ЮридическоеФизическоеЛицо"), "legal"),
    )


def text_of_raw(element: Any, name: str) -> str:
    node = kid(element, name)
    return "" if node is None or node.text is None else node.text


def _contact_info(embedded: str) -> tuple[str, str]:
    """(Представление, the type of its `Состав`) of an embedded contactinfo document."""
    if not embedded.strip().startswith("<"):
        return " ".join(embedded.split()), ""
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        root = etree.fromstring(embedded.strip().encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return "", ""
    composition = kid(root, "Состав")
    kind = ""
    if composition is not None:
        kind = (composition.get("{http://www.w3.org/2001/XMLSchema-instance}type") or "").lower()
        kind = {"номертелефона": "телефон", "электроннаяпочта": "почта"}.get(kind, kind)
        if not root.get("Представление") and composition.get("Значение"):
            return composition.get("Значение") or "", kind
    return " ".join((root.get("Представление") or "").split()), kind


def document(number: int, element: Any, label: str) -> SourceRow:
    keys = kid(element, "КлючевыеСвойства")
    keys = element if keys is None else keys
    doc_number = text_of(keys, "Номер")
    date = values.date(text_of(keys, "Дата"))
    title = f"{label} № {doc_number}" if doc_number else label
    if date:
        title += f" от {date[8:10]}.{date[5:7]}.{date[0:4]}"
    currency = text_of(element, "Валюта", "Код") or text_of(element, "Валюта")
    deal = DealIn(
        external_id=text_of(keys, "Ссылка"),
        title=title,
        amount=values.number(text_of(element, "СуммаДокумента") or text_of(element, "Сумма")),
        currency="RUB" if currency in {"643", "", "руб.", "RUB"} else currency[:3].upper(),
        date=date,
    )
    for goods_name in ("Товары", "Услуги"):
        goods = kid(element, goods_name)
        for line in kids(goods, "Строка") if goods is not None else []:
            item = kid(line, "Номенклатура")
            quantity = values.number(text_of(line, "Количество"))
            price = values.number(text_of(line, "Цена"))
            deal.items.append(
                ItemIn(
                    name=text_of(item, "Наименование") if item is not None else "",
                    external_id=text_of(item, "Ссылка") if item is not None else "",
                    sku=text_of(item, "Артикул") if item is not None else "",
                    quantity=quantity if quantity is not None else Decimal(1),
                    price=price if price is not None else Decimal(0),
                )
            )
    party = kid(keys, "Контрагент")
    if party is None:
        party = kid(element, "Контрагент")
    client = _reference(party) if party is not None else None
    row = SourceRow(number=number, client=client, deal=deal)
    row.values = {"Ссылка": deal.external_id, "Документ": title}
    if client is not None:
        row.values["Контрагент"] = client.name
    return row
