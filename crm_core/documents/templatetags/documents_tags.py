from __future__ import annotations

from typing import Any

from django import template

from crm_core.access import is_admin, may_change
from crm_core.documents.models import Kind
from crm_core.documents.queries import documents_of, payment_of, usable_templates
from crm_core.documents.services import values
from crm_core.documents.services.bank import missing_requisites
from crm_core.models import Deal

register = template.Library()


@register.inclusion_tag("documents/_deal_documents.html", takes_context=True)
def deal_documents(context: Any, deal: Deal) -> dict[str, Any]:
    """The documents panel on a deal page (the deal view stays unaware of this app)."""
    templates = list(usable_templates())
    kinds = {t.kind for t in templates} & {Kind.INVOICE, Kind.CONTRACT}
    missing = missing_requisites(values.requisites(), Kind.INVOICE) if kinds else []
    membership = getattr(context.get("request"), "membership", None)
    documents = list(documents_of(deal))
    return {
        "deal": deal,
        "documents": documents,
        "templates": templates,
        "missing_requisites": missing,
        "may_fill": membership is not None and is_admin(membership),
        "csrf_token": context.get("csrf_token"),
        "may_send": membership is not None and membership.role != "read_only",
        "payment": payment_of(deal, documents),
        "may_mark_paid": membership is not None and may_change(membership, deal.responsible_id),
    }
