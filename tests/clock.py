"""The date on a company's own clock, as its pages and reports count days and months.

Tests that ask for "this month's" figures must count in the company's time zone: between
21:00 and midnight UTC Moscow is already on tomorrow (and on the 1st, on next month)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django.utils import timezone

from tenants.models import Company


def company_today(company: Company) -> date:
    return timezone.localdate(timezone=ZoneInfo(company.time_zone))
