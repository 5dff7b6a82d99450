"""Which column is which: CRM fields, and the headers (Russian and English) that name them."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from django.utils.translation import gettext_lazy as _

# field → (label, header words). A header matches a field when, once normalised, it equals
# one of the words or starts with one of them followed by a space.
FIELDS: dict[str, tuple[object, tuple[str, ...]]] = {
    "external_id": (_("1C id"), ("ид", "id", "guid", "код 1с", "ид 1с", "external id", "uuid")),
    "name": (
        _("Client name"),
        (
            "наименование",
            "контрагент",
            "клиент",
            "компания",
            "организация",
            "покупатель",
            "название",
            "name",
            "company",
            "client",
            "customer",
            "account name",
            "наименование контрагента",
            "название компании",
        ),
    ),
    "full_name": (
        _("Full legal name"),
        (
            "полное наименование",
            "официальное наименование",
            "юридическое наименование",
            "full name",
            "legal name",
        ),
    ),
    "kind": (_("Kind (legal entity / person)"), ("вид", "тип контрагента", "юр физ лицо", "kind")),
    "relationship": (
        _("Relationship (client / partner / supplier)"),
        ("тип компании", "тип отношений", "отношения", "relationship", "company type"),
    ),
    "inn": (_("INN"), ("инн", "inn", "tax id", "иин", "бин", "vat", "taxpayer id")),
    "kpp": (_("KPP"), ("кпп", "kpp")),
    "phone": (
        _("Phone"),
        (
            "телефон",
            "телефоны",
            "тел",
            "phone",
            "phones",
            "мобильный",
            "mobile",
            "моб тел",
            "телефон рабочий",
            "рабочий телефон",
            "tel",
            "моб телефон",
            "мобильный телефон",
            "сотовый",
            "сотовый телефон",
            "контактный телефон",
            "company phone",
            "office phone",
            "work phone",
            "main phone",
        ),
    ),
    "email": (
        _("E-mail"),
        (
            "email",
            "e-mail",
            "эл почта",
            "электронная почта",
            "почта",
            "mail",
            "e mail",
            "эл адрес",
            "контактный email",
            "контактный e-mail",
            "company email",
            "company e-mail",
        ),
    ),
    "legal_address": (
        _("Legal address"),
        ("юридический адрес", "юр адрес", "адрес регистрации", "адрес", "address", "legal address"),
    ),
    "postal_address": (
        _("Postal address"),
        ("почтовый адрес", "фактический адрес", "postal address"),
    ),
    # Parts of an address kept in columns of their own: composed into the client's address.
    # (No words that start company names too — «Дом мебели», «Край света» — as data rows
    # would then look like headers.)
    "postal_code": (
        _("Address: postal code"),
        ("индекс", "почтовый индекс", "postal code", "postcode", "zip", "zip code"),
    ),
    "country": (_("Address: country"), ("страна", "country")),
    "region": (
        _("Address: region"),
        ("регион", "область", "субъект рф", "region", "province"),
    ),
    "city": (_("Address: city"), ("город", "населенный пункт", "city")),
    "street": (_("Address: street, building"), ("улица", "street", "адрес улица")),
    "website": (_("Website"), ("сайт", "website", "web", "url")),
    "industry": (_("Industry"), ("отрасль", "сфера", "industry")),
    "source": (_("Source"), ("источник", "source", "канал")),
    "bank_name": (_("Bank"), ("банк", "bank")),
    "bik": (_("BIK"), ("бик", "bik")),
    "bank_account": (_("Bank account"), ("расчетный счет", "р с", "account number")),
    "contact_name": (
        _("Contact person"),
        (
            "контактное лицо",
            "контакт",
            "фио",
            "contact",
            "contact name",
            "представитель",
            "contact person",
            "основной контакт",
            "полное имя контакта",
            "полное имя",
            "primary contact",
        ),
    ),
    "contact_last_name": (_("Last name"), ("фамилия", "last name", "surname")),
    "contact_first_name": (_("First name"), ("имя", "first name")),
    "contact_middle_name": (_("Middle name"), ("отчество", "middle name")),
    "contact_position": (_("Position"), ("должность", "position", "title", "job title")),
    # Yes/no: the contact person agreed to mailings (recorded as a consent from the import).
    "marketing_consent": (
        _("Marketing consent (yes/no)"),
        (
            "согласие на рассылку",
            "согласие на рассылки",
            "согласие на рассылку новостей",
            "согласие на получение рассылки",
            "подписка на рассылку",
            "marketing consent",
            "email consent",
            "e-mail consent",
            "opt in",
            "opt-in",
        ),
    ),
    # The contact person's own phone and e-mail; «Телефон»/«Email» alone are the company's.
    "contact_phone": (
        _("Contact person's phone"),
        ("телефон контактного лица", "контактное лицо телефон", "contact phone"),
    ),
    "contact_email": (
        _("Contact person's e-mail"),
        ("email контактного лица", "контактное лицо email", "contact email"),
    ),
    "note": (
        _("Note (on the client's feed)"),
        (
            "примечание",
            "примечания",
            "комментарий",
            "комментарии",
            "заметка",
            "заметки",
            "описание",
            "дополнительная информация",
            "доп информация",
            "note",
            "notes",
            "comment",
            "comments",
            "remarks",
            "description",
        ),
    ),
    # Money the client owes or is owed: never a deal (see BALANCE_WORDS).
    "balance": (
        _("Balance / debt (a client field)"),
        (
            "сальдо",
            "долг",
            "задолженность",
            "сумма задолженности",
            "сумма долга",
            "баланс",
            "остаток",
            "balance",
            "debt",
            "amount due",
            "outstanding",
        ),
    ),
    "deal_title": (
        _("Deal"),
        (
            "сделка",
            "заказ",
            "deal",
            "opportunity",
            "order",
            "название сделки",
            "deal name",
            "название лида",
            "lead title",
            "lead name",
        ),
    ),
    "deal_amount": (
        _("Deal amount"),
        ("сумма", "сумма сделки", "amount", "сумма заказа", "deal amount", "бюджет", "budget"),
    ),
    "deal_date": (
        _("Deal date (created)"),
        ("дата", "date", "дата сделки", "дата заказа", "дата создания", "create date", "created"),
    ),
    # What a pipeline kept in another CRM says of its deals (switching.py reads them).
    "deal_external_id": (_("Deal: id in the other CRM"), ("id сделки", "deal id", "ид сделки")),
    "deal_pipeline": (
        _("Deal: pipeline"),
        ("воронка", "воронка продаж", "направление", "направление сделки", "pipeline"),
    ),
    "deal_stage": (
        _("Deal: stage"),
        ("этап", "этап сделки", "стадия", "стадия сделки", "stage", "deal stage", "статус лида"),
    ),
    "deal_outcome": (
        _("Deal: won / lost"),
        ("результат", "результат сделки", "статус сделки", "deal status", "outcome", "won lost"),
    ),
    "deal_lost_reason": (
        _("Deal: reason for losing"),
        (
            "причина отказа",
            "причина проигрыша",
            "причина закрытия",
            "причина провала",
            "loss reason",
            "lost reason",
            "closed lost reason",
        ),
    ),
    "deal_closed": (
        _("Deal: closed on"),
        ("дата закрытия", "дата закрытия сделки", "closed", "close date", "closed at"),
    ),
    "deal_expected_close": (
        _("Deal: expected close"),
        (
            "предполагаемая дата закрытия",
            "ожидаемая дата закрытия",
            "плановая дата закрытия",
            "expected close",
            "expected close date",
        ),
    ),
    "deal_currency": (_("Deal: currency"), ("валюта", "currency", "deal currency")),
    "deal_products": (
        _("Deal: products"),
        ("товары", "продукты", "товары сделки", "products", "line items"),
    ),
    "company_ref": (
        _("Company's id in the other CRM (a link)"),
        (
            "id компании",
            "ид компании",
            "company id",
            "associated company ids",
            "associated company id",
        ),
    ),
    "contact_ref": (
        _("Contact's id in the other CRM (a link)"),
        (
            "id контакта",
            "ид контакта",
            "contact id",
            "associated contact ids",
            "associated contact id",
        ),
    ),
    "deal_ref": (
        _("Deal's id in the other CRM (a link)"),
        ("associated deal ids", "associated deal id", "id связанной сделки"),
    ),
    "association_label": (
        _("Association's label in the other CRM"),
        ("association label", "association labels", "association type", "метка связи"),
    ),
    "contact_external_id": (_("Contact person: id in the other CRM"), ("id контактного лица",)),
    "contact_telegram": (_("Contact person: Telegram"), ("telegram", "телеграм", "телеграмм")),
    "contact_whatsapp": (_("Contact person: WhatsApp"), ("whatsapp", "ватсап", "вотсап")),
    "responsible": (
        _("Responsible person (a member)"),
        (
            "ответственный",
            "ответственный менеджер",
            "ответственный сотрудник",
            "responsible",
            "responsible user",
            "owner",
            "deal owner",
            "contact owner",
            "company owner",
            "assigned to",
            "task owner",
            "исполнитель",
        ),
    ),
    # A tasks file: each row a task.
    "task_text": (
        _("Task: text"),
        ("текст задачи", "название задачи", "тема задачи", "task title", "task subject"),
    ),
    "task_due": (
        _("Task: due"),
        (
            "срок",
            "срок выполнения",
            "крайний срок",
            "дата выполнения",
            "дата исполнения",
            "due date",
            "deadline",
        ),
    ),
    "task_done": (
        _("Task: done"),
        ("выполнена", "статус задачи", "task status", "completed"),
    ),
    "task_kind": (_("Task: type"), ("тип задачи", "task type")),
    # A notes (history) file: each row an entry of a timeline.
    "timeline_text": (
        _("History: text of a note or a call"),
        (
            "текст примечания",
            "текст заметки",
            "текст события",
            "текст звонка",
            "note body",
            "call notes",
        ),
    ),
    "timeline_kind": (
        _("History: type (note, call, e-mail, meeting)"),
        ("тип примечания", "тип события", "activity type", "engagement type", "тип активности"),
    ),
    "timeline_date": (
        _("History: when"),
        (
            "дата события",
            "дата примечания",
            "дата звонка",
            "activity date",
            "note date",
            "call date",
        ),
    ),
    "author": (
        _("Author (a member)"),
        ("автор", "author", "created by", "кем создан", "кем создана", "кем создано", "создал"),
    ),
    "link_type": (
        _("Linked record's type (deal, contact, company)"),
        ("тип сущности", "сущность", "тип объекта", "entity type", "object type", "entity"),
    ),
    "link_id": (
        _("Linked record's id in the other CRM"),
        ("id сущности", "ид сущности", "id объекта", "entity id", "object id", "element id"),
    ),
    "link_name": (
        _("Linked deal, contact or company (by name)"),
        ("прикреплено к", "связано с", "название сущности", "linked to", "related to"),
    ),
}

# Fields a row may hold several of: two columns mapped to one of them keep both values.
MULTI_VALUED = frozenset({"phone", "email", "contact_phone", "contact_email", "note"})
# The fields that make each row of a file a task, or an entry of a timeline (a note, a call),
# instead of a client (see tabular.row_kind).
TASK_FIELDS = frozenset({"task_text", "task_due", "task_done", "task_kind"})
TIMELINE_FIELDS = frozenset({"timeline_text", "timeline_kind", "timeline_date"})
# A deal's own columns beyond its title, amount and date.
SWITCH_DEAL_FIELDS = frozenset(
    {
        "deal_external_id",
        "deal_pipeline",
        "deal_stage",
        "deal_outcome",
        "deal_lost_reason",
        "deal_closed",
        "deal_expected_close",
        "deal_currency",
        "deal_products",
    }
)
ADDRESS_PARTS = ("postal_code", "country", "region", "city", "street")  # in the written order
# The choice that makes a new custom field of the client from a column, and the prefix of a
# column mapped to one (custom:<key>).
NEW_CUSTOM = "new_custom"
CUSTOM_PREFIX = "custom:"
BALANCE_KEY = "balance"  # the client custom field (money) a balance column fills
# A header speaking of a debt or a balance names money the client owes, not a deal, wherever
# the word stands ("Сумма долга", "Долг покупателя, руб", "Сальдо на конец").
# (Whole words: "Долгопрудный" is a city.)
_BALANCE_WORD = re.compile(
    r"задолженн\w*|долг(?:а|и|ов|у|ом)?|сальдо|дебиторск\w*|кредиторск\w*"
    r"|balance|debt|debts|owed|outstanding|arrears"
)
# Words saying that a column is about the contact person, not the company: «Телефон
# контактного лица», «E-mail представителя», "Contact phone", «Контактное лицо: телефон».
_PERSON_MARKERS = (
    "контактного лица",
    "контактное лицо",
    "контактных лиц",
    "контакт лица",
    "представителя",
    "представитель",
    "контакта",
    "сотрудника",
    "contact persons",
    "contact person",
    "contacts",
    "contact",
)
_PERSON_NOUNS = frozenset({"контактное лицо", "представитель", "contact person", "contact"})
# A company field named with a person marker becomes the person's own.
_PERSON_FIELDS = {
    "phone": "contact_phone",
    "email": "contact_email",
    "name": "contact_name",
    "contact_name": "contact_name",
    "full_name": "contact_name",
    "contact_phone": "contact_phone",
    "contact_email": "contact_email",
    "contact_position": "contact_position",
    "contact_last_name": "contact_last_name",
    "contact_first_name": "contact_first_name",
    "contact_middle_name": "contact_middle_name",
}

# Headers whose words mislead the rules above: «Компания контакта» is the company's name (not
# the contact person's), as amoCRM's contact export writes it.
_EXACT = {
    "компания контакта": "name",
    "company of the contact": "name",
    "contact company": "name",
}

_NOISE = re.compile(r"[^\w@ -]+")


def normalise_header(value: object) -> str:
    """`  Телефон(ы):` → `телефоны`; `E-mail*` → `e-mail`; `ИНН/КПП` → `инн кпп`."""
    raw = str(value or "").lower().replace("ё", "е").replace("/", " ").replace(".", " ")
    raw = _NOISE.sub("", raw.replace("(", "").replace(")", ""))
    return " ".join(raw.replace("_", " ").split())


def _by_words(key: str) -> str:
    best, best_len = "", 0
    for field_name, (_label, words) in FIELDS.items():
        for word in words:
            if (key == word or key.startswith(word + " ")) and len(word) > best_len:
                best, best_len = field_name, len(word)
    return best


def _is_balance(key: str) -> bool:
    return any(_BALANCE_WORD.fullmatch(token) for token in key.split())


def _person_field(key: str) -> str:
    """The contact person's field a header names with a person marker, or ""."""
    padded = f" {key} "
    for marker in _PERSON_MARKERS:
        if f" {marker} " in padded and key != marker:
            rest = " ".join(padded.replace(f" {marker} ", " ", 1).split())
            named = _by_words(rest)
            if not named and marker in _PERSON_NOUNS:
                # «Основное контактное лицо», "Primary contact": the person, qualified.
                return "contact_name"
            return _PERSON_FIELDS.get(named, "")
    return ""


@functools.lru_cache(maxsize=4096)
def field_for(header: object) -> str:
    key = normalise_header(header)
    if not key:
        return ""
    if key in _EXACT:
        return _EXACT[key]
    if _is_balance(key):
        return "balance"
    return _person_field(key) or _by_words(key)


def suggest_mapping(headers: Sequence[object]) -> dict[str, str]:
    """{normalised header: field} for the headers recognised. A field that holds one value is
    suggested for its first column only (the others are left for the person, and named by
    `unsuggested`); phones, e-mails and notes are suggested for every column naming them."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        field_name = field_for(header)
        key = normalise_header(header)
        if not field_name or key in mapping:
            continue
        if field_name in MULTI_VALUED or field_name not in used:
            mapping[key] = field_name
            used.add(field_name)
    return mapping


def unsuggested(headers: Sequence[object], mapping: dict[str, str]) -> list[tuple[str, str]]:
    """(header, field) for each column that names a field another column already has: the
    suggestion leaves it unmapped, and the mapping page says so."""
    taken = set(mapping.values())
    return [
        (str(header), field_name)
        for header in headers
        if (field_name := field_for(header))
        and normalise_header(header) not in mapping
        and field_name in taken
        and field_name not in MULTI_VALUED
    ]


def is_custom(field_name: str) -> bool:
    return field_name.startswith(CUSTOM_PREFIX)


def label_of(field_name: str) -> str:
    if field_name in FIELDS:
        return str(FIELDS[field_name][0])
    return field_name


def score(row: list[object]) -> int:
    """How header-like a row is: the number of its cells naming a known field."""
    return sum(1 for cell in row if isinstance(cell, str) and field_for(cell))
