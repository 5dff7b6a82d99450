"""Admins edit the templates and the company's requisites; every template is checked first."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm_core.access import require_admin
from crm_core.documents.models import DocumentTemplate, Kind, Requisites
from crm_core.documents.services import rendering, values
from crm_core.documents.services.bank import check_requisites
from crm_core.models import VatRate
from tenants.models import Membership


def save_template(
    *,
    membership: Membership,
    template: DocumentTemplate | None,
    name: str,
    kind: str,
    body: str,
    vat_rate: str,
    is_active: bool = True,
) -> DocumentTemplate:
    require_admin(membership)
    if not name.strip():
        raise ValidationError({"name": _("Name the template.")}, code="required")
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Choose the kind of document.")}, code="kind")
    if vat_rate not in VatRate.values:
        raise ValidationError({"vat_rate": _("Choose the VAT rate.")}, code="vat")
    try:
        rendering.check_template(body, values.sample(kind, vat_rate))
    except ValidationError as exc:
        raise ValidationError({"body": exc.messages}) from exc
    template = template or DocumentTemplate()
    template.name = name.strip()
    template.kind = kind
    template.body = body
    template.vat_rate = vat_rate
    template.is_active = is_active
    template.save()
    return template


def save_requisites(*, membership: Membership, **fields: Any) -> Requisites:
    """Raises ValidationError (by field) for an INN, OGRN, KPP, BIK or account that fails
    its check; nothing is saved then."""
    require_admin(membership)
    fields = check_requisites(fields)
    ours = values.requisites()
    for field, value in fields.items():
        setattr(ours, field, value)
    ours.full_clean()
    ours.save()
    return ours
