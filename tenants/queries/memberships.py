"""Reads about who belongs where."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.models import Company, Membership, User

ACTIVE_COMPANY_STATUSES = (
    Company.Status.TRIALING,
    Company.Status.ACTIVE,
    Company.Status.PAST_DUE,
    Company.Status.SUSPENDED,
)


def active_membership(*, user: User, company: Company) -> Membership | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(user=user, company=company, is_active=True)
        .select_related("company")
        .first()
    )


def companies_for(*, user: User) -> QuerySet[Membership]:
    """The user's active memberships in companies that still exist, for the company chooser."""
    return (
        Membership.objects.filter(
            user=user, is_active=True, company__status__in=ACTIVE_COMPANY_STATUSES
        )
        .select_related("company")
        .order_by("company__name")
    )


def closed_companies_for(*, user: User) -> QuerySet[Membership]:
    """Companies awaiting deletion whose final export this user (an owner or admin) may take."""
    return (
        Membership.objects.filter(
            user=user,
            is_active=True,
            role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
            company__status=Company.Status.CANCELED,
            company__deletion_scheduled_at__isnull=False,
        )
        .exclude(company__final_export="")
        .select_related("company")
        .order_by("company__name")
    )
