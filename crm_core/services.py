"""Writes to the company's CRM data."""

from __future__ import annotations

from crm_core.models import Client
from tenants.models import Membership


def add_client(*, membership: Membership, name: str) -> Client:
    return Client.objects.create(name=name.strip(), created_by=membership.user)
