"""Customer-service reports, added to crm_core's report registry (hooks.py): response and
resolution times, SLA breaches and satisfaction per person and per queue, and the backlog by
age. Each is one GROUP BY in the database over the tickets the member may see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_core.reports.queries import Bar, Report, Scope, _people
from service.models import Queue, Ticket
from service.queries import visible_tickets


def _tickets(scope: Scope) -> QuerySet[Ticket]:
    tickets = visible_tickets(scope.membership).filter(
        created_at__gte=scope.start, created_at__lt=scope.end, merged_into__isnull=True
    )
    if scope.team_user_ids is not None:
        tickets = tickets.filter(assignee_id__in=scope.team_user_ids)
    return tickets


def _hours(value: timedelta | None) -> str:
    if value is None:
        return "—"
    return f"{value.total_seconds() / 3600:.1f}".replace(".", ",")


def _grouped(scope: Scope, by: str) -> list[dict[str, Any]]:
    first = ExpressionWrapper(F("first_responded_at") - F("created_at"), DurationField())
    solved = ExpressionWrapper(F("solved_at") - F("created_at"), DurationField())
    return list(
        _tickets(scope)
        .values(by)
        .annotate(
            total=Count("id"),
            solved=Count("id", filter=Q(solved_at__isnull=False)),
            first=Avg(first),
            resolution=Avg(solved),
            breaches=Count(
                "id", filter=Q(first_response_breached=True) | Q(resolution_breached=True)
            ),
            rated=Count("survey__rating"),
            rating=Avg("survey__rating"),
        )
        .order_by("-total")
    )


def _headers(first: str) -> list[str]:
    return [
        first,
        _("Tickets"),
        _("Solved"),
        _("First response, hours (average)"),
        _("Resolution, hours (average)"),
        _("SLA missed"),
        _("Ratings"),
        _("Satisfaction (1–5)"),
    ]


def _row(label: str, g: dict[str, Any]) -> list[Any]:
    rating = g["rating"]
    return [
        label,
        g["total"],
        g["solved"],
        _hours(g["first"]),
        _hours(g["resolution"]),
        g["breaches"],
        g["rated"],
        f"{rating:.2f}".replace(".", ",") if rating is not None else "—",
    ]


def by_person(scope: Scope) -> Report:
    groups = _grouped(scope, "assignee_id")
    names = _people(g["assignee_id"] for g in groups)
    rows = [_row(names.get(g["assignee_id"], "—"), g) for g in groups]
    bars = [Bar(str(r[0]), float(r[1]), str(r[1])) for r in rows]
    return Report(
        "tickets_people",
        str(_("Tickets by person")),
        _headers(_("Assignee")),
        rows,
        bars,
        str(_("Tickets")),
    )


def by_queue(scope: Scope) -> Report:
    groups = _grouped(scope, "queue_id")
    names = {q.pk: q.team.name for q in Queue.objects.select_related("team")}
    rows = [_row(names.get(g["queue_id"], _("No queue")), g) for g in groups]
    bars = [Bar(str(r[0]), float(r[1]), str(r[1])) for r in rows]
    return Report(
        "tickets_queues",
        str(_("Tickets by queue")),
        _headers(_("Queue")),
        rows,
        bars,
        str(_("Tickets")),
    )


AGES = [
    ("d1", gettext_lazy("Under a day"), 0, 1),
    ("d3", gettext_lazy("1–3 days"), 1, 3),
    ("d7", gettext_lazy("3–7 days"), 3, 7),
    ("d30", gettext_lazy("1–4 weeks"), 7, 30),
    ("older", gettext_lazy("Older"), 30, None),
]


def backlog(scope: Scope) -> Report:
    """Open tickets now (whatever the period), by queue and by how long they have been open."""
    now = timezone.now()
    tickets = visible_tickets(scope.membership).filter(
        status__in=[Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING],
        merged_into__isnull=True,
    )
    if scope.team_user_ids is not None:
        tickets = tickets.filter(assignee_id__in=scope.team_user_ids)
    counts: dict[str, Any] = {}
    for key, _label, low, high in AGES:
        condition = Q(created_at__lte=now - timedelta(days=low))
        if high is not None:
            condition &= Q(created_at__gt=now - timedelta(days=high))
        counts[key] = Count("id", filter=condition)
    found: Any = tickets.values("queue_id").annotate(total=Count("id"), **counts)
    groups: list[dict[str, Any]] = list(found.order_by("-total"))
    names = {q.pk: q.team.name for q in Queue.objects.select_related("team")}
    rows = [
        [names.get(g["queue_id"], _("No queue")), g["total"], *[g[k] for k, *_r in AGES]]
        for g in groups
    ]
    totals = {k: sum(g[k] for g in groups) for k, *_r in AGES}
    bars = [Bar(str(label), float(totals[k]), str(totals[k])) for k, label, *_r in AGES]
    return Report(
        "tickets_backlog",
        str(_("Open tickets by age")),
        [_("Queue"), _("Open"), *[str(label) for _k, label, *_r in AGES]],
        rows,
        bars,
        str(_("Open tickets by age")),
    )


REPORTS: dict[str, tuple[Any, Callable[[Scope], Report]]] = {
    "tickets_people": (gettext_lazy("Tickets by person"), by_person),
    "tickets_queues": (gettext_lazy("Tickets by queue"), by_queue),
    "tickets_backlog": (gettext_lazy("Ticket backlog by age"), backlog),
}
