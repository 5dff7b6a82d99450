"""The calendar's week and day grid: each day's tasks placed on half-hour rows, meetings
as blocks as long as they last, side by side when they overlap."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse

from crm_core.models import Task
from crm_core.queries.tasks import tasks_by_day
from tenants.models import Membership

FIRST_HOUR = 7  # the grid shows 07:00–22:00; earlier and later tasks are listed above it
LAST_HOUR = 22
SLOT_MINUTES = 30
SLOTS = (LAST_HOUR - FIRST_HOUR) * 60 // SLOT_MINUTES
MAX_LANES = 3


@dataclass
class GridItem:
    task: Task
    start: datetime
    end: datetime
    row: int  # the first half-hour row, from 1
    span: int  # rows covered
    lane: int = 0
    alone: bool = True  # overlaps nothing: takes the day's whole width
    # Drawn by the template as they are: a busy week is hundreds of entries, and each
    # template lookup, filter and {% url %} per entry was most of the page's time.
    href: str = ""
    when: str = ""  # "09:00" or "09:00–10:00"

    @property
    def css(self) -> str:
        parts = [f"cal-item r-{self.row} s-{self.span} l-{self.lane}"]
        if self.alone:
            parts.append("solo")
        parts.append(f"kind-{self.task.kind}")
        if self.task.done_at:
            parts.append("done")
        return " ".join(parts)


@dataclass
class GridDay:
    day: date
    items: list[GridItem] = field(default_factory=list)
    outside: list[Task] = field(default_factory=list)
    lanes: int = 1
    # The empty half-hour slots' "new task here" links: (hour, row, address, label).
    slots: list[tuple[int, int, str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.items or self.outside)


def _placed(task: Task, zone: ZoneInfo) -> GridItem | None:
    start = task.deadline.astimezone(zone)
    minutes = task.duration_minutes or SLOT_MINUTES
    end = start + timedelta(minutes=minutes)
    offset = (start.hour - FIRST_HOUR) * 60 + start.minute
    if offset < 0 or start.hour >= LAST_HOUR:
        return None
    row = offset // SLOT_MINUTES + 1
    span = max(1, -(-minutes // SLOT_MINUTES))
    when = f"{start:%H:%M}–{end:%H:%M}" if task.duration_minutes else f"{start:%H:%M}"
    href = reverse("task_detail", args=[task.pk])
    return GridItem(task, start, end, row, min(span, SLOTS - row + 1), href=href, when=when)


def _lanes(items: list[GridItem]) -> int:
    """Greedy lanes: an item goes to the first lane free at its start (overlaps side by
    side); beyond MAX_LANES they share the last lane."""
    ends: list[datetime] = []
    for item in sorted(items, key=lambda i: (i.start, -i.span)):
        free = next((n for n, end in enumerate(ends) if end <= item.start), None)
        if free is not None:
            ends[free] = item.end
        elif len(ends) < MAX_LANES:
            ends.append(item.end)
            free = len(ends) - 1
        else:
            free = MAX_LANES - 1
            ends[free] = max(ends[free], item.end)
        item.lane = free
    for item in items:
        item.alone = not any(
            other is not item and other.start < item.end and item.start < other.end
            for other in items
        )
    return max(1, len(ends))


def grid(
    membership: Membership, zone: ZoneInfo, start: date, days: int, *, everyone: bool = False
) -> list[GridDay]:
    by_day = tasks_by_day(
        membership, zone, start, start + timedelta(days=days - 1), everyone=everyone
    )
    result = []
    for n in range(days):
        day = GridDay(start + timedelta(days=n))
        for task in by_day.get(day.day, []):
            item = _placed(task, zone)
            if item is None:
                day.outside.append(task)
            else:
                day.items.append(item)
        day.lanes = _lanes(day.items)
        result.append(day)
    return result


def hours() -> list[tuple[int, int]]:
    """(hour, its row) for the grid's hour labels."""
    return [(h, (h - FIRST_HOUR) * 60 // SLOT_MINUTES + 1) for h in range(FIRST_HOUR, LAST_HOUR)]
