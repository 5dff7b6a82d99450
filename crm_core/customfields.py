"""The company's own fields on clients, contacts and deals: forms, stored values, filters.

Values are kept JSON-native in the record's ``custom`` column so that PostgreSQL can compare
them: numbers and money as JSON numbers (range filters compare numerically), dates as ISO
strings (which sort as dates), choices as strings, several choices as a list, yes/no as a
boolean. Equality filters use JSONB containment, which the ``*_custom_gin`` indexes serve.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Model, Q, QuerySet
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_core.models import CustomField

Kind = CustomField.Kind
PREFIX = "cf_"


def definitions(entity: str) -> list[CustomField]:
    """The fields in use for one kind of record, in the admin's order."""
    return list(CustomField.objects.filter(entity=entity, is_active=True))


def _choices(field: CustomField) -> list[tuple[str, str]]:
    return [(c, c) for c in field.choices]


def form_field(field: CustomField) -> forms.Field:  # noqa: PLR0911  (one return per kind)
    """The input for one custom field on an edit form (never required: old records lack it)."""
    common: dict[str, Any] = {"label": field.label, "required": False}
    match field.kind:
        case Kind.NUMBER:
            return forms.DecimalField(max_digits=18, decimal_places=6, **common)
        case Kind.MONEY:
            return forms.DecimalField(max_digits=14, decimal_places=2, **common)
        case Kind.DATE:
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        case Kind.CHOICE:
            return forms.ChoiceField(choices=[("", "—"), *_choices(field)], **common)
        case Kind.MULTI:
            return forms.MultipleChoiceField(
                choices=_choices(field), widget=forms.CheckboxSelectMultiple, **common
            )
        case Kind.BOOLEAN:
            return forms.BooleanField(**common)
        case _:
            return forms.CharField(max_length=1000, **common)


def add_fields(form: forms.Form, fields: Iterable[CustomField], values: Mapping[str, Any]) -> None:
    """Add the custom inputs to ``form``, filled from a record's stored ``values``."""
    for field in fields:
        form.fields[PREFIX + field.key] = form_field(field)
        if field.key in values and not form.is_bound:
            form.initial[PREFIX + field.key] = values[field.key]


def to_json(field: CustomField, value: Any) -> Any:
    """A cleaned form value as stored in JSONB; None means "no value" (the key is dropped)."""
    if value in (None, "", []):
        return None
    match field.kind:
        case Kind.NUMBER | Kind.MONEY:
            number = Decimal(value)
            return int(number) if number == number.to_integral_value() else float(number)
        case Kind.DATE:
            return value.isoformat()
        case Kind.MULTI:
            return [v for v in value if v in field.choices]
        case Kind.BOOLEAN:
            return bool(value)
        case _:
            return str(value).strip() or None


def merged_values(
    fields: Iterable[CustomField], cleaned: Mapping[str, Any], stored: Mapping[str, Any]
) -> dict[str, Any]:
    """The record's new ``custom``: values of fields no longer in use are kept, not lost."""
    result = dict(stored)
    for field in fields:
        value = to_json(field, cleaned.get(PREFIX + field.key))
        if value is None:
            result.pop(field.key, None)
        else:
            result[field.key] = value
    return result


@dataclass(frozen=True)
class Shown:
    label: str
    text: str


def shown(fields: Iterable[CustomField], values: Mapping[str, Any]) -> list[Shown]:
    """The values as people read them, in the viewer's language and number format."""
    result = []
    for field in fields:
        value = values.get(field.key)
        if value in (None, "", []):
            continue
        result.append(Shown(field.label, _as_text(field, value)))
    return result


def _as_date(value: Any) -> str:
    try:
        return date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
    except (TypeError, ValueError):
        return str(value)


_FORMATS: dict[str, Callable[[Any], str]] = {
    Kind.NUMBER: lambda v: number_format(v, use_l10n=True),
    Kind.MONEY: lambda v: number_format(Decimal(str(v)), 2, use_l10n=True, force_grouping=True),
    Kind.DATE: _as_date,
    Kind.MULTI: lambda v: ", ".join(v) if isinstance(v, list) else str(v),
    Kind.BOOLEAN: lambda v: _("Yes") if v else _("No"),
}


def _as_text(field: CustomField, value: Any) -> str:
    return str(_FORMATS.get(field.kind, str)(value))


# Filters ---------------------------------------------------------------------------------

YES_NO = [("", "—"), ("1", gettext_lazy("Yes")), ("0", gettext_lazy("No"))]


def add_filter_fields(form: forms.Form, fields: Iterable[CustomField]) -> None:
    """Filter inputs for lists and the board: a range for numbers and dates, a choice for
    choices, contains-text for text."""
    for field in fields:
        name = PREFIX + field.key
        match field.kind:
            case Kind.NUMBER | Kind.MONEY:
                # Bounded: "1e400" would become an infinite float, which JSON cannot hold.
                form.fields[name + "__min"] = forms.DecimalField(
                    label=f"{field.label} ≥", required=False, max_digits=30, decimal_places=6
                )
                form.fields[name + "__max"] = forms.DecimalField(
                    label=f"{field.label} ≤", required=False, max_digits=30, decimal_places=6
                )
            case Kind.DATE:
                for suffix, sign in (("__from", "≥"), ("__to", "≤")):
                    form.fields[name + suffix] = forms.DateField(
                        label=f"{field.label} {sign}",
                        required=False,
                        widget=forms.DateInput(attrs={"type": "date"}),
                    )
            case Kind.CHOICE | Kind.MULTI:
                form.fields[name] = forms.ChoiceField(
                    label=field.label, choices=[("", "—"), *_choices(field)], required=False
                )
            case Kind.BOOLEAN:
                form.fields[name] = forms.ChoiceField(
                    label=field.label, choices=YES_NO, required=False
                )
            case _:
                form.fields[name] = forms.CharField(
                    label=field.label, max_length=200, required=False
                )


def _condition(field: CustomField, data: Mapping[str, Any]) -> Q:  # noqa: PLR0911
    """The filter for one field; an empty Q when the person left it blank."""
    name, key = PREFIX + field.key, f"custom__{field.key}"
    match field.kind:
        case Kind.NUMBER | Kind.MONEY:
            condition = Q()
            if data.get(name + "__min") is not None:
                condition &= Q(**{f"{key}__gte": float(data[name + "__min"])})
            if data.get(name + "__max") is not None:
                condition &= Q(**{f"{key}__lte": float(data[name + "__max"])})
            return condition
        case Kind.DATE:
            condition = Q()
            if data.get(name + "__from"):
                condition &= Q(**{f"{key}__gte": data[name + "__from"].isoformat()})
            if data.get(name + "__to"):
                condition &= Q(**{f"{key}__lte": data[name + "__to"].isoformat()})
            return condition
        case _ if not data.get(name):
            return Q()
        case Kind.CHOICE:
            return Q(custom__contains={field.key: data[name]})
        case Kind.MULTI:
            return Q(custom__contains={field.key: [data[name]]})
        case Kind.BOOLEAN:
            if data[name] not in ("0", "1"):
                return Q()
            return Q(custom__contains={field.key: data[name] == "1"})
        case _:
            return Q(**{f"{key}__icontains": data[name]})


def filter_by(
    queryset: QuerySet[Any], fields: Iterable[CustomField], data: Mapping[str, Any]
) -> QuerySet[Any]:
    """Narrow ``queryset`` by the custom-field filters present in cleaned ``data``."""
    condition = Q()
    for field in fields:
        condition &= _condition(field, data)
    return queryset.filter(condition) if condition else queryset


def columns(fields: Iterable[CustomField]) -> list[CustomField]:
    """The custom fields the admin chose to show as list columns."""
    return [f for f in fields if f.show_in_list]


def row_values(record: Model, fields: Iterable[CustomField]) -> list[str]:
    values: Mapping[str, Any] = getattr(record, "custom", {}) or {}
    return [
        _as_text(f, values[f.key]) if values.get(f.key) not in (None, "", []) else ""
        for f in fields
    ]
