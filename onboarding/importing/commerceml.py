"""CommerceML 2.x / 3.x: counterparty packages, documents (orders), catalogue and offers.

Matched on local names: no namespace up to 2.05, `urn:1C.ru:commerceml_2` in 2.07/2.09,
`urn:1C.ru:commerceml_3` in 3.x. The catalogue's `Владелец` is the seller itself and is
never imported as a customer.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from crm_core.models import VatRate
from onboarding.importing import values
from onboarding.importing.records import (
    ClientIn,
    DealIn,
    ItemIn,
    PersonIn,
    ProductIn,
    SourceRow,
)
from onboarding.importing.xmltree import ends, kid, kids, local, release, text_of

UNIT_CODES = {"796": "шт", "715": "пар", "166": "кг", "006": "м", "112": "л", "055": "м2"}
ROOT = "КоммерческаяИнформация"


def read(stream: IO[bytes], encoding: str) -> Iterator[SourceRow]:
    number = 0
    for element, path in ends(stream, encoding):
        name = local(element)
        parent = path[-1] if path else ""
        row: SourceRow | None = None
        if name == "Документ" and parent in {ROOT, "Контейнер"}:
            number += 1
            row = document(number, element)
        elif name == "Контрагент" and parent == "Контрагенты" and path[-2:-1] == [ROOT]:
            number += 1
            row = SourceRow(number=number, client=counterparty(element))
            row.values = _shown(row.client)
            if text_of(element, "ПометкаУдаления") == "true":
                row.rejected = "deleted_in_1c"
        elif name == "Товар" and parent == "Товары" and "Каталог" in path:
            number += 1
            product = catalogue_product(element)
            row = SourceRow(number=number, product=product)
            row.values = {"Ид": product.external_id, "Наименование": product.name}
            if element.get("Статус") == "Удален" or text_of(element, "ПометкаУдаления") == "true":
                row.rejected = "deleted_in_1c"
        elif name == "Предложение" and parent == "Предложения":
            number += 1
            product = offer(element)
            row = SourceRow(number=number, product=product)
            row.values = {"Ид": product.external_id, "Наименование": product.name}
        if row is not None:
            release(element)
            yield row


def counterparty(element: Any) -> ClientIn:
    official = text_of(element, "ОфициальноеНаименование") or text_of(element, "ПолноеНаименование")
    client = ClientIn(
        external_id=text_of(element, "Ид"),
        name=text_of(element, "Наименование") or official,
        full_name=official,
        inn=text_of(element, "ИНН"),
        kpp=text_of(element, "КПП"),
        legal_address=text_of(element, "АдресРегистрации", "Представление")
        or text_of(element, "ЮридическийАдрес", "Представление"),
        postal_address=text_of(element, "Адрес", "Представление"),
    )
    if kid(element, "Фамилия") is not None or kid(element, "Имя") is not None:
        client.kind = "person" if len(values.text(client.inn)) != 10 else "legal"
        if not client.name:
            client.name = " ".join(
                p for p in (text_of(element, "Фамилия"), text_of(element, "Имя")) if p
            )
    account = kid(element, "РасчетныеСчета", "РасчетныйСчет")
    if account is not None:
        client.bank_account = text_of(account, "НомерСчета")
        client.bank_name = text_of(account, "Банк", "Наименование")
        client.bik = text_of(account, "Банк", "БИК")
        client.correspondent_account = text_of(account, "Банк", "СчетКорреспондентский")
    _contacts(element, client.phones, client.emails)
    representatives = kid(element, "Представители")
    for representative in (
        kids(representatives, "Представитель") if representatives is not None else []
    ):
        # Nested `Контрагент` in 2.03, flat in 2.09 / 3.1.
        node = kid(representative, "Контрагент")
        node = representative if node is None else node
        full = text_of(node, "Наименование")
        last, first, middle = values.person_name(full)
        own = (text_of(element, "Фамилия"), text_of(element, "Имя"))
        if all(own) and set(full.split()) == set(own):
            # The buyer is its own contact person ("Петр Петров" = Имя Фамилия).
            last, first, middle = own[0], own[1], text_of(element, "Отчество")
        person = PersonIn(
            external_id=text_of(node, "Ид"),
            last_name=text_of(node, "Фамилия") or last,
            first_name=text_of(node, "Имя") or first,
            middle_name=text_of(node, "Отчество") or middle,
            position=text_of(node, "Отношение"),
        )
        _contacts(node, person.phones, person.emails)
        if person.last_name or person.first_name:
            client.persons.append(person)
    return client


def _contacts(element: Any, phones: list[str], emails: list[str]) -> None:
    holder = kid(element, "Контакты")
    if holder is None:
        return
    for contact in kids(holder, "Контакт"):
        kind = text_of(contact, "Тип").lower()
        value = text_of(contact, "Значение")
        if not value:
            continue
        if "почт" in kind or "mail" in kind or "@" in value:
            emails.extend(values.emails(value))
        elif "факс" not in kind and "сайт" not in kind:
            phones.extend(values.phones(value))


def document(number: int, element: Any) -> SourceRow:
    """An order («Заказ товара») → a deal with line items, linked to its counterparty."""
    doc_number = text_of(element, "Номер")
    date = values.date(text_of(element, "Дата"))
    operation = text_of(element, "ХозОперация") or "Документ"
    title = f"{operation} № {doc_number}" if doc_number else operation
    if date:
        title += f" от {date[8:10]}.{date[5:7]}.{date[0:4]}"
    currency = text_of(element, "Валюта").upper()
    deal = DealIn(
        external_id=text_of(element, "Ид"),
        title=title,
        amount=values.number(text_of(element, "Сумма")),
        currency="RUB" if currency in {"РУБ", "RUR", "643", ""} else currency[:3],
        date=date,
    )
    goods = kid(element, "Товары")
    for good in kids(goods, "Товар") if goods is not None else []:
        quantity = values.number(text_of(good, "Количество"))
        price = values.number(text_of(good, "ЦенаЗаЕдиницу") or text_of(good, "Цена"))
        deal.items.append(
            ItemIn(
                name=text_of(good, "Наименование"),
                external_id=text_of(good, "Ид"),
                sku=text_of(good, "Артикул"),
                unit=_unit(good),
                quantity=quantity if quantity is not None else Decimal(1),
                price=price if price is not None else Decimal(0),
            )
        )
    client = None
    parties = kid(element, "Контрагенты")
    for party in kids(element if parties is None else parties, "Контрагент"):
        role = text_of(party, "Роль")
        if role in {"", "Покупатель", "Плательщик", "Получатель"}:
            client = counterparty(party)
            break
    row = SourceRow(number=number, client=client, deal=deal)
    row.values = {"Ид": deal.external_id, "Документ": title}
    if client is not None:
        row.values.update(_shown(client))
    return row


def catalogue_product(element: Any) -> ProductIn:
    return ProductIn(
        external_id=text_of(element, "Ид"),
        name=text_of(element, "Наименование"),
        sku=text_of(element, "Артикул"),
        unit=_unit(element),
        vat_rate=_vat_rate(element),
    )


# The standard rate's earlier values (18 % until 2019, 20 % until 2026) in an older catalogue
# are today's standard rate: a product sold now is taxed at 22 %.
_OLD_STANDARD = {"18", "20"}


def _vat_rate(element: Any) -> str:
    """«СтавкиНалогов/СтавкаНалога» named НДС (CommerceML 2 and 3), or the requisite
    «СтавкаНДС»: "22", "10", "0", "none" (Без НДС); "" when absent or not a rate we know."""
    text = ""
    rates = kid(element, "СтавкиНалогов")
    for rate in kids(rates, "СтавкаНалога") if rates is not None else []:
        if text_of(rate, "Наименование").strip().upper() == "НДС":
            text = text_of(rate, "Ставка")
    requisites = kid(element, "ЗначенияРеквизитов")
    for requisite in kids(requisites, "ЗначениеРеквизита") if requisites is not None else []:
        if not text and text_of(requisite, "Наименование").replace(" ", "") == "СтавкаНДС":
            text = text_of(requisite, "Значение")
    text = text.strip().lower().replace("%", "").replace("ндс", "").strip()
    if text in ("без", "без налога", "не облагается"):
        return VatRate.NONE
    if text in _OLD_STANDARD:
        return VatRate.TWENTY_TWO
    return text if text in VatRate.values and text != VatRate.NONE else ""


def offer(element: Any) -> ProductIn:
    price = None
    prices = kid(element, "Цены")
    first = next(kids(prices, "Цена"), None) if prices is not None else None
    if first is not None:
        price = values.number(text_of(first, "ЦенаЗаЕдиницу"))
    return ProductIn(
        external_id=text_of(element, "Ид"),
        name=text_of(element, "Наименование"),
        sku=text_of(element, "Артикул"),
        unit=_unit(element),
        vat_rate=_vat_rate(element),
        price=price,
        price_only=not text_of(element, "Наименование"),
    )


def _unit(element: Any) -> str:
    base = kid(element, "БазоваяЕдиница")
    if base is not None:
        short = " ".join((base.text or "").split())
        code = (base.get("Код") or short).strip()
        if short and not short.isdigit():
            return short[:20]
        return UNIT_CODES.get(code, code or "шт")[:20]
    unit = kid(element, "Единица")
    if unit is not None:
        return (text_of(unit, "НаименованиеКраткое") or UNIT_CODES.get(text_of(unit, "Код"), "шт"))[
            :20
        ]
    return ""


def _shown(client: ClientIn | None) -> dict[str, str]:
    if client is None:
        return {}
    shown = {"Контрагент": client.name, "Ид контрагента": client.external_id}
    if client.inn:
        shown["ИНН"] = client.inn
    return shown
