"""The task calendar: a month at a glance, in the company's time zone."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crm_core.access import member_required
from crm_core.queries.tasks import month_of_tasks
from crm_core.views import _membership


def _month(value: str | None, today: date) -> date:
    """``2026-11`` → the 1st of that month; anything else → this month."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1) if 2000 <= year <= 2100 else today.replace(day=1)
    except ValueError:
        return today.replace(day=1)


@member_required
@require_GET
def task_calendar(request: HttpRequest) -> HttpResponse:
    company = request.company  # type: ignore[attr-defined]
    today = timezone.localdate(timezone=ZoneInfo(company.time_zone))
    first = _month(request.GET.get("month"), today)
    everyone = request.GET.get("who") == "all"
    previous = (first.replace(day=1) - date.resolution).replace(day=1)
    following = (first.replace(day=28) + 4 * date.resolution).replace(day=1)
    return render(
        request,
        "crm_core/calendar.html",
        {
            "weeks": month_of_tasks(
                _membership(request), company, first.year, first.month, everyone=everyone
            ),
            "month": first,
            "today": today,
            "previous": previous.strftime("%Y-%m"),
            "following": following.strftime("%Y-%m"),
            "everyone": everyone,
        },
    )
