from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from crm_core.access import visible, visible_user_ids
from crm_core.models import Task
from tenants.models import Company, Membership
from tenants.zones import zone_of

PERSONAL = Q(deal__isnull=True, client__isnull=True, contact__isnull=True)


def visible_tasks(membership: Membership) -> QuerySet[Task]:
    """Tasks the member sees: their own and those they gave; a task on a deal, client or
    contact person also by the record rules of crm_core.access (on its assignee); a personal
    task (on nothing) only by its assignee and its creator — not even by an admin."""
    me = membership.user_id
    ids = visible_user_ids(membership)
    others = ~PERSONAL if ids is None else ~PERSONAL & Q(assignee_id__in=ids)
    return Task.objects.select_related("deal", "client", "contact").filter(
        Q(assignee_id=me) | Q(created_by_id=me) | others
    )


def tasks_to_count(membership: Membership) -> QuerySet[Task]:
    """Tasks a report may count (never list): by the record rules on the assignee, personal
    tasks included — a head of sales sees how many of a manager's tasks were late, not what
    they were."""
    return visible(Task.objects.all(), membership, field="assignee")


def task_for(membership: Membership, task_id: int) -> Task:
    return get_object_or_404(visible_tasks(membership), pk=task_id)


# Each of "My day"'s lists shows this many; the rest are a link to the task list (a year's
# pile of overdue calls must neither bury today's tasks nor make the page megabytes).
MY_DAY_SHOWN = 20


@dataclass
class MyDay:
    overdue: list[Task]
    today: list[Task]
    upcoming: list[Task]
    overdue_count: int = 0
    today_count: int = 0
    upcoming_count: int = 0
    local_today: date | None = None

    @property
    def tomorrow(self) -> date | None:
        return self.local_today + timedelta(days=1) if self.local_today else None


def my_day(membership: Membership, company: Company) -> MyDay:
    """The member's open tasks: overdue, due today (in the member's time zone), upcoming —
    each list its first MY_DAY_SHOWN in deadline order, with how many there are."""
    zone = zone_of(membership.user, company)
    now = timezone.now()
    local_today = now.astimezone(zone).date()
    end_of_today = datetime.combine(local_today + timedelta(days=1), time.min, zone)
    day = open_tasks_of(membership.user_id, now, end_of_today, shown=MY_DAY_SHOWN)
    day.local_today = local_today
    return day


def open_tasks_of(
    user_id: int,
    now: datetime,
    end_of_today: datetime,
    *,
    shown: int,
    upcoming: bool = True,
    related: tuple[str, ...] = ("deal", "client", "contact"),
) -> MyDay:
    """A person's open tasks — overdue, due by ``end_of_today``, and (``upcoming``) later —
    each list its first ``shown`` in deadline order, with how many there are; My day's and the
    home page's. The open-task index answers each list and the counts."""
    mine = Task.objects.filter(assignee_id=user_id, done_at__isnull=True)
    later = Q(deadline__gte=end_of_today)
    counts = mine.aggregate(
        overdue=Count("id", filter=Q(deadline__lt=now)),
        today=Count("id", filter=Q(deadline__gte=now, deadline__lt=end_of_today)),
        upcoming=Count("id", filter=later),
    )
    # The records each line names (the home page names only the deal).
    listed = mine.select_related(*related).order_by("deadline", "id")
    return MyDay(
        overdue=list(listed.filter(deadline__lt=now)[:shown]),
        today=list(listed.filter(deadline__gte=now, deadline__lt=end_of_today)[:shown]),
        upcoming=list(listed.filter(later)[:shown]) if upcoming else [],
        overdue_count=counts["overdue"],
        today_count=counts["today"],
        upcoming_count=counts["upcoming"],
    )


# A month cell lists this many tasks; the rest are a link to the day ("+ 12 more"), as
# calendars do: a busy day must not stretch the month to pages.
MONTH_CELL_TASKS = 4


@dataclass
class CalendarDay:
    day: date
    in_month: bool
    tasks: list[Task]
    more: int = 0


def month_of_tasks(
    membership: Membership, company: Company, year: int, month: int, *, everyone: bool = False
) -> list[list[CalendarDay]]:
    """Weeks (Monday first) of the month with the tasks due each day in the company's time
    zone: the member's own, or — with ``everyone`` — all tasks the member may see."""
    zone = zone_of(membership.user, company)
    first = date(year, month, 1)
    start = first - timedelta(days=first.weekday())
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    end = last + timedelta(days=6 - last.weekday())
    by_day = tasks_by_day(membership, zone, start, end, everyone=everyone, per_day=MONTH_CELL_TASKS)
    counts = tasks_per_day(membership, zone, start, end, everyone=everyone)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    cells = []
    for d in days:
        tasks = by_day.get(d, [])
        cells.append(CalendarDay(d, d.month == month, tasks, max(0, counts.get(d, 0) - len(tasks))))
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def _due_between(
    membership: Membership, zone: ZoneInfo, start: date, end: date, *, everyone: bool
) -> QuerySet[Task]:
    tasks = visible_tasks(membership)
    if not everyone:
        tasks = tasks.filter(assignee_id=membership.user_id)
    return tasks.filter(
        deadline__gte=datetime.combine(start, time.min, zone),
        deadline__lt=datetime.combine(end + timedelta(days=1), time.min, zone),
    )


def tasks_by_day(
    membership: Membership,
    zone: ZoneInfo,
    start: date,
    end: date,
    *,
    everyone: bool = False,
    per_day: int | None = None,
) -> dict[date, list[Task]]:
    """Tasks due from ``start`` to ``end`` (inclusive) by local day: the member's own, or —
    with ``everyone`` — all the member may see; ``per_day``: only each day's first ones."""
    rows = (
        _due_between(membership, zone, start, end, everyone=everyone)
        # What a calendar entry shows; not the records the task is on (a busy week is
        # hundreds of tasks: their deals, clients and contacts were half the page's work).
        .select_related(None)
        .only("id", "title", "kind", "deadline", "duration_minutes", "done_at")
    )
    if per_day is not None:
        # The database keeps each day's first few (a month is a thousand tasks to drop).
        rows = rows.annotate(
            place=Window(
                RowNumber(),
                partition_by=[TruncDate("deadline", tzinfo=zone)],
                order_by=[F("deadline").asc(), F("id").asc()],
            )
        ).filter(place__lte=per_day)
    by_day: dict[date, list[Task]] = {}
    for task in rows.order_by("deadline", "id")[:2000]:
        by_day.setdefault(task.deadline.astimezone(zone).date(), []).append(task)
    return by_day


def tasks_per_day(
    membership: Membership, zone: ZoneInfo, start: date, end: date, *, everyone: bool = False
) -> dict[date, int]:
    """How many tasks are due each local day from ``start`` to ``end``."""
    rows = (
        _due_between(membership, zone, start, end, everyone=everyone)
        .select_related(None)
        .annotate(day=TruncDate("deadline", tzinfo=zone))
        .order_by()
        .values_list("day")
        .annotate(n=Count("id"))
    )
    return dict(rows)


TASK_SORTS = {
    "": ("deadline", "id"),
    "latest": ("-deadline", "-id"),
    "new": ("-created_at", "-id"),
}


def task_list(membership: Membership, filters: Mapping[str, Any], sort: str = "") -> QuerySet[Task]:
    """The task list's tasks: filtered, sorted and within visibility (paged by the caller).
    Open tasks unless the filter asks for others; due dates are days in the active time
    zone."""
    tasks = visible_tasks(membership)
    status = filters.get("status") or ""
    if status == "done":
        tasks = tasks.filter(done_at__isnull=False)
    elif status == "overdue":
        tasks = tasks.filter(done_at__isnull=True, deadline__lt=timezone.now())
    elif status != "all":
        tasks = tasks.filter(done_at__isnull=True)
    if filters.get("q"):
        tasks = tasks.filter(title__icontains=filters["q"])
    if filters.get("assignee"):
        tasks = tasks.filter(assignee_id=filters["assignee"])
    if filters.get("kind"):
        tasks = tasks.filter(kind=filters["kind"])
    zone = timezone.get_current_timezone()
    if filters.get("due_from"):
        tasks = tasks.filter(deadline__gte=datetime.combine(filters["due_from"], time.min, zone))
    if filters.get("due_to"):
        end = datetime.combine(filters["due_to"] + timedelta(days=1), time.min, zone)
        tasks = tasks.filter(deadline__lt=end)
    return tasks.order_by(*TASK_SORTS.get(sort, TASK_SORTS[""]))
