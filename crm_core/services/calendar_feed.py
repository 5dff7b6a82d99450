"""A person's secret calendar address: made on demand, made anew, or turned off."""

from __future__ import annotations

from django.db import transaction

from crm_core.models import CalendarFeed
from tenants.models import Membership


def feed_of(membership: Membership) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user_id=membership.user_id).first()


@transaction.atomic
def renew_feed(*, membership: Membership) -> CalendarFeed:
    """A new secret address for the member; the old one (if any) answers 404 from now on.
    Read-only members may subscribe too: the feed only reads."""
    CalendarFeed.objects.filter(user_id=membership.user_id).delete()
    return CalendarFeed.objects.create(user_id=membership.user_id)


@transaction.atomic
def revoke_feed(*, membership: Membership) -> None:
    CalendarFeed.objects.filter(user_id=membership.user_id).delete()
