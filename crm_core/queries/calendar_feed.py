"""The iCalendar (RFC 5545) feed of one person's open tasks and meetings, for Google,
Outlook and Apple calendars to subscribe to. Built with the ``icalendar`` library, which
escapes text, folds long lines and writes UTC times with a trailing Z."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.utils import timezone
from icalendar import Calendar, Event

from crm_core.models import CalendarFeed, Task
from tenants.models import Company, Membership

# A task that is not a meeting shows as a short event at its due time.
TASK_LENGTH = timedelta(minutes=15)
# Tasks overdue for longer than this leave the feed (they stay in the CRM).
LOOKBACK = timedelta(days=30)


def feed_owner(company: Company, token: str) -> CalendarFeed | None:
    """The feed behind a token in the current company schema, if its owner is still an
    active member of this company; None otherwise (the view answers 404)."""
    feed = CalendarFeed.objects.filter(token=token).first() if token else None
    if (
        feed is None
        or feed.user_id is None
        or not Membership.objects.filter(
            company=company, user_id=feed.user_id, is_active=True
        ).exists()
    ):
        return None
    return feed


def ical(company: Company, feed: CalendarFeed, base_url: str) -> bytes:
    now = timezone.now()
    calendar = Calendar()
    calendar.add("prodid", "-//Relata//CRM tasks//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Relata · {company.name}")
    calendar.add("x-published-ttl", "PT1H")
    tasks = Task.objects.filter(
        assignee_id=feed.user_id, done_at__isnull=True, deadline__gte=now - LOOKBACK
    ).order_by("deadline")[:2000]
    for task in tasks:
        event = Event()
        # Stable per task and company, so a calendar updates the event instead of adding one.
        event.add("uid", f"task-{task.pk}@{company.schema_name}.relata")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", task.deadline.astimezone(UTC))
        length = timedelta(minutes=task.duration_minutes) if task.duration_minutes else TASK_LENGTH
        event.add("dtend", (task.deadline + length).astimezone(UTC))
        event.add("summary", task.title)
        if task.description:
            event.add("description", task.description)
        event.add("categories", [task.get_kind_display()])
        event.add("url", f"{base_url}/tasks/{task.pk}/")
        calendar.add_component(event)
    return calendar.to_ical()
