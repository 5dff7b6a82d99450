"""A company's "last activity" for the operators' console, kept cheaply.

Every request of a member would otherwise write the company's row. A Redis key per company
that lives for ACTIVITY_STEP lets one request in that window write the timestamp; the others
only touch the cache. Precision of a few minutes is all the console needs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from tenants.models import Company

ACTIVITY_STEP = timedelta(minutes=5)


def _key(company_id: int) -> str:
    return f"tenants:activity:{company_id}"


def note(company: Company, now: datetime | None = None) -> bool:
    """Record that a member used the company's CRM now; True if the row was written."""
    if not cache.add(_key(company.pk), 1, timeout=int(ACTIVITY_STEP.total_seconds())):
        return False
    now = now or timezone.now()
    Company.objects.filter(pk=company.pk).update(last_activity_at=now)
    company.last_activity_at = now
    return True
