"""What the company's home page shows to the member who opens it.

A manager sees her own figures, a head of sales her team's (the teams she heads, and her own),
an owner, administrator or read-only member the company's — the same record visibility as
everywhere (crm_core.access). Every figure is an aggregate in the database; the page costs the
same handful of queries however many deals, tasks and requests there are.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from crm_core.access import SEE_ALL, visible_user_ids
from crm_core.models import Deal, Lead, Stage, Task
from crm_core.queries.leads import visible_leads
from crm_core.queries.rates import Rates, rates_today
from crm_core.queries.targets import Progress, progress_for
from crm_core.queries.tasks import open_tasks_of
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
    rates: Rates  # the sums are in its base currency, at its day's rates
    people: list[PersonFigure] = field(default_factory=list)
    targets: list[Progress] = field(default_factory=list)
    # Whose records the figures count (None: everyone's), for the page's other panels.
    user_ids: set[int] | None = None
    today_local: date | None = None  # the company's day the month's figures are of

    @property
    def several_pipelines(self) -> bool:
        return len({s.pipeline for s in self.stages}) > 1


def _scope(membership: Membership) -> str:
    if membership.role in SEE_ALL:
        return "company"
    if membership.role == Role.HEAD:
        return "team"
    return "own"


def home_for(membership: Membership, company: Company, person_zone: tzinfo | None = None) -> Home:
    """``person_zone``: the zone the person reads their day in (their profile's, else the
    company's): "today" for their tasks and requests. The month's figures are the company's
    month, the same for everyone who sees them."""
    zone = ZoneInfo(company.time_zone)
    now = timezone.now()
    local_today = now.astimezone(zone).date()
    day_zone = person_zone or zone
    start_of_today = datetime.combine(now.astimezone(day_zone).date(), time.min, day_zone)
    end_of_today = start_of_today + timedelta(days=1)
    month_start = local_today.replace(day=1)
    start_of_month = datetime.combine(month_start, time.min, zone)
    ids = visible_user_ids(membership)  # once: a head's team costs a query
    rates = rates_today(company.currency, local_today)
    scope = _scope(membership)

    # The member's own tasks: overdue and due today, each list short, with their counts.
    tasks = open_tasks_of(
        membership.user_id,
        now,
        end_of_today,
        shown=TASKS_SHOWN,
        upcoming=False,
        related=("deal",),
    )

    # Requests: new ones the member may take (unassigned, or visible to her).
    leads = visible_leads(membership)
    lead_counts = leads.aggregate(
        new=Count("id", filter=Q(status="new")),
        today=Count("id", filter=Q(created_at__gte=start_of_today)),
    )
    requests = list(leads.filter(status="new").order_by("-created_at", "-id")[:REQUESTS_SHOWN])

    # Deals: one grouped aggregate by (person, stage) of the deals in progress and those closed
    # or opened this month; the stage figures, the month and each person's come from its rows.
    stage_rows = list(
        # Archived stages hold no deals (their deals were moved out); they only keep history.
        Stage.objects.filter(is_archived=False)
        .select_related("pipeline")
        .order_by("pipeline__position", "pipeline_id", "position", "id")
    )
    outcome = {stage.pk: stage.outcome for stage in stage_rows}
    open_ids = [pk for pk, kind in outcome.items() if kind == Stage.Outcome.OPEN]
    rows = _deal_figures(company, ids, open_ids, start_of_month, rates)
    by_stage: dict[int, tuple[int, Decimal]] = {}
    month = Month(start=month_start, won_count=0, revenue=Decimal(0), lost_count=0, new_count=0)
    people: dict[int, PersonFigure] = {}
    for row in rows:
        kind = outcome.get(row["stage_id"])
        person = (
            people.setdefault(row["responsible_id"], PersonFigure(row["responsible_id"], ""))
            if row["responsible_id"] is not None
            else None
        )
        month.new_count += row["new_n"]
        if kind == Stage.Outcome.OPEN:
            count, amount = by_stage.get(row["stage_id"], (0, Decimal(0)))
            by_stage[row["stage_id"]] = (count + row["n"], amount + (row["total"] or 0))
            if person is not None:
                person.open_count += row["n"]
                person.open_amount += row["total"] or 0
        elif kind == Stage.Outcome.WON:
            month.won_count += row["closed_n"]
            month.revenue += row["closed_total"] or 0
            if person is not None:
                person.won_count += row["closed_n"]
                person.revenue += row["closed_total"] or 0
        elif kind == Stage.Outcome.LOST:
            month.lost_count += row["closed_n"]
    stages = [
        StageFigure(
            stage_id=stage.pk,
            name=stage.name,
            pipeline=stage.pipeline.name,
            color=stage.color,
            count=by_stage.get(stage.pk, (0, Decimal(0)))[0],
            amount=by_stage.get(stage.pk, (0, Decimal(0)))[1],
        )
        for stage in stage_rows
        if stage.outcome == Stage.Outcome.OPEN
        and (stage.pk in by_stage or stage.pipeline.is_default)
    ]
    _bar_lengths(stages)
    return Home(
        scope=scope,
        overdue=tasks.overdue,
        today=tasks.today,
        overdue_count=tasks.overdue_count,
        today_count=tasks.today_count,
        requests=requests,
        new_requests=lead_counts["new"],
        requests_today=lead_counts["today"],
        stages=stages,
        open_count=sum(s.count for s in stages),
        open_amount=sum((s.amount for s in stages), Decimal(0)),
        month=month,
        rates=rates,
        people=_people(people, ids, now) if scope != "own" else [],
        targets=progress_for(membership, company, local_today, rates),
        user_ids=ids,
        today_local=local_today,
    )


# The deal figures group every deal in progress by person and stage: at 200,000 deals that is a
# scan of ~100 ms of database time on each visit to the home page, the costliest query of a
# salesperson's day. They are kept for a minute per scope (everyone who sees the whole company
# shares one entry) and forgotten as soon as a deal is created, moved or changed through the
# services (forget_home_figures). The task and request lists above stay live.
FIGURES_SECONDS = 60
_VERSION_KEY = "home-figures-version"


def figures_version() -> str:
    """The home figures' current version: part of every cached figure's key (the month chart's
    too), so forget_home_figures drops them all at once."""
    return str(cache.get(_VERSION_KEY) or "0")


def _deal_figures(
    company: Company,
    ids: set[int] | None,
    open_ids: list[int],
    start_of_month: datetime,
    rates: Rates,
) -> list[dict[str, Any]]:
    # Sorted, so that the same people make the same query and share one cache entry.
    deals = (
        Deal.objects.all() if ids is None else Deal.objects.filter(responsible_id__in=sorted(ids))
    )
    closed_this_month = Q(closed_at__gte=start_of_month)
    new_this_month = Q(created_at__gte=start_of_month)
    return remembered_deal_rows(
        deals.filter(Q(stage_id__in=open_ids) | closed_this_month | new_this_month)
        .values("responsible_id", "stage_id")
        .annotate(
            n=Count("id"),
            total=Sum(rates.in_base()),
            closed_n=Count("id", filter=closed_this_month),
            closed_total=Sum(rates.in_base(), filter=closed_this_month),
            new_n=Count("id", filter=new_this_month),
        )
        .order_by(),
        company.pk,
    )


def remembered_deal_rows(rows: QuerySet[Any], company_id: int) -> list[dict[str, Any]]:
    """The rows of a grouped query over deals (the home figures', a report's), kept for
    FIGURES_SECONDS and forgotten on any change of a deal or a stage (figures_version). The key
    is the query itself — its SQL and parameters carry the person's visibility, period,
    pipeline, team, time zone and rates — so two people share an entry only when they ask the
    same. The key function prefixes the company's schema; the company's id guards against a
    schema name reused by another company."""
    sql, params = rows.query.sql_with_params()
    key = (
        "deal-rows:"
        + hashlib.sha256(f"{company_id}|{figures_version()}|{sql}|{params!r}".encode()).hexdigest()
    )
    found = cache.get(key)
    if found is not None:
        return list(found)
    result = list(rows)
    cache.set(key, result, FIGURES_SECONDS)
    return result


def forget_home_figures(**_kwargs: object) -> None:
    """A deal was created, moved, changed or deleted: the home pages count again."""
    cache.set(_VERSION_KEY, uuid.uuid4().hex, None)


def _bar_lengths(stages: list[StageFigure]) -> None:
    """Each stage's bar against the largest sum (against the largest count when no deal has
    an amount)."""
    top = max((s.amount for s in stages), default=Decimal(0))
    top_count = max((s.count for s in stages), default=0)
    for figure in stages:
        if top:
            figure.share = round(figure.amount / top * 100)
        elif top_count:
            figure.share = round(figure.count / top_count * 100)


def _people(
    people: dict[int, PersonFigure], ids: set[int] | None, now: datetime
) -> list[PersonFigure]:
    """Each person's figures for a head (her team) or the company (everyone with deals or
    tasks): their overdue tasks and names added to what the deals gave (two queries)."""
    tasks = Task.objects.filter(done_at__isnull=True, deadline__lt=now, assignee_id__isnull=False)
    if ids is not None:
        tasks = tasks.filter(assignee_id__in=ids)
        for user_id in ids:
            people.setdefault(user_id, PersonFigure(user_id, ""))
    for row in tasks.values("assignee_id").annotate(n=Count("id")).order_by():
        people.setdefault(
            row["assignee_id"], PersonFigure(row["assignee_id"], "")
        ).overdue_tasks = row["n"]
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
