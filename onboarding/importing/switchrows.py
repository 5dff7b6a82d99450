"""Rows of another CRM's export (amoCRM, Bitrix24, HubSpot, an Excel pipeline): what a deal
row says beyond its title and amount, and rows that are tasks or history entries.

The cells are read here into plain values (records.py); matching stages, pipelines, members
and linked records is the engine's (switching.Directory), which knows the company.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from onboarding.importing import values
from onboarding.importing.records import AssociationIn, DealIn, ItemIn, LinksIn, TaskIn, TimelineIn

_TIME = re.compile(r"(?:^|[\sT])(\d{1,2}):(\d{2})(?::(\d{2}))?")
_ID_SPLIT = re.compile(r"[;,\s]+")
# amoCRM's own won/lost stages, Bitrix24's final stages, HubSpot's closed stages, and the words
# an Excel pipeline uses: read as the deal's outcome, whatever the pipeline calls them.
WON_WORDS = frozenset(
    {
        "успешно реализовано",
        "сделка успешна",
        "успешная сделка",
        "успешно",
        "выиграна",
        "выиграно",
        "победа",
        "закрыта успешно",
        "оплачено",
        "won",
        "closed won",
        "closedwon",
        "deal won",
        "win",
    }
)
LOST_WORDS = frozenset(
    {
        "закрыто и не реализовано",
        "сделка провалена",
        "провалена",
        "провал",
        "проиграна",
        "проиграно",
        "отказ",
        "закрыта неуспешно",
        "не реализовано",
        "lost",
        "closed lost",
        "closedlost",
        "deal lost",
        "lose",
        "junk lead",
    }
)
_DONE_WORDS = frozenset(
    {"да", "yes", "1", "true", "выполнена", "выполнено", "завершена", "completed", "done", "y"}
)
_CURRENCIES = {
    "₽": "RUB",
    "руб": "RUB",
    "рубль": "RUB",
    "рублей": "RUB",
    "рубли": "RUB",
    "р": "RUB",
    "rur": "RUB",
    "$": "USD",
    "доллар": "USD",
    "долларов": "USD",
    "€": "EUR",
    "евро": "EUR",
    "₸": "KZT",
    "тенге": "KZT",
    "br": "BYN",
    "бел руб": "BYN",
    "¥": "CNY",
    "юань": "CNY",
    "£": "GBP",
}
# Bitrix24 writes the currency's name: «Российский рубль», «Доллар США», «Евро».
_CURRENCY_WORDS = (
    ("бел", "BYN"),
    ("рубл", "RUB"),
    ("ruble", "RUB"),
    ("rouble", "RUB"),
    ("доллар", "USD"),
    ("dollar", "USD"),
    ("евро", "EUR"),
    ("euro", "EUR"),
    ("фунт", "GBP"),
    ("pound", "GBP"),
    ("тенге", "KZT"),
    ("tenge", "KZT"),
    ("юан", "CNY"),
    ("yuan", "CNY"),
)
_CURRENCY_CODE = re.compile(r"[A-Za-z]{3}")
_QUANTITY = re.compile(
    r"^(.*?)\s*(?:[x×х*]\s*(\d+(?:[.,]\d+)?)|\((\d+(?:[.,]\d+)?)\s*\w*\.?\))\s*$"
)
_TIMELINE_KINDS = {
    "call": "call",
    "звонок": "call",
    "входящий звонок": "call",
    "исходящий звонок": "call",
    "incoming call": "call",
    "outgoing call": "call",
    "meeting": "meeting",
    "встреча": "meeting",
    "email": "email",
    "e-mail": "email",
    "письмо": "email",
    "note": "note",
    "примечание": "note",
    "заметка": "note",
    "комментарий": "note",
}
_TASK_KINDS = {
    "звонок": "call",
    "связаться": "call",
    "позвонить": "call",
    "call": "call",
    "встреча": "meeting",
    "meeting": "meeting",
    "письмо": "email",
    "email": "email",
    "e-mail": "email",
    "замер": "measurement",
    "монтаж": "installation",
}


def normal(raw: str) -> str:
    """A name as it is matched: case, ё, dashes, underscores and runs of spaces ignored."""
    text = raw.lower().replace("ё", "е").replace("_", " ").replace("-", " ")
    return " ".join(text.split())


def outcome_of(raw: str) -> str:
    """ "won", "lost" or "" for a stage name or a status cell."""
    word = normal(raw)
    if word in WON_WORDS:
        return "won"
    if word in LOST_WORDS:
        return "lost"
    return ""


def moment(value: Any, order: str = values.DAY_FIRST) -> str:  # noqa: PLR0911 (one per form)
    """An ISO date-time ("2026-03-05T14:30:00") or date from a cell: "05.03.2026 14:30",
    "2026-03-05 14:30:00", an Excel date-time, a HubSpot epoch in milliseconds; "" when it is
    not one."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds")
    raw = values.text(value)
    if raw.isdigit() and len(raw) == 13:  # milliseconds since 1970 (HubSpot's API exports)
        stamp = dt.datetime.fromtimestamp(int(raw) / 1000, tz=dt.UTC)
        return stamp.replace(tzinfo=None).isoformat(timespec="seconds")
    if isinstance(value, float) and not value.is_integer() and 1 < value < 100000:
        day = values.date(value, order)
        seconds = round((value % 1) * 86400)
        return f"{day}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:00"
    day = values.date(value, order)
    if not day:
        return ""
    time = _TIME.search(raw[6:]) if len(raw) > 6 else None
    if time is None:
        return day
    hour, minute, second = int(time[1]), int(time[2]), int(time[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return day
    return f"{day}T{hour:02d}:{minute:02d}:{second:02d}"


def currency_of(raw: str) -> str:
    """An ISO 4217 code from "RUB", "руб.", "₽", "USD", "$"…; "" when the cell names none."""
    word = normal(raw).strip(". ")
    if not word:
        return ""
    if word in _CURRENCIES:
        return _CURRENCIES[word]
    if _CURRENCY_CODE.fullmatch(word):
        return word.upper()
    for stem, code in _CURRENCY_WORDS:
        if stem in word and not (stem == "бел" and "рубл" not in word):
            return code
    for sign, code in _CURRENCIES.items():
        if not sign.isalpha() and sign in raw:
            return code
    return ""


def first_id(raw: str, prefix: str) -> str:
    """The first id of a cell listing several ("123;456": HubSpot's associations)."""
    parts = [p for p in _ID_SPLIT.split(raw.strip()) if p]
    return f"{prefix}{parts[0]}" if parts else ""


def items_of(raw: str) -> list[ItemIn]:
    """Products of a deal named in one cell: "Окно ПВХ x 2; Монтаж", one per line or ";"."""
    found = []
    for part in re.split(r"[;\n]+", raw):
        text = part.strip(" ,")
        if not text:
            continue
        quantity = Decimal(1)
        match = _QUANTITY.match(text)
        if match and match[1]:
            text = match[1].strip(" ,")
            quantity = values.number(match[2] or match[3]) or Decimal(1)
        found.append(ItemIn(name=text[:300], quantity=quantity))
    return found


def fill_deal(
    deal: DealIn, said: dict[str, str], fields: dict[str, Any], order: str, prefix: str
) -> None:
    """A deal row's stage, pipeline, outcome, owner, dates, currency, products and links."""
    deal.external_id = f"{prefix}{said['deal_external_id']}" if said.get("deal_external_id") else ""
    deal.pipeline = said.get("deal_pipeline", "")
    deal.stage = said.get("deal_stage", "")
    deal.outcome = outcome_of(said.get("deal_outcome", "")) or outcome_of(deal.stage)
    deal.lost_reason = said.get("deal_lost_reason", "")[:300]
    deal.responsible = said.get("responsible", "")
    deal.author = said.get("author", "")
    deal.company_ref = first_id(said.get("company_ref", ""), prefix)
    deal.contact_ref = first_id(said.get("contact_ref", ""), prefix)
    if "deal_currency" in said:
        deal.currency = currency_of(said["deal_currency"])
        if not deal.currency:
            deal.unread_currency = said["deal_currency"]  # said in the row's reason
    elif deal.unread_amount or deal.amount is not None:
        deal.currency = currency_of(said.get("deal_amount", "").strip("0123456789 .,\xa0"))
    for field_name in ("deal_closed", "deal_expected_close"):
        if field_name not in said:
            continue
        day = values.date(fields.get(field_name), order)
        if not day:
            deal.unread_dates.append(said[field_name])
        elif field_name == "deal_closed":
            deal.closed = day
        else:
            deal.expected_close = day
    if said.get("deal_products") and not deal.items:
        deal.items = items_of(said["deal_products"])


def _linked_type(raw: str) -> str:
    word = normal(raw)
    if word.startswith(("сделк", "лид", "deal", "lead", "opportunit")):
        return "deal"
    if word.startswith(("контакт", "contact", "person")):
        return "contact"
    if word.startswith(("компан", "company", "организац", "account")):
        return "company"
    return ""


def links_of(said: dict[str, str], prefix: str) -> LinksIn:
    # «Сущность: Сделка» + «ID сущности: 123» (amoCRM's tasks and notes) name one record.
    typed = {_linked_type(said.get("link_type", "")): said.get("link_id", "")}
    return LinksIn(
        deal=first_id(
            said.get("deal_ref", "") or said.get("deal_external_id", "") or typed.get("deal", ""),
            prefix,
        ),
        contact=first_id(said.get("contact_ref", "") or typed.get("contact", ""), prefix),
        company=first_id(said.get("company_ref", "") or typed.get("company", ""), prefix),
        name=(
            said.get("link_name")
            or said.get("deal_title")
            or said.get("name")
            or said.get("contact_name")
            or ""
        ).strip(),
    )


def association_of(said: dict[str, str], prefix: str) -> AssociationIn:
    """A row of an associations export: the records it links, by their ids in the source."""
    return AssociationIn(
        links=LinksIn(
            deal=first_id(said.get("deal_ref", ""), prefix),
            contact=first_id(said.get("contact_ref", ""), prefix),
            company=first_id(said.get("company_ref", ""), prefix),
        ),
        label=said.get("association_label", "").strip(),
    )


def task_of(said: dict[str, str], fields: dict[str, Any], order: str, prefix: str) -> TaskIn:
    due = moment(fields.get("task_due"), order) if "task_due" in said else ""
    kind = normal(said.get("task_kind", ""))
    return TaskIn(
        external_id=f"{prefix}{said['external_id']}" if said.get("external_id") else "",
        title=(said.get("task_text") or said.get("note") or "").strip(),
        due=due,
        unread_due="" if due else said.get("task_due", ""),
        done=normal(said.get("task_done", "")) in _DONE_WORDS,
        kind=_TASK_KINDS.get(kind, "other" if kind else "call"),
        responsible=said.get("responsible", ""),
        author=said.get("author", ""),
        links=links_of(said, prefix),
    )


def timeline_of(
    said: dict[str, str], fields: dict[str, Any], order: str, prefix: str
) -> TimelineIn:
    when = moment(fields.get("timeline_date"), order) if "timeline_date" in said else ""
    if not when and "timeline_date" not in said and "deal_date" in said:
        when = moment(fields.get("deal_date"), order)  # «Дата создания» of the note
    kind = normal(said.get("timeline_kind", ""))
    return TimelineIn(
        external_id=f"{prefix}{said['external_id']}" if said.get("external_id") else "",
        kind=_TIMELINE_KINDS.get(kind, "call" if "звон" in kind or "call" in kind else "note"),
        text=(said.get("timeline_text") or said.get("note") or "").strip(),
        when=when,
        unread_when=(said.get("timeline_date") or said.get("deal_date") or "") if not when else "",
        author=said.get("author") or said.get("responsible", ""),
        links=links_of(said, prefix),
    )
