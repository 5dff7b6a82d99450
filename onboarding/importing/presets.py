"""Mappings for the exports of other CRMs (amoCRM, Bitrix24, HubSpot), recognised from a
file's headers in Russian or English.

A preset is a saved mapping that ships with Relata: the same {normalised header: field} a
template holds (ImportTemplate.mapping), made for the columns that export has, whatever their
order, case or spacing, with the columns it does not know mapped by the usual header rules.
It also says what the file's rows are (options: deals, the prefix of the source's ids), so
that ids from two systems never meet.

The headers are those of the systems' list exports as their help pages and users' samples
describe them (amoCRM «Экспорт» of deals/contacts/companies, Bitrix24's CRM list «Экспорт
в Excel/CSV» of leads/deals/contacts/companies, HubSpot's "Export" of records and their
associations); the files written from them for the tests are in tests/fixtures/switch/.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from onboarding.importing import columns
from onboarding.importing.columns import normalise_header

AMOCRM, BITRIX24, HUBSPOT = "amocrm", "bitrix24", "hubspot"
SYSTEMS = {AMOCRM: "amoCRM", BITRIX24: "Bitrix24", HUBSPOT: "HubSpot"}

# Headers as people and other versions of the same export spell them: the words (after
# columns.normalise_header: lower case, ё as е, no punctuation or brackets) that mean the same.
_SAME_WORDS = (
    (re.compile(r"\b(?:e-mail|e mail|емейл|емэйл|имейл|эл почта|электронная почта)\b"), "email"),
    (re.compile(r"\bтел\b"), "телефон"),
    (re.compile(r"\bмоб\b"), "мобильный"),
    (re.compile(r"\b(?:ид|идентификатор|№)\b"), "id"),
    (
        re.compile(r"\bответственн(?:ый|ое) (?:менеджер|сотрудник|пользователь|лицо)\b"),
        "ответственный",
    ),
    (re.compile(r"\bresponsible (?:user|person|manager)\b"), "responsible"),
    (
        re.compile(r"\b(?:date created|creation date|created date|created at|created on)\b"),
        "created",
    ),
    (re.compile(r"\b(?:date closed|closing date|closed date|closed at|closed on)\b"), "closed"),
)
# A unit or a note at a header's end («Бюджет (руб.)», "Amount (USD)", «Дата создания (МСК)»):
# the header without it is the one known. Never a word that says whose the column is.
_TRAILING = re.compile(r"^(.+?) (?:руб|рублей|рубли|р|rub|rur|usd|eur|kzt|byn|uah|шт|мск|msk|utc)$")


def canonical(header: str) -> str:
    """A (normalised) header with the same words spelled one way."""
    key = header.split(" #", 1)[0]
    for pattern, word in _SAME_WORDS:
        key = pattern.sub(word, key)
    return " ".join(key.split())


def _variants(header: str) -> tuple[str, ...]:
    """The spellings a file's header is looked up by: as given, without a trailing unit, and
    its words in any order («Email рабочий» is «Рабочий email»)."""
    key = canonical(header)
    found = [key]
    if match := _TRAILING.match(key):
        found.append(match[1])
    found += [" ".join(sorted(k.split())) for k in list(found)]
    return tuple(found)


@dataclass(frozen=True)
class Preset:
    key: str
    system: str
    label: Promise
    # field → the headers (Russian and English) naming it in this export.
    fields: dict[str, tuple[str, ...]]
    # Headers only this export has: at least one of them must be there.
    marks: tuple[str, ...]
    deals: bool = False
    # Headers of which one is usually there too (every export of the system has one): a
    # file with one is more likely this export.
    also: tuple[str, ...] = ()
    # The fields that make a file this kind of export: `need` of them must be found (a
    # held-out export may rename or leave out the others).
    core: tuple[str, ...] = ()
    need: int = 2
    by_header: dict[str, str] = field(default_factory=dict, compare=False)
    mark_keys: set[str] = field(default_factory=set, compare=False)
    also_keys: set[str] = field(default_factory=set, compare=False)

    def __post_init__(self) -> None:
        for field_name, headers in self.fields.items():
            for header in headers:
                key = canonical(normalise_header(header))
                self.by_header.setdefault(key, field_name)
                self.by_header.setdefault(" ".join(sorted(key.split())), field_name)
        for keys, headers in ((self.mark_keys, self.marks), (self.also_keys, self.also)):
            for header in headers:
                key = canonical(normalise_header(header))
                keys.update((key, " ".join(sorted(key.split()))))

    def known(self, header: str) -> str:
        """The spelling of a file's (normalised) header this export knows, or ""."""
        return next((k for k in _variants(header) if k in self.by_header), "")

    def field_of(self, header: str) -> str:
        known = self.known(header)
        return self.by_header[known] if known else ""

    def _marked(self, header: str, keys: set[str]) -> bool:
        return any(k in keys for k in _variants(header))

    @property
    def system_name(self) -> str:
        return SYSTEMS[self.system]

    def mapping(self, headers: Sequence[str]) -> dict[str, str]:
        """{header: field} for a file's (normalised) headers: this export's own columns, and
        the others by the usual header rules; a field that holds one value gets one column."""
        chosen: dict[str, str] = {}
        used: set[str] = set()
        for header in headers:
            # (A repeated header keeps its column's number: "email #2".)
            field_name = self.field_of(header)
            if field_name and (field_name in columns.MULTI_VALUED or field_name not in used):
                chosen[header] = field_name
                used.add(field_name)
        for header in headers:
            if header in chosen:
                continue
            field_name = columns.field_for(header)
            if field_name and field_name not in used and field_name not in _NOT_GUESSED:
                chosen[header] = field_name
                used.add(field_name)
        return chosen

    def options(self) -> dict[str, Any]:
        return {"preset": self.key, "id_prefix": f"{self.system}:", "deals": self.deals}

    def score(self, headers: set[str]) -> int:
        """How surely a file of these headers is this export (0: it is not): one of its own
        headers (a mark) and `need` of its core fields must be there; then the more of its
        core, marks and other columns, the surer."""
        marks = sum(1 for header in headers if self._marked(header, self.mark_keys))
        if not marks:
            return 0
        fields = {self.field_of(header) for header in headers} - {""}
        core = len(fields & set(self.core))
        if core < self.need:
            return 0
        also = any(self._marked(header, self.also_keys) for header in headers)
        return core * 10 + marks * 3 + len(fields) + (5 if also else 0)


# Fields the header rules would guess in an export that means something else by them (a
# contact export's «Email» is the person's, not the company's): only the preset maps them.
_NOT_GUESSED = frozenset({"phone", "email", "external_id"})

_NAME = {"name": ("Компания", "Company", "Название компании", "Company name")}
_PERSON_CONTACTS = {
    "contact_phone": (
        "Рабочий телефон",
        "Мобильный телефон",
        "Домашний телефон",
        "Другой телефон",
        "Work phone",
        "Mobile phone",
        "Home phone",
        "Other phone",
        "Рабочий прямой",
        "Direct phone",
    ),
    "contact_email": (
        "Рабочий email",
        "Личный email",
        "Другой email",
        "Рабочий e-mail",
        "Частный e-mail",
        "Личный e-mail",
        "Work email",
        "Personal email",
        "Other email",
        "Work e-mail",
        "Private email",
        "Personal e-mail",
    ),
    "contact_position": ("Должность", "Position", "Job title"),
    "contact_telegram": ("Telegram", "Telegram (контакт)", "Контакт Telegram"),
    "contact_whatsapp": ("WhatsApp", "WhatsApp (контакт)"),
    "contact_first_name": ("Имя", "First name"),
    "contact_last_name": ("Фамилия", "Last name"),
    "contact_middle_name": ("Отчество", "Второе имя", "Middle name", "Second name"),
    "contact_name": ("Полное имя", "Наименование", "Full name", "Name", "ФИО"),
}
_COMPANY_CONTACTS = {
    "phone": (
        "Рабочий телефон",
        "Мобильный телефон",
        "Другой телефон",
        "Телефон",
        "Work phone",
        "Mobile phone",
        "Phone",
        "Phone number",
        "Other phone",
    ),
    "email": ("Рабочий email", "Рабочий e-mail", "Email", "E-mail", "Work email", "Work e-mail"),
    "website": (
        "Web",
        "Сайт",
        "Корпоративный сайт",
        "Website",
        "Corporate website",
        "Company Domain Name",
        "Website URL",
    ),
    "legal_address": ("Адрес", "Address", "Street Address", "Юридический адрес"),
    "industry": ("Сфера деятельности", "Отрасль", "Industry"),
    "inn": ("ИНН", "INN"),
    "kpp": ("КПП", "KPP"),
}
_DEAL = {
    "deal_external_id": ("ID", "ID сделки", "Deal ID"),
    "deal_title": (
        "Название сделки",
        "Сделка",
        "Название",
        "Deal name",
        "Lead name",
        "Lead title",
        "Deal title",
        "Title",
        "Deal",
        "Sale",
        "Название",
    ),
    "deal_amount": (
        "Бюджет",
        "Сумма",
        "Сумма сделки",
        "Бюджет сделки",
        "Budget",
        "Amount",
        "Income",
        "Opportunity",
        "Sum",
        "Total",
        "Deal amount",
    ),
    "deal_currency": ("Валюта", "Currency"),
    "responsible": (
        "Ответственный",
        "Ответственный за сделку",
        "Менеджер",
        "Responsible",
        "Responsible user",
        "Responsible person",
        "Owner",
        "Deal owner",
    ),
    "deal_date": (
        "Дата создания сделки",
        "Дата создания",
        "Создана",
        "Date created",
        "Created at",
        "Created",
        "Created on",
    ),
    "deal_closed": (
        "Дата закрытия",
        "Дата закрытия сделки",
        "Закрыта",
        "Date closed",
        "Closed at",
        "Closed on",
        "Close date",
    ),
    "deal_lost_reason": ("Причина отказа", "Loss reason", "Lost reason", "Причина провала"),
    "deal_products": ("Товары", "Products"),
    "source": ("Источник", "Source"),
    "note": ("Примечание", "Комментарий", "Note", "Comment", "Примечание 1"),
}
_TASK = {
    "external_id": ("ID", "ID задачи", "Task ID"),
    "task_text": ("Текст задачи", "Задача", "Текст", "Task text", "Task", "Text"),
    "task_due": (
        "Срок выполнения",
        "Дата исполнения",
        "Срок",
        "Крайний срок",
        "Due date",
        "Deadline",
        "Complete till",
        "Выполнить до",
    ),
    "task_done": ("Статус", "Выполнена", "Status", "Completed", "Статус задачи"),
    "task_kind": ("Тип задачи", "Тип", "Task type", "Type"),
    "responsible": (
        "Ответственный",
        "Исполнитель",
        "Responsible",
        "Responsible user",
        "Responsible person",
        "Assignee",
    ),
    "author": ("Автор", "Кем создана", "Постановщик", "Created by", "Author"),
    "link_type": ("Сущность", "Тип сущности", "Привязка", "Entity", "Entity type"),
    "link_id": ("ID сущности", "Entity ID", "ID элемента"),
    "link_name": (
        "Название сущности",
        "Прикреплено к",
        "Entity name",
        "Linked to",
        "Сделка",
        "Deal",
    ),
}
_NOTE = {
    "external_id": ("ID", "ID примечания", "Note ID"),
    "timeline_text": ("Текст", "Текст примечания", "Примечание", "Text", "Note text", "Note"),
    "timeline_kind": ("Тип", "Тип примечания", "Тип события", "Type", "Note type"),
    "timeline_date": ("Дата создания", "Дата", "Date created", "Created at", "Date"),
    "author": (
        "Автор",
        "Кем создано",
        "Кем создан",
        "Ответственный",
        "Created by",
        "Author",
        "Responsible user",
    ),
    "link_type": ("Сущность", "Тип сущности", "Entity", "Entity type"),
    "link_id": ("ID сущности", "Entity ID"),
    "link_name": ("Название сущности", "Прикреплено к", "Entity name", "Linked to"),
}

_RESPONSIBLE = ("Ответственный", "Responsible", "Responsible user", "Responsible person")
_AUTHORED = (*_RESPONSIBLE, "Автор", "Кем создано", "Created by", "Author")
_RECORD_ID = ("Record ID", "ID записи")

PRESETS: tuple[Preset, ...] = (
    # ------------------------------------------------------------------ amoCRM
    Preset(
        key="amocrm_deals",
        core=("deal_title", "deal_stage", "deal_amount", "deal_pipeline", "responsible"),
        also=_RESPONSIBLE,
        system=AMOCRM,
        label=_("amoCRM: deals"),
        deals=True,
        fields={
            **_DEAL,
            "deal_stage": (
                "Этап сделки",
                "Этап",
                "Статус сделки",
                "Статус",
                "Stage",
                "Lead status",
                "Deal stage",
                "Status",
            ),
            "deal_pipeline": ("Воронка", "Воронка продаж", "Pipeline", "Sales pipeline"),
            "contact_name": (
                "Основной контакт",
                "Полное имя контакта",
                "Контакт",
                "Имя контакта",
                "Main contact",
                "Contact",
                "Contact full name",
                "Full name of contact",
                "Contact name",
            ),
            "name": ("Компания", "Компания контакта", "Company", "Contact company"),
            "contact_phone": (
                "Рабочий телефон (контакт)",
                "Мобильный телефон (контакт)",
                "Work phone (contact)",
                "Mobile phone (contact)",
            ),
            "contact_email": (
                "Рабочий email (контакт)",
                "Личный email (контакт)",
                "Work email (contact)",
                "Personal email (contact)",
            ),
            "contact_position": ("Должность (контакт)", "Position (contact)"),
            "phone": ("Рабочий телефон (компания)", "Work phone (company)"),
            "email": ("Рабочий email (компания)", "Work email (company)"),
        },
        marks=(
            "Этап сделки",
            "Бюджет",
            "Название сделки",
            "Основной контакт",
            "Lead name",
            "Lead title",
            "Budget",
            "Lead status",
            "Main contact",
            "Воронка",
        ),
    ),
    Preset(
        key="amocrm_contacts",
        core=(
            "contact_first_name",
            "contact_last_name",
            "contact_name",
            "contact_email",
            "contact_phone",
            "name",
        ),
        also=_RESPONSIBLE,
        system=AMOCRM,
        label=_("amoCRM: contacts"),
        fields={
            **_PERSON_CONTACTS,
            "contact_external_id": ("ID", "Contact ID"),
            "name": ("Компания контакта", "Компания", "Company", "Contact company"),
            "responsible": ("Ответственный", "Responsible user", "Responsible"),
            "note": ("Примечание", "Примечание 1", "Note"),
            "source": ("Источник", "Source"),
        },
        marks=(
            "Компания контакта",
            "Contact company",
            "Личный email",
            "Рабочий email",
            "Work email",
            "Personal email",
        ),
    ),
    Preset(
        key="amocrm_companies",
        core=("name", "phone", "email", "website", "responsible", "legal_address"),
        also=_RESPONSIBLE,
        system=AMOCRM,
        label=_("amoCRM: companies"),
        fields={
            **_COMPANY_CONTACTS,
            "external_id": ("ID", "Company ID"),
            "name": ("Название компании", "Название", "Наименование", "Company name", "Name"),
            "responsible": ("Ответственный", "Responsible user", "Responsible"),
            "note": ("Примечание", "Примечание 1", "Note"),
        },
        marks=("Web",),
    ),
    Preset(
        key="amocrm_tasks",
        core=("task_text", "task_due", "task_done", "task_kind", "responsible"),
        also=_RESPONSIBLE,
        system=AMOCRM,
        label=_("amoCRM: tasks"),
        fields=_TASK,
        marks=(
            "Текст задачи",
            "Срок выполнения",
            "Дата исполнения",
            "Task text",
            "Complete till",
            "Тип задачи",
            "Task type",
        ),
    ),
    Preset(
        key="amocrm_notes",
        core=("timeline_text", "timeline_kind", "timeline_date", "author"),
        also=_AUTHORED,
        system=AMOCRM,
        label=_("amoCRM: notes and calls"),
        fields=_NOTE,
        marks=("Текст примечания", "Тип примечания", "Note text", "Note type", "Тип события"),
    ),
    # ------------------------------------------------------------------ Bitrix24
    Preset(
        key="bitrix24_deals",
        core=("deal_title", "deal_stage", "deal_amount", "deal_pipeline", "responsible"),
        also=_RESPONSIBLE,
        system=BITRIX24,
        label=_("Bitrix24: deals"),
        deals=True,
        fields={
            **_DEAL,
            "deal_stage": ("Стадия сделки", "Стадия", "Этап", "Deal stage", "Stage"),
            "deal_pipeline": ("Направление", "Воронка", "Pipeline", "Direction", "Funnel"),
            "deal_expected_close": (
                "Предполагаемая дата закрытия",
                "Дата завершения",
                "Expected close date",
                "Estimated close date",
                "End date",
            ),
            "deal_closed": ("Дата закрытия", "Closed on"),
            "contact_name": ("Контакт", "Contact"),
            "name": ("Компания", "Company"),
            "deal_outcome": ("Группа стадий", "Stage group"),
            "deal_lost_reason": ("Причина провала", "Причина отказа", "Loss reason"),
        },
        marks=(
            "Стадия сделки",
            "Стадия",
            "Направление",
            "Предполагаемая дата закрытия",
            "Estimated close date",
            "Expected close date",
        ),
    ),
    Preset(
        key="bitrix24_leads",
        core=("deal_title", "deal_stage", "deal_amount", "responsible", "contact_first_name"),
        also=_RESPONSIBLE,
        system=BITRIX24,
        label=_("Bitrix24: leads"),
        deals=True,
        fields={
            **_PERSON_CONTACTS,
            "deal_external_id": ("ID", "Lead ID"),
            "deal_title": ("Название лида", "Lead name", "Lead title"),
            "deal_stage": ("Статус лида", "Статус", "Lead status", "Status"),
            "deal_amount": ("Сумма", "Возможная сумма сделки", "Amount", "Opportunity"),
            "deal_currency": ("Валюта", "Currency"),
            "deal_date": ("Дата создания", "Created on", "Date created"),
            "responsible": ("Ответственный", "Responsible person", "Responsible"),
            "name": ("Название компании", "Company name"),
            "source": ("Источник", "Source"),
            "note": ("Комментарий", "Comment"),
        },
        marks=("Название лида", "Статус лида", "Lead name", "Lead status"),
    ),
    Preset(
        key="bitrix24_contacts",
        core=(
            "contact_first_name",
            "contact_last_name",
            "contact_name",
            "contact_email",
            "contact_phone",
            "name",
        ),
        also=_RESPONSIBLE,
        system=BITRIX24,
        label=_("Bitrix24: contacts"),
        fields={
            **_PERSON_CONTACTS,
            "contact_external_id": ("ID", "Contact ID"),
            "name": ("Компания", "Company"),
            "responsible": ("Ответственный", "Responsible person", "Responsible"),
            "note": ("Комментарий", "Comment"),
            "source": ("Источник", "Source"),
        },
        marks=(
            "Обращение",
            "Частный e-mail",
            "Рабочий e-mail",
            "Salutation",
            "Work e-mail",
            "Personal e-mail",
        ),
    ),
    Preset(
        key="bitrix24_companies",
        core=("name", "phone", "email", "website", "responsible", "relationship", "industry"),
        also=_RESPONSIBLE,
        system=BITRIX24,
        label=_("Bitrix24: companies"),
        fields={
            **_COMPANY_CONTACTS,
            "external_id": ("ID", "Company ID"),
            "name": ("Название компании", "Company name", "Название"),
            "relationship": ("Тип компании", "Company type"),
            "responsible": ("Ответственный", "Responsible person", "Responsible"),
            "note": ("Комментарий", "Comment"),
        },
        marks=(
            "Тип компании",
            "Корпоративный сайт",
            "Company type",
            "Corporate website",
            "Сфера деятельности",
        ),
    ),
    # ------------------------------------------------------------------ HubSpot
    Preset(
        key="hubspot_deals",
        core=("deal_title", "deal_stage", "deal_amount", "deal_pipeline", "responsible"),
        also=_RECORD_ID,
        system=HUBSPOT,
        label=_("HubSpot: deals"),
        deals=True,
        fields={
            "deal_external_id": ("Record ID", "ID записи", "Deal ID"),
            "deal_title": ("Deal Name", "Название сделки", "Deal"),
            "deal_stage": ("Deal Stage", "Этап сделки", "Stage"),
            "deal_pipeline": ("Pipeline", "Воронка", "Deal pipeline"),
            "deal_amount": ("Amount", "Сумма", "Deal amount", "Amount in company currency"),
            "deal_currency": ("Currency", "Deal Currency Code", "Валюта"),
            "deal_closed": ("Close Date", "Дата закрытия"),
            "deal_date": ("Create Date", "Дата создания"),
            "responsible": ("Deal owner", "Владелец сделки", "Owner", "HubSpot owner"),
            "company_ref": (
                "Associated Company IDs",
                "Associated Company ID",
                "ID связанных компаний",
                "ID связанной компании",
            ),
            "contact_ref": (
                "Associated Contact IDs",
                "Associated Contact ID",
                "ID связанных контактов",
            ),
            "name": ("Associated Company", "Company name", "Связанная компания"),
            "contact_name": (
                "Associated Contact",
                "Associated Contacts",
                "Contact name",
                "Связанный контакт",
                "Связанные контакты",
            ),
            "deal_lost_reason": ("Closed Lost Reason", "Причина проигрыша"),
            "note": ("Deal Description", "Description", "Описание сделки"),
        },
        marks=(
            "Record ID",
            "ID записи",
            "Deal Stage",
            "Deal owner",
            "Владелец сделки",
            "Associated Company IDs",
            "Associated Company IDs (Primary)",
        ),
    ),
    Preset(
        key="hubspot_contacts",
        core=("contact_first_name", "contact_last_name", "contact_email", "contact_phone", "name"),
        also=_RECORD_ID,
        system=HUBSPOT,
        label=_("HubSpot: contacts"),
        fields={
            "contact_external_id": ("Record ID", "ID записи", "Contact ID"),
            "contact_first_name": ("First Name", "Имя"),
            "contact_last_name": ("Last Name", "Фамилия"),
            "contact_email": ("Email", "Эл. почта", "Электронная почта"),
            "contact_phone": (
                "Phone Number",
                "Mobile Phone Number",
                "Номер телефона",
                "Номер мобильного телефона",
            ),
            "contact_position": ("Job Title", "Должность"),
            "responsible": ("Contact owner", "Владелец контакта"),
            "name": ("Company Name", "Associated Company", "Название компании"),
            "source": ("Original Source", "Исходный источник"),
        },
        marks=("Record ID", "ID записи", "Contact owner", "Lifecycle Stage"),
    ),
    Preset(
        key="hubspot_companies",
        core=("name", "website", "phone", "responsible", "industry", "city"),
        also=_RECORD_ID,
        system=HUBSPOT,
        label=_("HubSpot: companies"),
        fields={
            "external_id": ("Record ID", "ID записи", "Company ID"),
            "name": ("Company name", "Name", "Название компании"),
            "website": ("Company Domain Name", "Website URL", "Доменное имя компании"),
            "phone": ("Phone Number", "Номер телефона"),
            "responsible": ("Company owner", "Владелец компании"),
            "industry": ("Industry", "Отрасль"),
            "city": ("City", "Город"),
            "country": ("Country/Region", "Страна/регион"),
            "street": ("Street Address", "Адрес"),
            "postal_code": ("Postal Code", "Почтовый индекс"),
        },
        marks=("Record ID", "ID записи", "Company owner", "Company Domain Name"),
    ),
    Preset(
        key="hubspot_tasks",
        core=("task_text", "task_due", "task_done", "task_kind", "responsible"),
        also=_RECORD_ID,
        system=HUBSPOT,
        label=_("HubSpot: tasks"),
        fields={
            "external_id": ("Record ID", "ID записи", "Task ID"),
            "task_text": ("Task Title", "Title", "Название задачи"),
            "task_due": ("Due Date", "Срок"),
            "task_done": ("Task Status", "Status", "Статус задачи"),
            "task_kind": ("Task Type", "Тип задачи"),
            "responsible": ("Assigned to", "Activity assigned to", "Task owner", "Назначено"),
            "author": ("Created by", "Создано"),
            "company_ref": ("Associated Company IDs", "ID связанных компаний"),
            "contact_ref": ("Associated Contact IDs", "ID связанных контактов"),
            "deal_ref": ("Associated Deal IDs", "ID связанных сделок"),
        },
        marks=("Record ID", "ID записи", "Task Title", "Associated Deal IDs"),
    ),
    Preset(
        key="hubspot_notes",
        core=("timeline_text", "timeline_kind", "timeline_date", "author"),
        also=_RECORD_ID,
        system=HUBSPOT,
        label=_("HubSpot: notes and calls"),
        fields={
            "external_id": ("Record ID", "ID записи"),
            "timeline_text": ("Note body", "Call notes", "Текст заметки", "Body"),
            "timeline_kind": ("Activity type", "Engagement type", "Тип активности"),
            "timeline_date": ("Activity date", "Дата активности", "Create Date"),
            "author": ("Created by", "Activity assigned to", "Создано"),
            "company_ref": ("Associated Company IDs", "ID связанных компаний"),
            "contact_ref": ("Associated Contact IDs", "ID связанных контактов"),
            "deal_ref": ("Associated Deal IDs", "ID связанных сделок"),
        },
        marks=("Record ID", "ID записи", "Note body", "Call notes", "Activity date"),
    ),
)
# HubSpot's associations export: one row per link between two records exported before (a deal
# and its contact, a deal and its company, a contact and its company), by their record ids,
# with the association's label ("Primary", "Decision maker") or type. Its spellings: the
# export's "<Object> ID" columns, the "Record ID - <Object>" of the newer exports, the
# snake_case of the data syncs (deal_id, contact_id, company_id, association_label).
PRESETS += (
    Preset(
        key="hubspot_associations",
        core=("deal_ref", "contact_ref", "company_ref"),
        system=HUBSPOT,
        label=_("HubSpot: associations"),
        fields={
            "deal_ref": (
                "Deal ID",
                "Deal Record ID",
                "Record ID - Deal",
                "Deal ID (Record ID)",
                "dealId",
                "ID сделки",
                "ID записи сделки",
            ),
            "contact_ref": (
                "Contact ID",
                "Contact Record ID",
                "Record ID - Contact",
                "Contact ID (Record ID)",
                "contactId",
                "ID контакта",
                "ID записи контакта",
            ),
            "company_ref": (
                "Company ID",
                "Company Record ID",
                "Record ID - Company",
                "Company ID (Record ID)",
                "companyId",
                "ID компании",
                "ID записи компании",
            ),
            "association_label": (
                "Association label",
                "Association labels",
                "Association type",
                "Association type ID",
                "associationTypeId",
                "Label",
                "Метка связи",
                "Тип связи",
            ),
        },
        marks=(
            "Association label",
            "Association labels",
            "Association type",
            "Association type ID",
            "associationTypeId",
            "Метка связи",
            "Тип связи",
            "Deal Record ID",
            "Contact Record ID",
            "Company Record ID",
            "Record ID - Deal",
            "Record ID - Contact",
            "Record ID - Company",
            "Deal ID",
            "Contact ID",
            "Company ID",
        ),
    ),
)
BY_KEY = {preset.key: preset for preset in PRESETS}


def recognise(headers: Sequence[str]) -> Preset | None:
    """The export a file's headers (normalised, as sources gives them) are, or None."""
    present = {header.split(" #", 1)[0] for header in headers}
    best, best_score = None, 0
    for preset in PRESETS:
        found = preset.score(present)
        if found > best_score:
            best, best_score = preset, found
    return best
