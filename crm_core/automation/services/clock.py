"""Company time: deadlines that count only the company's working hours, skipping holidays."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_core.automation.models import Holiday, WorkingHours
from tenants.models import Company

# Look at most this far ahead for working time (a company closed for a year has no SLA).
_HORIZON_DAYS = 400


def company_zone(company: Company) -> ZoneInfo:
    try:
        return ZoneInfo(company.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Moscow")


def add_working_minutes(company: Company, start: datetime, minutes: int) -> datetime:
    """``start`` plus ``minutes`` of the company's working time.

    Without working hours set, the clock runs round the clock. With them, a request that
    arrives at 19:55 on a Friday with "15 minutes" for a company open 9–20 on weekdays is due
    at 9:10 on Monday (or the first working day after a holiday).
    """
    hours = {w.weekday: (w.opens, w.closes) for w in WorkingHours.objects.all()}
    if not hours:
        return start + timedelta(minutes=minutes)
    zone = company_zone(company)
    local = start.astimezone(zone)
    holidays = set(
        Holiday.objects.filter(
            day__gte=local.date(), day__lte=local.date() + timedelta(days=_HORIZON_DAYS)
        ).values_list("day", flat=True)
    )
    remaining = timedelta(minutes=minutes)
    for _ in range(_HORIZON_DAYS):
        day = local.date()
        if day not in holidays and day.weekday() in hours:
            opens, closes = hours[day.weekday()]
            opening = datetime.combine(day, opens, zone)
            closing = datetime.combine(day, closes, zone)
            begin = max(local, opening)
            if begin < closing:
                available = closing - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
        local = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start + timedelta(minutes=minutes)


def working_minutes_between(company: Company, start: datetime, end: datetime) -> int:
    """How many minutes of the company's working time lie between ``start`` and ``end`` (0
    when ``end`` is not after ``start``): what an SLA clock paused while waiting for the
    customer must give back. Round the clock when no working hours are set."""
    if end <= start:
        return 0
    hours = {w.weekday: (w.opens, w.closes) for w in WorkingHours.objects.all()}
    if not hours:
        return int((end - start).total_seconds() // 60)
    zone = company_zone(company)
    local, until = start.astimezone(zone), end.astimezone(zone)
    holidays = set(
        Holiday.objects.filter(day__gte=local.date(), day__lte=until.date()).values_list(
            "day", flat=True
        )
    )
    total = timedelta()
    day = local.date()
    while day <= until.date():
        if day not in holidays and day.weekday() in hours:
            opens, closes = hours[day.weekday()]
            begin = max(local, datetime.combine(day, opens, zone))
            finish = min(until, datetime.combine(day, closes, zone))
            if finish > begin:
                total += finish - begin
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)
