from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from crm_core.access import visible
from crm_core.models import Task
from tenants.models import Company, Membership


def visible_tasks(membership: Membership) -> QuerySet[Task]:
    return visible(Task.objects.select_related("deal"), membership, field="assignee")


def task_for(membership: Membership, task_id: int) -> Task:
    return get_object_or_404(visible_tasks(membership), pk=task_id)


@dataclass
class MyDay:
    overdue: list[Task]
    today: list[Task]
    upcoming: list[Task]


def my_day(membership: Membership, company: Company) -> MyDay:
    """The member's open tasks: overdue, due today (in the company's time zone), upcoming."""
    zone = ZoneInfo(company.time_zone)
    now = timezone.now()
    end_of_today = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time.min, zone)
    open_tasks = list(
        Task.objects.select_related("deal")
        .filter(assignee_id=membership.user_id, done_at__isnull=True)
        .order_by("deadline")[:300]
    )
    return MyDay(
        overdue=[t for t in open_tasks if t.deadline < now],
        today=[t for t in open_tasks if now <= t.deadline < end_of_today],
        upcoming=[t for t in open_tasks if t.deadline >= end_of_today],
    )
