"""Reads for the team page. Everything is scoped to the acting member's company: an id from a
URL that belongs to another company is simply not found (the same 404 as a missing one)."""

from __future__ import annotations

import hashlib

from django.db.models import QuerySet
from django.http import Http404

from tenants.models import Invitation, Membership

MANAGERS = (Membership.Role.OWNER, Membership.Role.ADMIN)


def can_manage_team(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in MANAGERS


def members(actor: Membership) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(company_id=actor.company_id)
        .select_related("user")
        .order_by("-is_active", "user__email")
    )


def open_invitations(actor: Membership) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        company_id=actor.company_id, accepted_at__isnull=True, revoked_at__isnull=True
    ).order_by("-created_at")


def member_for(actor: Membership, member_id: int) -> Membership:
    found = members(actor).filter(pk=member_id).first()
    if found is None:
        raise Http404("no such member")
    return found


def invitation_for(actor: Membership, invitation_id: int) -> Invitation:
    found = open_invitations(actor).filter(pk=invitation_id).first()
    if found is None:
        raise Http404("no such invitation")
    return found


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link carries, whatever its state (the page explains expired/used)."""
    return (
        Invitation.objects.filter(token_hash=token_digest(token))
        .select_related("company", "invited_by")
        .first()
    )
