"""The daily count of seats across all companies, for the operators' "seats over time"."""

from __future__ import annotations

from datetime import date

from django.db.models import Sum
from django.utils import timezone

from billing.models import SeatSnapshot, Subscription
from billing.queries import FREE_ROLES
from tenants.models import Company, Membership
from tenants.queries.memberships import ACTIVE_COMPANY_STATUSES


def take(day: date | None = None) -> SeatSnapshot:
    """Count today's seats (again, if already taken today: the last count of a day wins)."""
    day = day or timezone.localdate()
    live = Company.objects.filter(status__in=ACTIVE_COMPANY_STATUSES)
    in_use = (
        Membership.objects.filter(company__in=live, is_active=True)
        .exclude(role__in=FREE_ROLES)
        .count()
    )
    paid = (
        Subscription.objects.filter(company__in=live)
        .exclude(stripe_subscription_id="")
        .aggregate(total=Sum("paid_seats"))["total"]
    )
    snapshot, _created = SeatSnapshot.objects.update_or_create(
        day=day,
        defaults={"seats_in_use": in_use, "paid_seats": paid or 0, "companies": live.count()},
    )
    return snapshot
