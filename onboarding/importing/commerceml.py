"""CommerceML 2.x / 3.x: counterparty packages, documents (orders), catalogue and offers.

Matched on local names: no namespace up to 2.05, `urn:1C.ru:commerceml_2` in 2.07/2.09,
`urn:1C.ru:commerceml_3` in 3.x. The catalogue's `Владелец` is the seller itself and is
never imported as a customer.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _

from crm_core.models import VatRate
from onboarding.importing import contactinfo, kinds, values
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
            row = SourceRow(number=number)
            row.client = counterparty(element, row.notes)
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


# A counterparty's requisites sit in the «Контрагент» itself up to 2.07, and in its «ЮрЛицо»
# (an organisation) or «ФизЛицо» (a person) block from 2.08 on; some writers mix both.
_BLOCKS = ("ЮрЛицо", "ФизЛицо")
# «Отношение» words that say only "a representative", not what the person does.
_GENERIC_RELATIONS = {"контактное лицо", "представитель", "контакт", ""}


class _Fields:
    """A counterparty's child elements by local name, its own before its block's: one pass
    over the children instead of one per field (the reader's speed is the file's)."""

    def __init__(self, element: Any) -> None:
        self.element = element
        self.by_name: dict[str, Any] = {}
        for child in element:
            self.by_name.setdefault(local(child), child)
        self.blocks = [self.by_name[b] for b in _BLOCKS if b in self.by_name]
        for block in self.blocks:
            for child in block:
                self.by_name.setdefault(local(child), child)

    def text(self, name: str, *path: str) -> str:
        node = self.by_name.get(name)
        if node is None:
            return ""
        return text_of(node, *path) if path else text_of(node)

    def has(self, name: str) -> bool:
        return name in self.by_name

    def person_parts(self) -> tuple[str, str, str]:
        return self.text("Фамилия"), self.text("Имя"), self.text("Отчество")

    def marker(self) -> str:
        """The block the counterparty is written in, or "ФизЛицо" for a flat one with a
        person's name parts (2.03 web shops write their buyers so)."""
        for block in _BLOCKS:
            if block in self.by_name:
                return block
        return "ФизЛицо" if self.has("Фамилия") or self.has("Имя") else ""

    def ogrnip(self) -> str:
        """A sole trader's registration number: «ОГРНИП», or an «ОГРН» of 15 digits."""
        ogrn = self.text("ОГРН")
        return self.text("ОГРНИП") or (ogrn if len(ogrn) == 15 else "")


def counterparty(element: Any, notes: list[str] | None = None) -> ClientIn:
    """A «Контрагент»: its own «Контакты» are the company's, its «Представители» are its
    contact persons with their own contacts. `notes` collects what could not be used."""
    notes = [] if notes is None else notes
    fields = _Fields(element)
    official = fields.text("ОфициальноеНаименование") or fields.text("ПолноеНаименование")
    last, first, middle = fields.person_parts()
    client = ClientIn(
        external_id=fields.text("Ид"),
        name=fields.text("Наименование")
        or official
        or " ".join(p for p in (last, first, middle) if p),
        full_name=official,
        inn=fields.text("ИНН"),
        kpp=fields.text("КПП"),
        legal_address=fields.text("ЮридическийАдрес", "Представление")
        or fields.text("АдресРегистрации", "Представление"),
        postal_address=fields.text("Адрес", "Представление")
        or fields.text("ФактическийАдрес", "Представление"),
    )
    client.kind = kinds.client_kind(
        name=client.name,
        full_name=client.full_name,
        inn=client.inn,
        ogrnip=fields.ogrnip(),
        marker=fields.marker(),
    )
    accounts = fields.by_name.get("РасчетныеСчета")
    account = kid(accounts, "РасчетныйСчет") if accounts is not None else None
    if account is not None:
        client.bank_account = text_of(account, "НомерСчета")
        client.bank_name = text_of(account, "Банк", "Наименование")
        client.bik = text_of(account, "Банк", "БИК")
        client.correspondent_account = text_of(account, "Банк", "СчетКорреспондентский")
    if fields.has("Контакты"):
        for holder in (element, *fields.blocks):
            _contacts(holder, client, notes)
    representatives = fields.by_name.get("Представители")
    for representative in (
        kids(representatives, "Представитель") if representatives is not None else []
    ):
        person = _representative(fields, representative, notes)
        if person is not None:
            client.persons.append(person)
    return client


def _representative(buyer: _Fields, representative: Any, notes: list[str]) -> PersonIn | None:
    """A «Представитель»: a person (nested «Контрагент» in 2.03, flat in 2.09 / 3.1)."""
    nested = kid(representative, "Контрагент")
    node = representative if nested is None else nested
    fields = _Fields(node)
    relation = text_of(representative, "Отношение") or fields.text("Отношение")
    full = fields.text("Наименование") or fields.text("ПолноеНаименование")
    if fields.has("ЮрЛицо") or (
        kinds.client_kind(name=full, inn=fields.text("ИНН"), default="") == kinds.LEGAL
    ):
        # An organisation named as a representative (a consignee, a payer) is not a person.
        notes.append(
            _("The representative «%(name)s» (%(relation)s) is an organisation: not imported.")
            % {"name": full, "relation": relation or "—"}
        )
        return None
    last, first, middle = values.person_name(full)
    own = buyer.person_parts()
    if own[0] and own[1] and set(full.split()) == set(own[:2]):
        # The buyer is its own contact person ("Петр Петров" = Имя Фамилия).
        last, first, middle = own
    named = fields.person_parts()
    position = fields.text("Должность")
    if not position and relation.lower() not in _GENERIC_RELATIONS:
        position = relation  # «Директор», «Главный бухгалтер»
    person = PersonIn(
        external_id=fields.text("Ид"),
        last_name=named[0] or last,
        first_name=named[1] or first,
        middle_name=named[2] or middle,
        position=position,
    )
    holders = [node] if node is representative else [node, representative]
    for holder in holders:
        _contacts(holder, person, notes)
    if not (person.last_name or person.first_name):
        if person.phones or person.emails:
            notes.append(_("A representative without a name: their contacts were not imported."))
        return None
    return person


def _contacts(element: Any, owner: ClientIn | PersonIn, notes: list[str]) -> None:
    """«Контакты/Контакт{Тип, Значение}» into the owner's phones, e-mails (and a company's
    website); a contact of a type the CRM has no place for is named in the row's notes."""
    holder = kid(element, "Контакты")
    if holder is None:
        return
    for contact in kids(holder, "Контакт"):
        kind = text_of(contact, "Тип") or text_of(contact, "Вид")
        value = text_of(contact, "Значение") or text_of(contact, "Представление")
        if value:
            contactinfo.place(kind, value, owner, notes)


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
    row = SourceRow(number=number, deal=deal)
    parties = kid(element, "Контрагенты")
    for party in kids(element if parties is None else parties, "Контрагент"):
        role = text_of(party, "Роль")
        if role in {"", "Покупатель", "Плательщик", "Получатель"}:
            row.client = client = counterparty(party, row.notes)
            break
    else:
        client = None
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
