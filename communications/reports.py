"""The first-reply report: how fast customers' conversations got their first answer, per
channel (e-mail, Telegram), within the conversations the member sees. Registered with
crm_core's reports in apps.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Aggregate, Avg, Count, DurationField, F, OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from communications.models import Channel
from communications.queries import visible_conversations
from crm_core.automation.models import Timer
from crm_core.queries.tasks import tasks_to_count
from crm_core.reports.queries import Bar, Report, Scope


class Median(Aggregate):
    function = "PERCENTILE_CONT"
    name = "median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _span(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(m)s min") % {"m": minutes}


def first_reply(scope: Scope) -> Report:
    """Conversations whose customer first wrote in the period, by channel: how many, how many
    answered, the median and average time to the first answer, how many still wait."""
    started = visible_conversations(scope.membership).filter(
        first_inbound_at__gte=scope.start, first_inbound_at__lt=scope.end
    )
    delay = F("first_reply_at") - F("first_inbound_at")
    answered = Q(first_reply_at__isnull=False)
    grouped = (
        started.order_by()
        .values("channel")
        .annotate(
            total=Count("id"),
            answered=Count("id", filter=answered),
            median=Median(delay, filter=answered),
            average=Avg(delay, filter=answered, output_field=DurationField()),
            waiting=Count("id", filter=Q(awaiting_reply=True)),
        )
        .order_by("channel")
    )
    labels: dict[str, Any] = dict(Channel.choices)
    rows = []
    bars = []
    for row in grouped:
        label = str(labels.get(row["channel"], row["channel"]))
        rows.append(
            [
                label,
                row["total"],
                row["answered"],
                _span(row["median"]),
                _span(row["average"]),
                row["waiting"],
                "—",  # a conversation has no deadline of its own; the requests' row has
            ]
        )
        minutes = row["median"].total_seconds() / 60 if row["median"] else 0.0
        bars.append(Bar(label, minutes, _span(row["median"])))
    requests = _requests_sla(scope)
    if requests is not None:
        rows.append(requests[0])
        bars.append(requests[1])
    return Report(
        "first_reply",
        str(_("First reply to customers")),
        [
            _("Channel"),
            _("Conversations"),
            _("Answered"),
            _("Median first reply"),
            _("Average first reply"),
            _("Still waiting"),
            _("Within the request SLA"),
        ],
        rows,
        bars,
        str(_("Median first reply")),
    )


def _requests_sla(scope: Scope) -> tuple[list[Any], Bar] | None:
    """The web-form requests of the period side by side with the conversations: their call-back
    tasks (the ones an SLA timer watches), how soon they were done, how many within the SLA's
    deadline. None when no request with an SLA came in the period."""
    watched = Timer.objects.filter(kind=Timer.Kind.SLA_OVERDUE, task__isnull=False).values(
        "task_id"
    )
    tasks = tasks_to_count(scope.membership).filter(
        pk__in=watched, created_at__gte=scope.start, created_at__lt=scope.end
    )
    # The SLA's own deadline, as the timer was set — a task postponed later does not move it.
    due = Timer.objects.filter(task=OuterRef("pk"), kind=Timer.Kind.SLA_OVERDUE).order_by("due_at")
    tasks = tasks.annotate(sla_due=Subquery(due.values("due_at")[:1]))
    done = Q(done_at__isnull=False)
    delay = F("done_at") - F("created_at")
    row = tasks.order_by().aggregate(
        total=Count("id"),
        answered=Count("id", filter=done),
        median=Median(delay, filter=done),
        average=Avg(delay, filter=done, output_field=DurationField()),
        waiting=Count("id", filter=Q(done_at__isnull=True)),
        in_time=Count("id", filter=done & Q(done_at__lte=F("sla_due"))),
    )
    if not row["total"]:
        return None
    label = str(_("Requests: call back"))
    within = f"{round(100 * row['in_time'] / row['total'])} %"
    cells = [
        label,
        row["total"],
        row["answered"],
        _span(row["median"]),
        _span(row["average"]),
        row["waiting"],
        within,
    ]
    minutes = row["median"].total_seconds() / 60 if row["median"] else 0.0
    return cells, Bar(label, minutes, _span(row["median"]))
