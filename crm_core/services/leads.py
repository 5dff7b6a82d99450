"""The requests inbox: turn a request into a client and a deal in one step, or reject it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm_core.access import require_write
from crm_core.models import Client, Deal, Lead, Pipeline
from crm_core.queries.duplicates import find_duplicates
from crm_core.services.audit import record
from crm_core.services.clients import ClientInput, create_client
from crm_core.services.deals import create_deal
from tenants.models import Company, Membership


@transaction.atomic
def convert_lead(
    *, membership: Membership, company: Company, lead: Lead, pipeline: Pipeline | None = None
) -> Deal:
    """A deal at the first stage of the pipeline, for the client the request matches by phone or
    e-mail (no duplicates), or for a new client made from the request."""
    require_write(membership)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.status != Lead.Status.NEW:
        raise ValidationError(_("This request has already been handled."), code="handled")
    pipeline = pipeline or Pipeline.objects.order_by("-is_default", "position").first()
    if pipeline is None:
        raise ValidationError(_("Create a pipeline first."), code="no_pipeline")
    matches = find_duplicates(membership, phone=lead.phone, email=lead.email)
    client: Client | None = matches.visible[0] if matches.visible else None
    if client is None and not matches.hidden:
        try:
            phones = [lead.phone] if lead.phone else []
            client = create_client(
                membership=membership,
                company=company,
                data=ClientInput(
                    name=lead.company_name or lead.name,
                    kind=Client.Kind.LEGAL_ENTITY if lead.company_name else Client.Kind.PERSON,
                    phones=phones,
                    email=lead.email,
                    contact_name=lead.name if lead.company_name else "",
                    source=lead.source,
                ),
            )
        except ValidationError:
            # A request with a phone we cannot read still becomes a deal; the raw text stays on it.
            client = create_client(
                membership=membership,
                company=company,
                data=ClientInput(
                    name=lead.company_name or lead.name, kind=Client.Kind.PERSON, source=lead.source
                ),
            )
    deal = create_deal(
        membership=membership,
        title=lead.message.strip().splitlines()[0][:120] if lead.message.strip() else lead.name,
        pipeline=pipeline,
        client=client,
        source=lead.source,
    )
    lead.status = Lead.Status.CONVERTED
    lead.deal = deal
    lead.responsible = lead.responsible or membership.user
    lead.save(update_fields=["status", "deal", "responsible"])
    record(membership, lead, "convert", {"deal": (None, deal.pk)})
    return deal


@transaction.atomic
def reject_lead(*, membership: Membership, lead: Lead, reason: str) -> Lead:
    require_write(membership)
    if not reason.strip():
        raise ValidationError(_("Say why the request is rejected."), code="reason")
    updated = Lead.objects.filter(pk=lead.pk, status=Lead.Status.NEW).update(
        status=Lead.Status.REJECTED, reject_reason=reason.strip()[:300]
    )
    if not updated:
        raise ValidationError(_("This request has already been handled."), code="handled")
    lead.refresh_from_db()
    record(membership, lead, "reject", {"reason": (None, lead.reject_reason)})
    return lead
