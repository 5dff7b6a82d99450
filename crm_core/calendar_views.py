"""The task calendar (day, week as a time grid, month) in the company's time zone, and the
person's iCalendar feed that Google, Outlook and Apple calendars subscribe to."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm_core.access import member_required
from crm_core.queries.calendar_feed import feed_owner, ical
from crm_core.queries.calendar_grid import SLOTS, GridDay, grid, hours
from crm_core.queries.tasks import month_of_tasks
from crm_core.services.calendar_feed import feed_of, renew_feed, revoke_feed
from crm_core.views import _membership

VIEWS = ("day", "week", "month")


def _month(value: str | None, today: date) -> date:
    """``2026-11`` → the 1st of that month; anything else → this month."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1) if 2000 <= year <= 2100 else today.replace(day=1)
    except ValueError:
        return today.replace(day=1)


def _day(value: str | None, today: date) -> date:
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return today
    return day if 2000 <= day.year <= 2100 else today


def _shifted(view: str, day: date, step: int) -> date:
    if view == "day":
        return day + timedelta(days=step)
    if view == "week":
        return day + timedelta(weeks=step)
    first = day.replace(day=1)
    if step < 0:
        return (first - timedelta(days=1)).replace(day=1)
    return (first + timedelta(days=32)).replace(day=1)


@member_required
@require_GET
def task_calendar(request: HttpRequest) -> HttpResponse:
    """Day, week (the default; a list of days on a phone) or month; prev/next/today."""
    membership = _membership(request)
    company = request.company  # type: ignore[attr-defined]
    # The person's own zone when they chose one (PersonTimeZoneMiddleware), else the company's.
    zone = timezone.get_current_timezone()
    today = timezone.localdate(timezone=zone)
    everyone = request.GET.get("who") == "all"
    view = str(request.GET.get("view", ""))
    if "month" in request.GET and view not in VIEWS:
        view = "month"  # the old month links (?month=2026-11)
        day = _month(request.GET.get("month"), today)
    else:
        view = view if view in VIEWS else "week"
        day = _day(request.GET.get("date"), today)
    context: dict[str, object] = {
        "view": view,
        "day": day,
        "today": today,
        "everyone": everyone,
        "previous": _shifted(view, day, -1).isoformat(),
        "following": _shifted(view, day, 1).isoformat(),
        "feed": feed_of(membership),
    }
    if view == "month":
        context["weeks"] = month_of_tasks(
            membership, company, day.year, day.month, everyone=everyone
        )
        context["month"] = day.replace(day=1)
    else:
        start = day - timedelta(days=day.weekday()) if view == "week" else day
        days = grid(membership, zone, start, 7 if view == "week" else 1, everyone=everyone)
        _slot_links(days, request.get_full_path())
        context.update(
            days=days,
            hours=hours(),
            slots=SLOTS,
            first=start,
            last=days[-1].day,
            nothing=all(d.empty for d in days),
        )
    return render(request, "crm_core/calendar.html", context)


def _slot_links(days: list[GridDay], back: str) -> None:
    """Each day's "new task at this hour" links, written here once per slot rather than by the
    template (a week is 105 of them: a translation, two dates and a URL each)."""
    new_task = reverse("task_new")
    back = quote(back, safe="/")
    for d in days:
        iso, label_day = d.day.isoformat(), date_format(d.day, "j E")
        d.slots = [
            (
                hour,
                row,
                f"{new_task}?date={iso}&hour={hour}&next={back}",
                _("New task on %(day)s at %(hour)s:00") % {"day": label_day, "hour": hour},
            )
            for hour, row in hours()
        ]


@member_required
@require_POST
def calendar_feed_renew(request: HttpRequest) -> HttpResponse:
    """Make (or make anew) the person's secret calendar address; the old one stops working."""
    renew_feed(membership=_membership(request))
    return redirect(reverse("task_calendar") + "#feed")


@member_required
@require_POST
def calendar_feed_revoke(request: HttpRequest) -> HttpResponse:
    revoke_feed(membership=_membership(request))
    return redirect(reverse("task_calendar") + "#feed")


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed at the company's host, without a login: the token is the key.
    A revoked, unknown or other company's token answers 404 — the same for each."""
    company = getattr(request, "company", None)
    if company is None:
        raise Http404("not a company host")
    feed = feed_owner(company, token)
    if feed is None:
        raise Http404("no such calendar")
    base = request.build_absolute_uri("/").rstrip("/")
    with translation.override(company.language):
        body = ical(company, feed, base)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="relata.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
