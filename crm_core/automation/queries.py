"""Reads for the automation pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from crm_core.automation.models import (
    CapturedRequest,
    RequestForm,
    StageRule,
    Timer,
    WebhookDelivery,
)
from crm_core.models import Deal, Task


def forms() -> QuerySet[RequestForm]:
    return RequestForm.objects.select_related("pipeline", "team")


def rules() -> QuerySet[StageRule]:
    return StageRule.objects.select_related("stage", "stage__pipeline").prefetch_related("actions")


def recent_requests(form: RequestForm, limit: int = 20) -> list[CapturedRequest]:
    return list(form.requests.select_related("lead", "deal")[:limit])


def deliveries(limit: int = 100) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.select_related("rule")[:limit])


@dataclass
class SlaState:
    task: Task
    deadline: datetime
    breached: bool
    escalated: bool
    seconds_left: int

    @property
    def minutes_left(self) -> int:
        return (self.seconds_left + 59) // 60


def sla_for_deal(deal: Deal) -> list[SlaState]:
    """The deal's open tasks that carry an SLA: their deadline, and whether it has passed."""
    if deal.closed_at is not None:
        return []  # won or lost: its timers were stopped, nothing counts down
    now = timezone.now()
    timers = Timer.objects.filter(
        deal=deal, kind__in=[Timer.Kind.SLA_OVERDUE, Timer.Kind.SLA_ESCALATE]
    ).select_related("task")
    stopped = set(
        timers.filter(outcome="deal closed").exclude(task=None).values_list("task_id", flat=True)
    )
    by_task: dict[int, SlaState] = {}
    for timer in timers:
        task = timer.task
        if task is None or task.done_at is not None or task.pk in stopped:
            continue
        state = by_task.setdefault(
            task.pk,
            SlaState(
                task=task,
                deadline=task.deadline,
                breached=task.deadline <= now,
                escalated=False,
                seconds_left=max(0, int((task.deadline - now).total_seconds())),
            ),
        )
        if timer.kind == Timer.Kind.SLA_ESCALATE and timer.fired_at is not None:
            state.escalated = True
    return sorted(by_task.values(), key=lambda s: s.deadline)
