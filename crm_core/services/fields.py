"""The company's custom field definitions, managed by its owners and admins."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from slugify import slugify

from crm_core.access import require_admin
from crm_core.models import CustomField
from crm_core.services import limits
from crm_core.services.audit import record
from tenants.models import Membership

NEEDS_CHOICES = {CustomField.Kind.CHOICE, CustomField.Kind.MULTI}


def _clean_choices(kind: str, choices: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(c.strip()[:100] for c in choices if c.strip()))
    if kind in NEEDS_CHOICES and not cleaned:
        raise ValidationError({"choices": _("List the choices, one per line.")})
    return cleaned if kind in NEEDS_CHOICES else []


def _new_key(entity: str, label: str) -> str:
    # A readable, stable key for exports and the API ("Площадь окна" → "ploshchad_okna").
    base = slugify(label, separator="_", max_length=30) or "field"
    key = base
    while CustomField.objects.filter(entity=entity, key=key).exists():
        key = f"{base}_{secrets.token_hex(2)}"
    return key


@transaction.atomic
def add_field(
    *, membership: Membership, entity: str, label: str, kind: str, choices: list[str]
) -> CustomField:
    require_admin(membership)
    label = label.strip()
    if not label:
        raise ValidationError({"label": _("Name the field.")})
    limits.check_custom_field(membership.company)
    if CustomField.objects.filter(entity=entity, label__iexact=label, is_active=True).exists():
        raise ValidationError({"label": _("There is already a field with this name.")})
    position = (
        CustomField.objects.filter(entity=entity).aggregate(m=Max("position"))["m"] or 0
    ) + 1
    field = CustomField.objects.create(
        entity=entity,
        key=_new_key(entity, label),
        label=label,
        kind=kind,
        choices=_clean_choices(kind, choices),
        position=position,
    )
    record(membership, field, "create", {"label": (None, label), "kind": (None, kind)})
    return field


@transaction.atomic
def change_field(
    *,
    membership: Membership,
    field: CustomField,
    label: str,
    choices: list[str],
    show_in_list: bool,
    is_active: bool,
) -> CustomField:
    """Rename, change the choices, show or hide. The type and key never change: stored values
    would stop meaning what they meant. Hiding keeps every stored value."""
    require_admin(membership)
    label = label.strip()
    if not label:
        raise ValidationError({"label": _("Name the field.")})
    new = {
        "label": label,
        "choices": _clean_choices(field.kind, choices),
        "show_in_list": show_in_list,
        "is_active": is_active,
    }
    changes = {k: (getattr(field, k), v) for k, v in new.items() if getattr(field, k) != v}
    for name, value in new.items():
        setattr(field, name, value)
    field.save()
    if changes:
        record(membership, field, "update", changes)
    return field
