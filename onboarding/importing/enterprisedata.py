"""EnterpriseData 1.x (the "universal exchange format" 1C documents for CRM integration).

A `Message` with a `msg:Header` (`msg:Format` names the version) and a `Body` of objects:
`Справочник.Контрагенты` become clients with their contact information (an XML document
embedded as escaped text in `ЗначенияПолей`); a counterparty's contact persons
(`Справочник.КонтактныеЛица`, named `…КонтактныеЛицаКонтрагентов` / `…КонтактныеЛицаПартнеров` by
some configurations' rules) become its contact persons, each with their own contact information;
invoices, orders and sales become deals.
Local names only: the namespace carries the version (1.0 … 1.22).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _

from onboarding.importing import contactinfo, kinds, values
from onboarding.importing.records import ClientIn, DealIn, ItemIn, PersonIn, SourceRow
from onboarding.importing.xmltree import children, ends, kid, kids, local, release, text_of

DEAL_DOCUMENTS = {
    "Документ.СчетНаОплатуПокупателю": "Счёт",
    "Документ.ЗаказКлиента": "Заказ",
    "Документ.РеализацияТоваровУслуг": "Реализация",
}
CONTACT_PERSONS = {
    "Справочник.КонтактныеЛица",
    "Справочник.КонтактныеЛицаКонтрагентов",
    "Справочник.КонтактныеЛицаПартнеров",
}
# Where a contact person names the counterparty it belongs to: «ОбъектВладелец» in the
# standard's schemas, «Владелец» / «Контрагент» / «Партнер» in some configurations' rules.
_OWNER = ("ОбъектВладелец", "Владелец", "Контрагент", "Партнер")


def read(stream: IO[bytes], encoding: str) -> Iterator[SourceRow]:
    number = 0
    for element, path in ends(stream, encoding):
        name = local(element)
        if path[-1:] != ["Body"]:
            continue
        row: SourceRow | None = None
        if name == "Справочник.Контрагенты":
            number += 1
            row = SourceRow(number=number)
            client = row.client = counterparty(element, row.notes)
            row.values = {"Ссылка": client.external_id, "Наименование": client.name}
        elif name in CONTACT_PERSONS:
            number += 1
            row = SourceRow(number=number)
            row.client = contact_person(element, row.notes)
            person = row.client.persons[0]
            row.values = {
                "Ссылка": person.external_id,
                "Контактное лицо": " ".join(
                    p for p in (person.last_name, person.first_name, person.middle_name) if p
                ),
                "Контрагент": row.client.name or row.client.external_id,
            }
        elif name in DEAL_DOCUMENTS:
            number += 1
            row = document(number, element, DEAL_DOCUMENTS[name])
        release(element)
        if row is not None:
            yield row


def counterparty(element: Any, notes: list[str] | None = None) -> ClientIn:
    """A «Справочник.Контрагенты»; `notes` collects the contact information that could not
    be read."""
    notes = [] if notes is None else notes
    keys = kid(element, "КлючевыеСвойства")
    keys = element if keys is None else keys
    client = _reference(keys, element)
    info = kid(element, "КонтактнаяИнформация")
    for line in kids(info, "Строка") if info is not None else []:
        _contact_line(line, client, notes)
    return client


def contact_person(element: Any, notes: list[str] | None = None) -> ClientIn:
    """A counterparty's contact person: the counterparty as the person names it (its key
    properties; only its 1C id when that is all the file gives), with the person and their own
    phones and e-mails. The counterparty's own contacts come with the counterparty."""
    notes = [] if notes is None else notes
    keys = kid(element, "КлючевыеСвойства")
    keys = element if keys is None else keys
    fields = children(keys)
    for name, child in children(element).items():
        fields.setdefault(name, child)

    def said(*names: str) -> str:
        return next(
            (t for n in names if (c := fields.get(n)) is not None and (t := text_of(c))), ""
        )

    full_name = fields.get("ФИО")
    if full_name is not None and kid(full_name, "Фамилия") is not None:
        last, first, middle = (text_of(full_name, part) for part in ("Фамилия", "Имя", "Отчество"))
    elif said("Фамилия", "Имя"):
        last, first, middle = said("Фамилия"), said("Имя"), said("Отчество")
    else:
        last, first, middle = values.person_name(said("ФИО", "Наименование"))
    person = PersonIn(
        external_id=said("Ссылка"),
        last_name=last,
        first_name=first,
        middle_name=middle,
        position=said("Должность", "ДолжностьПоВизитке"),
    )
    info = fields.get("КонтактнаяИнформация")
    for line in kids(info, "Строка") if info is not None else []:
        _contact_line(line, person, notes)
    owner = _owner(fields)
    client = _reference(owner) if owner is not None else ClientIn()
    # Named only by its 1C id: the counterparty of this file (or of an earlier one) with it.
    client.by_ref = bool(client.external_id) and not (client.name or client.full_name)
    client.persons.append(person)
    return client


def _owner(fields: dict[str, Any]) -> Any:
    """The counterparty a contact person belongs to: the reference itself, or the one typed
    element inside it («ОбъектВладелец» holding a «КонтрагентСсылка»)."""
    node = next((fields[n] for n in _OWNER if n in fields), None)
    if node is None:
        return None
    inner = list(children(node).values())
    if kid(node, "Ссылка") is None and len(inner) == 1 and children(inner[0]):
        return inner[0]
    return node


def _contact_line(line: Any, client: ClientIn | PersonIn, notes: list[str]) -> None:
    fields = children(line)

    def said(name: str) -> str:
        node = fields.get(name)
        return "" if node is None else text_of(node)

    kind = " ".join(
        t
        for t in map(said, ("ВидКонтактнойИнформации", "ТипКонтактнойИнформации", "Тип", "Вид"))
        if t
    )
    values_node = fields.get("ЗначенияПолей")
    embedded = "" if values_node is None or values_node.text is None else values_node.text
    read = contactinfo.read(embedded)
    presentation = read.value or said("Представление") or said("АдресЭП") or said("НомерТелефона")
    if not presentation:
        if embedded.strip():
            notes.append(
                _("Contact information «%(kind)s» could not be read and was not imported: %(raw)s")
                % {"kind": kind or "—", "raw": _cut(" ".join(embedded.split()))}
            )
        return
    contactinfo.place(f"{kind} {read.kind}".strip(), presentation, client, notes)


def _cut(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Where 1C puts a counterparty's legal form: «ЮридическоеФизическоеЛицо» in the standard's
# schemas, «ЮрФизЛицо» in some configurations' own rules.
_FORM = ("ЮридическоеФизическоеЛицо", "ЮрФизЛицо")


def _reference(node: Any, outer: Any = None) -> ClientIn:
    """A counterparty from its key properties (`node`), the rest of its object in `outer`."""
    fields = children(node)
    if outer is not None and outer is not node:
        for name, child in children(outer).items():
            fields.setdefault(name, child)

    def first(*names: str) -> str:
        for name in names:
            child = fields.get(name)
            if child is not None and (found := text_of(child)):
                return found
        return ""

    client = ClientIn(
        external_id=first("Ссылка"),
        name=first("Наименование", "НаименованиеПолное"),
        full_name=first("НаименованиеПолное", "ПолноеНаименование", "ОфициальноеНаименование"),
        inn=first("ИНН"),
        kpp=first("КПП"),
    )
    registration = first("ОГРНИП", "РегистрационныйНомер", "ОГРН")
    client.kind = kinds.client_kind(
        name=client.name,
        full_name=client.full_name,
        inn=client.inn,
        ogrnip=registration if len(registration) == 15 else "",
        marker=first(*_FORM),
    )
    return client


def text_of_raw(element: Any, name: str) -> str:
    node = kid(element, name)
    return "" if node is None or node.text is None else node.text


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
