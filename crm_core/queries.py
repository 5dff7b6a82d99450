"""Reads of the company's CRM data (the connection's schema is the company's)."""

from __future__ import annotations

from django.db.models import QuerySet

from crm_core.models import Client
from tenants.models import Membership


def recent_clients(*, membership: Membership, limit: int = 50) -> QuerySet[Client]:
    return Client.objects.all()[:limit]
