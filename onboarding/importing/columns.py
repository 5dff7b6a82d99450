"""Which column is which: CRM fields, and the headers (Russian and English) that name them."""

from __future__ import annotations

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
        ),
    ),
    "email": (_("E-mail"), ("email", "e-mail", "эл почта", "электронная почта", "почта", "mail")),
    "legal_address": (
        _("Legal address"),
        ("юридический адрес", "юр адрес", "адрес регистрации", "адрес", "address", "legal address"),
    ),
    "postal_address": (
        _("Postal address"),
        ("почтовый адрес", "фактический адрес", "postal address"),
    ),
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
        ),
    ),
    "contact_last_name": (_("Last name"), ("фамилия", "last name", "surname")),
    "contact_first_name": (_("First name"), ("имя", "first name")),
    "contact_middle_name": (_("Middle name"), ("отчество", "middle name")),
    "contact_position": (_("Position"), ("должность", "position", "title", "job title")),
    "deal_title": (_("Deal"), ("сделка", "заказ", "deal", "opportunity", "order")),
    "deal_amount": (
        _("Deal amount"),
        ("сумма", "сумма сделки", "amount", "сумма заказа", "deal amount"),
    ),
    "deal_date": (_("Deal date"), ("дата", "date", "дата сделки", "дата заказа")),
}

_NOISE = re.compile(r"[^\w@ -]+")


def normalise_header(value: object) -> str:
    """`  Телефон(ы):` → `телефоны`; `E-mail*` → `e-mail`; `ИНН/КПП` → `инн кпп`."""
    raw = str(value or "").lower().replace("ё", "е").replace("/", " ").replace(".", " ")
    raw = _NOISE.sub("", raw.replace("(", "").replace(")", ""))
    return " ".join(raw.replace("_", " ").split())


def field_for(header: object) -> str:
    key = normalise_header(header)
    if not key:
        return ""
    best, best_len = "", 0
    for field_name, (_label, words) in FIELDS.items():
        for word in words:
            if (key == word or key.startswith(word + " ")) and len(word) > best_len:
                best, best_len = field_name, len(word)
    return best


def suggest_mapping(headers: Sequence[object]) -> dict[str, str]:
    """{normalised header: field} for the headers recognised; each field is used once."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        field_name = field_for(header)
        key = normalise_header(header)
        if field_name and field_name not in used and key not in mapping:
            mapping[key] = field_name
            used.add(field_name)
    return mapping


def score(row: list[object]) -> int:
    """How header-like a row is: the number of its cells naming a known field."""
    return sum(1 for cell in row if isinstance(cell, str) and field_for(cell))
