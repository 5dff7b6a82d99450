"""What the company's home page shows to the member who opens it.

A manager sees her own figures, a head of sales her team's (the teams she heads, and her own),
an owner, administrator or read-only member the company's — the same record visibility as
everywhere (crm_core.access). Every figure is an aggregate in the database; the page costs the
same handful of queries however many deals, tasks and requests there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.utils import timezone

from crm_core.access import SEE_ALL, visible, visible_user_ids
from crm_core.models import Deal, Lead, Stage, Task
from crm_core.queries.leads import visible_leads
from tenants.models import Company, Membership

User = get_user_model()

Role = Membership.Role
TASKS_SHOWN = 8
REQUESTS_SHOWN = 5


@dataclass
class StageFigure:
    stage_id: int
    name: str
    pipeline: str
    color: str
    count: int
    amount: Decimal
    share: int = 0  # the bar's length, percent of the largest amount (0..100)


@dataclass
class PersonFigure:
    user_id: int
    name: str
    open_count: int = 0
    open_amount: Decimal = Decimal(0)
    won_count: int = 0
    revenue: Decimal = Decimal(0)
    overdue_tasks: int = 0
    share: int = 0  # revenue against the best in the team, percent


@dataclass
class Month:
    start: date
    won_count: int
    revenue: Decimal
    lost_count: int
    new_count: int
    # No sales-target model exists yet: a later issue adds targets; the page shows none.
    target: Decimal | None = None


@dataclass
class Home:
    scope: str  # "own", "team" or "company"
    overdue: list[Task]
    today: list[Task]
    overdue_count: int
    today_count: int
    requests: list[Lead]
    new_requests: int
    requests_today: int
    stages: list[StageFigure]
    open_count: int
    open_amount: Decimal
    month: Month
    people: list[PersonFigure] = field(default_factory=list)

    @property
    def several_pipelines(self) -> bool:
        return len({s.pipeline for s in self.stages}) > 1


def _scope(membership: Membership) -> str:
    if membership.role in SEE_ALL:
        return "company"
    if membership.role == Role.HEAD:
        return "team"
    return "own"


def home_for(membership: Membership, company: Company) -> Home:
    zone = ZoneInfo(company.time_zone)
    now = timezone.now()
    local_today = now.astimezone(zone).date()
    start_of_today = datetime.combine(local_today, time.min, zone)
    end_of_today = start_of_today + timedelta(days=1)
    month_start = local_today.replace(day=1)
    start_of_month = datetime.combine(month_start, time.min, zone)

    # The member's own tasks: overdue and due today, with their counts (two queries).
    mine = Task.objects.filter(assignee_id=membership.user_id, done_at__isnull=True)
    due = list(
        mine.filter(deadline__lt=end_of_today).select_related("deal").order_by("deadline")[:200]
    )
    overdue = [t for t in due if t.deadline < now]
    today = [t for t in due if t.deadline >= now]

    # Requests: new ones the member may take (unassigned, or visible to her).
    leads = visible_leads(membership)
    counts = leads.aggregate(
        new=Count("id", filter=Q(status="new")),
        today=Count("id", filter=Q(created_at__gte=start_of_today)),
    )
    requests = list(leads.filter(status="new").order_by("-created_at", "-id")[:REQUESTS_SHOWN])

    # Deals in progress by stage, with sums (one aggregate and the stages).
    deals = visible(Deal.objects.all(), membership)
    by_stage = {
        row["stage_id"]: row
        for row in deals.filter(stage__outcome=Stage.Outcome.OPEN)
        .values("stage_id")
        .annotate(n=Count("id"), total=Sum("amount"))
    }
    stages = [
        StageFigure(
            stage_id=stage.pk,
            name=stage.name,
            pipeline=stage.pipeline.name,
            color=stage.color,
            count=by_stage.get(stage.pk, {}).get("n", 0),
            amount=by_stage.get(stage.pk, {}).get("total") or Decimal(0),
        )
        for stage in Stage.objects.filter(outcome=Stage.Outcome.OPEN)
        .select_related("pipeline")
        .order_by("pipeline__position", "pipeline_id", "position", "id")
        if stage.pk in by_stage or stage.pipeline.is_default
    ]
    top = max((s.amount for s in stages), default=Decimal(0))
    top_count = max((s.count for s in stages), default=0)
    for figure in stages:
        if top:
            figure.share = round(figure.amount / top * 100)
        elif top_count:
            figure.share = round(figure.count / top_count * 100)

    # This month: won, revenue, lost, new (one aggregate).
    won = Q(stage__outcome=Stage.Outcome.WON, closed_at__gte=start_of_month)
    figures = deals.aggregate(
        won=Count("id", filter=won),
        revenue=Sum("amount", filter=won),
        lost=Count(
            "id", filter=Q(stage__outcome=Stage.Outcome.LOST, closed_at__gte=start_of_month)
        ),
        new=Count("id", filter=Q(created_at__gte=start_of_month)),
    )
    month = Month(
        start=month_start,
        won_count=figures["won"],
        revenue=figures["revenue"] or Decimal(0),
        lost_count=figures["lost"],
        new_count=figures["new"],
    )
    scope = _scope(membership)
    return Home(
        scope=scope,
        overdue=overdue[:TASKS_SHOWN],
        today=today[:TASKS_SHOWN],
        overdue_count=len(overdue),
        today_count=len(today),
        requests=list(requests),
        new_requests=counts["new"],
        requests_today=counts["today"],
        stages=stages,
        open_count=sum(s.count for s in stages),
        open_amount=sum((s.amount for s in stages), Decimal(0)),
        month=month,
        people=_people(membership, now, start_of_month) if scope != "own" else [],
    )


def _people(membership: Membership, now: datetime, start_of_month: datetime) -> list[PersonFigure]:
    """Each person's figures for a head (her team) or the company (everyone with deals or
    tasks): three aggregates and the names."""
    ids = visible_user_ids(membership)
    deals = visible(Deal.objects.all(), membership)
    won = Q(stage__outcome=Stage.Outcome.WON, closed_at__gte=start_of_month)
    opened = Q(stage__outcome=Stage.Outcome.OPEN)
    people: dict[int, PersonFigure] = {}

    def person(user_id: int) -> PersonFigure:
        return people.setdefault(user_id, PersonFigure(user_id=user_id, name=""))

    for row in (
        deals.filter(responsible_id__isnull=False)
        .filter(opened | won)
        .values("responsible_id")
        .annotate(
            open_count=Count("id", filter=opened),
            open_amount=Sum("amount", filter=opened),
            won_count=Count("id", filter=won),
            revenue=Sum("amount", filter=won),
        )
    ):
        figure = person(row["responsible_id"])
        figure.open_count = row["open_count"]
        figure.open_amount = row["open_amount"] or Decimal(0)
        figure.won_count = row["won_count"]
        figure.revenue = row["revenue"] or Decimal(0)
    tasks = visible(Task.objects.all(), membership, field="assignee").filter(
        done_at__isnull=True, deadline__lt=now, assignee_id__isnull=False
    )
    for row in tasks.values("assignee_id").annotate(n=Count("id")):
        person(row["assignee_id"]).overdue_tasks = row["n"]
    if ids is not None:
        for user_id in ids:
            person(user_id)
    names = {
        user.pk: user.get_full_name() or user.email
        for user in User.objects.filter(pk__in=people).only("email", "full_name")
    }
    rows = [p for p in people.values() if p.user_id in names]
    for p in rows:
        p.name = names[p.user_id]
    top = max((p.revenue for p in rows), default=Decimal(0))
    for p in rows:
        p.share = round(p.revenue / top * 100) if top else 0
    return sorted(rows, key=lambda p: (-p.revenue, -p.open_amount, p.name))
