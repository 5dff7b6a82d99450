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


def request_membership(*, user: User, company: Company) -> Membership | None:
    """``active_membership`` for every request on the company's host, kept in the cache (see
    tenants.services.request_cache; forgotten whenever the membership changes). The member's
    company is the request's own."""
    from tenants.services import request_cache

    if not user.is_authenticated:  # (also unwraps request.user's lazy object)
        return None
    key = request_cache.member_key(company.pk, user.pk)
    found = request_cache.look_up(key)
    if found is request_cache.MISSING:
        found = Membership.objects.filter(user=user, company=company, is_active=True).first()
        if found is None:
            return None  # not kept: whoever adds the membership need not know about this
        request_cache.keep(key, found)
    found.company = company
    # The request's own user (unwrapped from its lazy object): membership.user is read on many
    # pages, and would otherwise be one more query each time.
    person = getattr(user, "_wrapped", user)
    if isinstance(person, User):
        found.user = person
    return found


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
