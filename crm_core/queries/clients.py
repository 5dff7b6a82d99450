from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from crm_core.access import visible
from crm_core.models import Client
from tenants.models import Membership


def visible_clients(membership: Membership) -> QuerySet[Client]:
    return visible(Client.objects.all(), membership)


def recent_clients(*, membership: Membership, limit: int = 50) -> QuerySet[Client]:
    return visible_clients(membership)[:limit]


def client_for(membership: Membership, client_id: int) -> Client:
    return get_object_or_404(visible_clients(membership), pk=client_id)
