"""Reads about support access, scoped to the acting member's company."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.models import Membership, SupportSession


def sessions_seen_by(actor: Membership, limit: int = 50) -> QuerySet[SupportSession]:
    """Support sessions in the actor's own company (owners and admins only)."""
    if actor.role not in (Membership.Role.OWNER, Membership.Role.ADMIN):
        return SupportSession.objects.none()
    return SupportSession.objects.filter(company_id=actor.company_id)[:limit]
