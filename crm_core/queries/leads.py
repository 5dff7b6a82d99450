from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from crm_core.access import visible_user_ids
from crm_core.models import Lead
from tenants.models import Membership


def visible_leads(membership: Membership) -> QuerySet[Lead]:
    """Unassigned requests are everyone's to take; assigned ones follow record visibility."""
    ids = visible_user_ids(membership)
    leads = Lead.objects.all()
    if ids is None:
        return leads
    return leads.filter(Q(responsible__isnull=True) | Q(responsible_id__in=ids))


def lead_for(membership: Membership, lead_id: int) -> Lead:
    return get_object_or_404(visible_leads(membership), pk=lead_id)
