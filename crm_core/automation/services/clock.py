"""Company time: deadlines that count only the company's working hours, skipping holidays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
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


def _working_spans(
    company: Company, start: datetime, last_day: date
) -> Iterator[tuple[datetime, datetime]]:
    """The company's open hours from ``start`` to the end of ``last_day``, day by day, as
    (from, to) in its zone, holidays and closed days left out. Empty without working hours."""
    hours = {w.weekday: (w.opens, w.closes) for w in WorkingHours.objects.all()}
    if not hours:
        return
    zone = company_zone(company)
    local = start.astimezone(zone)
    holidays = set(
        Holiday.objects.filter(day__gte=local.date(), day__lte=last_day).values_list(
            "day", flat=True
        )
    )
    day = local.date()
    while day <= last_day:
        if day not in holidays and day.weekday() in hours:
            opens, closes = hours[day.weekday()]
            begin = max(local, datetime.combine(day, opens, zone))
            closing = datetime.combine(day, closes, zone)
            if begin < closing:
                yield begin, closing
        day += timedelta(days=1)


def _round_the_clock() -> bool:
    return not WorkingHours.objects.exists()


def add_working_minutes(company: Company, start: datetime, minutes: int) -> datetime:
    """``start`` plus ``minutes`` of the company's working time.

    Without working hours set, the clock runs round the clock. With them, a request that
    arrives at 19:55 on a Friday with "15 minutes" for a company open 9–20 on weekdays is due
    at 9:10 on Monday (or the first working day after a holiday).
    """
    remaining = timedelta(minutes=minutes)
    horizon = start.astimezone(company_zone(company)).date() + timedelta(days=_HORIZON_DAYS)
    for begin, closing in _working_spans(company, start, horizon):
        if remaining <= closing - begin:
            return (begin + remaining).astimezone(UTC)
        remaining -= closing - begin
    return start + timedelta(minutes=minutes)


def working_minutes_between(company: Company, start: datetime, end: datetime) -> int:
    """How many minutes of the company's working time lie between ``start`` and ``end`` (0
    when ``end`` is not after ``start``): what an SLA clock paused while waiting for the
    customer must give back. Round the clock when no working hours are set."""
    if end <= start:
        return 0
    if _round_the_clock():
        return int((end - start).total_seconds() // 60)
    last_day = end.astimezone(company_zone(company)).date()
    total = sum(
        (
            min(closing, end) - begin
            for begin, closing in _working_spans(company, start, last_day)
            if min(closing, end) > begin
        ),
        timedelta(),
    )
    return int(total.total_seconds() // 60)
