"""Issuing a document for a deal: number, PDF, file on the deal, line in its history."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core.access import require_write
from crm_core.documents.models import Document, DocumentTemplate
from crm_core.documents.services import numbering, pdf, rendering, values
from crm_core.models import Activity, Attachment, Deal
from crm_core.services.audit import record
from relata.db import connection
from tenants.models import Membership


def company_today() -> date:
    """The date in the company's own time zone: a document made at 01:00 in Moscow is dated
    that day (and numbered in that year) whether a request or a background job makes it."""
    name = getattr(getattr(connection, "tenant", None), "time_zone", "") or ""
    try:
        return timezone.localdate(timezone=ZoneInfo(name)) if name else timezone.localdate()
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.localdate()


def generate(*, membership: Membership, deal: Deal, template: DocumentTemplate) -> Document:
    """The deal must already be visible to the member (the caller looked it up that way)."""
    require_write(membership)
    if not template.is_active:
        raise ValidationError(_("This template is switched off."), code="inactive")
    today = company_today()
    # Everything that can fail on bad input fails here, before a number is taken.
    trial, _total, _vat = values.for_deal(
        deal, kind=template.kind, vat_rate=template.vat_rate, number="0", day=today
    )
    pdf.to_pdf(rendering.render(template.body, trial), title=template.name)
    with transaction.atomic():
        number = numbering.take_number(template.kind, today.year)
        filled, total, vat = values.for_deal(
            deal, kind=template.kind, vat_rate=template.vat_rate, number=str(number), day=today
        )
        title = f"{filled['document']['title']} № {number} от {filled['document']['date']}"
        content = pdf.to_pdf(rendering.render(template.body, filled), title=title)
        name = f"{filled['document']['title']} № {number} ({today.year}).pdf"
        attachment = Attachment(
            deal=deal,
            client_id=deal.client_id,
            name=name,
            size=len(content),
            uploaded_by=membership.user,
        )
        attachment.file.save(name, ContentFile(content), save=False)
        attachment.save()
        document = Document.objects.create(
            kind=template.kind,
            year=today.year,
            number=number,
            template=template,
            deal=deal,
            attachment=attachment,
            total=total,
            vat=vat,
            created_by=membership.user,
        )
        Activity.objects.create(
            kind=Activity.Kind.DOCUMENT,
            deal=deal,
            client_id=deal.client_id,
            author=membership.user,
            summary=title,
        )
        record(membership, deal, "document", {"document": (None, title)})
    return document
