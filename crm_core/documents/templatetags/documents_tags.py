from __future__ import annotations

from typing import Any

from django import template

from crm_core.documents.queries import documents_of, usable_templates
from crm_core.models import Deal

register = template.Library()


@register.inclusion_tag("documents/_deal_documents.html", takes_context=True)
def deal_documents(context: Any, deal: Deal) -> dict[str, Any]:
    """The documents panel on a deal page (the deal view stays unaware of this app)."""
    return {
        "deal": deal,
        "documents": documents_of(deal),
        "templates": usable_templates(),
        "csrf_token": context.get("csrf_token"),
    }
