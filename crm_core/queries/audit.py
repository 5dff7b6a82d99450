"""The audit log as people read it: field labels, names instead of ids, local times.

The log stores what changed as plain JSON (``{"responsible_id": [1, 2]}``, datetimes as text),
so that entries never break when a model changes. Here each value is turned back into what the
page shows, through the model's own field definitions: the verbose name as the label, a
choice's label, yes/no, a date or time in the active time zone and language, and the name of
the person or record an id points at — looked up once per page for all rows, not per row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from crm_core.models import AuditEntry
from crm_core.templatetags.crm_format import money
from tenants.models import User

EMPTY = "—"


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class AuditRow:
    entry: AuditEntry
    at: dt.datetime
    actor: str
    record: str
    record_url: str
    action: str
    changes: list[Change] = field(default_factory=list)


def _actions() -> dict[str, str]:
    def action(text: str) -> str:
        return pgettext("audit action", text)

    return {
        "create": action("created"),
        "update": action("changed"),
        "delete": action("deleted"),
        "move": action("moved to another stage"),
        "convert": action("turned into a deal"),
        "reject": action("rejected"),
        "done": action("done"),
        "attach_file": action("file attached"),
        "add_item": action("item added"),
        "remove_item": action("item removed"),
        "revoke": action("revoked"),
        "api_key": action("API key issued"),
        "add_action": action("action added"),
        "automation_template": action("automation template applied"),
        "merge": action("merged"),
        "archive": action("archived"),
        "restore": action("restored from the archive"),
        "reorder": action("stages reordered"),
    }


@cache
def _models_by_name() -> dict[str, type[models.Model]]:
    """``object_type`` is the model's name; the CRM's own apps win a name clash."""
    found: dict[str, type[models.Model]] = {}
    for model in apps.get_models():
        name = model._meta.model_name or ""
        if name not in found or model._meta.app_label == "crm_core":
            found[name] = model
    return found


def _field(model: type[models.Model] | None, name: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


def _person(user: User) -> str:
    return user.get_full_name() or user.email


def _url(model: type[models.Model] | None, pk: int) -> str:
    from django.urls import NoReverseMatch, reverse

    names = {"client": "client_detail", "deal": "deal_detail"}
    name = names.get(model._meta.model_name or "") if model is not None else None
    if name is None:
        return ""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # pragma: no cover - the CRM's URLs are always there
        return ""


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def audit_rows(entries: Iterable[AuditEntry]) -> list[AuditRow]:
    entries = list(entries)
    # 1. Which ids point where: actors, the records themselves, and every foreign key value.
    wanted: dict[type[models.Model], set[int]] = defaultdict(set)
    wanted[User] |= {e.actor_id for e in entries if e.actor_id}
    for entry in entries:
        model = _models_by_name().get(entry.object_type)
        if model is not None:
            wanted[model].add(entry.object_id)
        for name, values in (entry.changes or {}).items():
            target = _field(model, name)
            if isinstance(target, models.ForeignKey):
                related = target.related_model
                assert isinstance(related, type)
                for value in values if isinstance(values, list) else []:
                    if (pk := _as_id(value)) is not None:
                        wanted[related].add(pk)
    # 2. One query per model for the whole page.
    names: dict[type[models.Model], dict[int, str]] = {}
    for model, ids in wanted.items():
        if hasattr(model, "audit_names"):  # a row named after something it points at
            names[model] = model.audit_names(ids)
            continue
        rows = model._default_manager.filter(pk__in=ids)
        names[model] = {row.pk: _person(row) if isinstance(row, User) else str(row) for row in rows}
    actions = _actions()
    result = []
    for entry in entries:
        model = _models_by_name().get(entry.object_type)
        kind = capfirst(model._meta.verbose_name) if model is not None else entry.object_type
        shown = names.get(model, {}).get(entry.object_id) if model is not None else None
        result.append(
            AuditRow(
                entry=entry,
                at=timezone.localtime(entry.at),
                actor=(names[User].get(entry.actor_id, "") if entry.actor_id else "")
                or entry.restored_actor,
                record=f"{kind} «{shown}»" if shown else f"{kind} #{entry.object_id}",
                record_url=_url(model, entry.object_id) if shown else "",
                action=actions.get(entry.action, entry.action.replace("_", " ")),
                changes=[
                    _change(model, name, values, names)
                    for name, values in (entry.changes or {}).items()
                ],
            )
        )
    return result


def _change(
    model: type[models.Model] | None,
    name: str,
    values: Any,
    names: dict[type[models.Model], dict[int, str]],
) -> Change:
    target = _field(model, name)
    label = capfirst(str(target.verbose_name)) if target is not None else name.replace("_", " ")
    old, new = values if isinstance(values, list) and len(values) == 2 else (None, values)
    return Change(
        label=str(label),
        old=_shown(target, old, names),
        new=_shown(target, new, names),
    )


def _shown(
    target: models.Field[Any, Any] | None,
    value: Any,
    names: dict[type[models.Model], dict[int, str]],
) -> str:
    if value is None or value in ("", [], {}):
        return EMPTY
    if isinstance(target, models.ForeignKey):
        related = target.related_model
        pk = _as_id(value)
        if pk is not None and isinstance(related, type):
            return names.get(related, {}).get(pk) or f"#{pk}"
        return str(value)  # recorded as a name already ("stage": old name → new name)
    if target is not None and target.choices:
        return str(dict(target.flatchoices).get(value, value))
    if isinstance(value, bool) or isinstance(target, models.BooleanField):
        return _("yes") if value in (True, "True", "true") else _("no")
    return _as_text(target, value)


def _as_text(target: models.Field[Any, Any] | None, value: Any) -> str:  # noqa: PLR0911
    """Times in the active zone and language; dates and numbers as the language writes them."""
    if isinstance(value, str) and isinstance(target, models.DateField | None):
        timed = isinstance(target, models.DateTimeField) or (
            target is None and "-" in value and ":" in value
        )
        if timed and (moment := parse_datetime(value)) is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, dt.UTC)
            return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
        if target is not None and not timed and (day := parse_date(value)) is not None:
            return formats.date_format(day, "SHORT_DATE_FORMAT")
    if isinstance(target, models.DecimalField) and target.decimal_places == 2:  # an amount
        return money(value)
    numeric = isinstance(target, models.DecimalField | models.FloatField)
    if numeric or isinstance(value, float):
        try:
            return formats.number_format(Decimal(str(value)), use_l10n=True, force_grouping=True)
        except InvalidOperation:
            return str(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or EMPTY
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items()) or EMPTY
    return str(value)
