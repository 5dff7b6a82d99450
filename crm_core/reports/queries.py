"""The sales reports: each one aggregate query in the database, within the member's visibility.

Every report starts from crm_core's visibility-scoped querysets (``visible_deals``,
``tasks_to_count``, ``visible_leads``, ``visible``) and narrows them by the filters, so a
manager sees only their own numbers and a head of sales their team's. The database groups
and counts (GROUP BY); Python only lays out the few result rows (one per stage, manager,
month, source or reason) — never a loop over deals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from crm_core.access import visible, visible_user_ids
from crm_core.currencies import sign as currency_sign
from crm_core.documents.models import Document, Kind
from crm_core.documents.queries import paid_sum
from crm_core.models import (
    Activity,
    Client,
    Deal,
    Employee,
    Pipeline,
    SalesTarget,
    Stage,
    StageChange,
    Team,
)
from crm_core.queries.clients import visible_clients
from crm_core.queries.deals import money_text, visible_deals
from crm_core.queries.home import remembered_deal_rows
from crm_core.queries.leads import visible_leads
from crm_core.queries.rates import Rates, rates_today
from crm_core.queries.targets import manager_targets, next_month
from crm_core.queries.tasks import tasks_to_count
from relata.db import connection
from tenants.models import Company, Membership, User


@dataclass(frozen=True)
class Scope:
    """Who asks and for what: the period (company time zone), the pipeline and the team."""

    membership: Membership
    start: datetime
    end: datetime  # exclusive
    pipeline: Pipeline | None
    team_user_ids: frozenset[int] | None  # None: no team chosen
    zone: ZoneInfo
    # Every amount in the company's base currency at today's rates (queries/rates.py says why
    # today's, not each deal's day).
    rates: Rates


def scope_for(
    membership: Membership,
    company: Company,
    *,
    date_from: date,
    date_to: date,
    pipeline: Pipeline | None = None,
    team: Team | None = None,
) -> Scope:
    zone = ZoneInfo(company.time_zone)
    team_ids = None
    if team is not None:
        team_ids = frozenset(
            Employee.objects.filter(team=team).values_list("user_id", flat=True)
        ) | ({team.head_id} if team.head_id else frozenset())
    return Scope(
        membership=membership,
        start=datetime.combine(date_from, time.min, zone),
        end=datetime.combine(date_to + timedelta(days=1), time.min, zone),
        pipeline=pipeline,
        team_user_ids=team_ids,
        zone=zone,
        rates=rates_today(company.currency, timezone.now().astimezone(zone).date()),
    )


def _in_team(queryset: QuerySet[Any], scope: Scope, person: str) -> QuerySet[Any]:
    """The team filter narrows what visibility already allows; it never widens it."""
    if scope.team_user_ids is None:
        return queryset
    return queryset.filter(**{f"{person}_id__in": scope.team_user_ids})


@dataclass
class Bar:
    label: str
    value: float
    text: str
    share: float = 0.0  # of the longest bar, 0..100


@dataclass
class Report:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Any]]
    bars: list[Bar] = field(default_factory=list)
    chart_title: str = ""
    rates: Rates | None = None

    # The columns holding amounts (Decimal cells): the page writes them with the money filter,
    # the Excel export keeps the numbers.
    money_columns: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        self.money_columns = frozenset(
            index
            for row in self.rows
            for index, cell in enumerate(row)
            if isinstance(cell, Decimal)
        )
        top = max((bar.value for bar in self.bars), default=0)
        for bar in self.bars:
            bar.share = round(bar.value / top * 100, 1) if top else 0.0


def _people(ids: Iterable[int | None]) -> dict[int | None, str]:
    wanted = {i for i in ids if i is not None}
    names: dict[int | None, str] = {None: _("Nobody")}
    for user in User.objects.filter(pk__in=wanted).only("email", "full_name"):
        names[user.pk] = user.get_full_name()
    return names


def _money(value: Decimal | None, currency: str) -> str:
    amount = money_text((value or Decimal(0)).quantize(Decimal(1)))
    return f"{amount}\N{NO-BREAK SPACE}{currency_sign(currency)}"


def _percent(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f} %" if whole else "—"


# --- funnel -------------------------------------------------------------------------------

FUNNEL_SQL = """
WITH d AS NOT MATERIALIZED ({deals}),
-- How many deals share each (furthest stage, won, lost): a handful of rows, so matching
-- them against the stages below costs nothing however many deals there are. DealReach holds
-- one row per deal, kept by triggers (reports 0001), so nothing is grouped per deal here.
shapes AS MATERIALIZED (
    SELECT r.furthest, r.won, r.lost, count(*) AS n
    FROM d JOIN reports_dealreach r ON r.deal_id = d.id
    GROUP BY r.furthest, r.won, r.lost
)
SELECT s.id, coalesce(sum(p.n), 0)
FROM crm_core_stage s
LEFT JOIN shapes p ON (s.outcome = 'open' AND (p.furthest >= s.position OR p.won))
                   OR (s.outcome = 'won' AND p.won)
                   OR (s.outcome = 'lost' AND p.lost)
WHERE s.pipeline_id = %s
GROUP BY s.id
"""


def funnel(scope: Scope) -> Report:
    """Of the deals created in the period, how many reached each stage.

    A deal reached a stage if its history (StageChange) or its current stage shows it there,
    or it went further: a deal moved straight from the first stage to the third passed the
    second too, and a won deal passed every open stage. Imported deals without history count
    by their current stage.
    """
    headers = [_("Stage"), _("Deals reached"), _("Of those entered"), _("From previous stage")]
    if scope.pipeline is None:
        return Report("funnel", str(_("Funnel conversion")), headers, [])
    deals = _in_team(
        visible_deals(scope.membership).filter(
            pipeline=scope.pipeline, created_at__gte=scope.start, created_at__lt=scope.end
        ),
        scope,
        "responsible",
    )
    sql, params = deals.order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(FUNNEL_SQL.format(deals=sql), [*params, scope.pipeline.pk])
        reached = {stage_id: int(n) for stage_id, n in cursor.fetchall()}
    stages = list(scope.pipeline.stages.filter(is_archived=False).order_by("position", "id"))
    entered = reached.get(stages[0].pk, 0) if stages else 0
    rows: list[list[Any]] = []
    bars: list[Bar] = []
    previous = None
    for stage in stages:
        n = reached.get(stage.pk, 0)
        from_previous = (
            _percent(n, previous)
            if previous is not None and stage.outcome != Stage.Outcome.LOST
            else "—"
        )
        rows.append([stage.name, n, _percent(n, entered), from_previous])
        bars.append(Bar(stage.name, n, f"{n} · {_percent(n, entered)}"))
        if stage.outcome != Stage.Outcome.LOST:
            previous = n
    return Report(
        "funnel", str(_("Funnel conversion")), headers, rows, bars, str(_("Deals by stage"))
    )


# --- won and lost by manager and month ----------------------------------------------------


def results(scope: Scope) -> Report:
    """Deals closed in the period, won and lost, and the revenue of the won, per manager and
    month (months in the company's time zone)."""
    deals = visible_deals(scope.membership).filter(
        closed_at__gte=scope.start,
        closed_at__lt=scope.end,
        stage__outcome__in=[Stage.Outcome.WON, Stage.Outcome.LOST],
    )
    if scope.pipeline is not None:
        deals = deals.filter(pipeline=scope.pipeline)
    deals = _in_team(deals, scope, "responsible")
    won = Q(stage__outcome=Stage.Outcome.WON)
    grouped = remembered_deal_rows(
        deals.order_by()
        .annotate(month=TruncMonth("closed_at", tzinfo=scope.zone))
        .values("responsible_id", "month")
        .annotate(
            won=Count("id", filter=won),
            lost=Count("id", filter=Q(stage__outcome=Stage.Outcome.LOST)),
            revenue=Sum(scope.rates.in_base(), filter=won),
        )
        .order_by("month", "responsible_id"),
        scope.membership.company_id,
    )
    targets = _targets_of(scope)
    # A manager with a target and nothing closed yet that month still has a row (at 0 %).
    seen = {(row["responsible_id"], row["month"].date()) for row in grouped}
    for user_id, month in targets:
        if (user_id, month) not in seen:
            grouped.append(
                {
                    "responsible_id": user_id,
                    "month": datetime.combine(month, time.min, scope.zone),
                    "won": 0,
                    "lost": 0,
                    "revenue": Decimal(0),
                }
            )
    grouped.sort(key=lambda row: (row["month"], row["responsible_id"] or 0))
    paid = _paid_by_invoices(deals.filter(won), scope)
    names = _people(row["responsible_id"] for row in grouped)
    rows = [
        [
            names.get(row["responsible_id"], "—"),
            date_format(row["month"], "YEAR_MONTH_FORMAT"),
            row["won"],
            row["lost"],
            _percent(row["won"], row["won"] + row["lost"]),
            row["revenue"] or Decimal(0),
            paid.get((row["responsible_id"], row["month"].date()), Decimal(0)),
            *_against_target(
                targets.get((row["responsible_id"], row["month"].date()), {}),
                dict(row),
                scope.rates.base,
            ),
        ]
        for row in grouped
    ]
    per_manager: dict[int | None, Decimal] = {}
    for row in grouped:
        per_manager[row["responsible_id"]] = per_manager.get(row["responsible_id"], Decimal(0)) + (
            row["revenue"] or Decimal(0)
        )
    bars = [
        Bar(names.get(person, "—"), float(total), _money(total, scope.rates.base))
        for person, total in sorted(per_manager.items(), key=lambda item: -item[1])
    ]
    return Report(
        "results",
        str(_("Won and lost by manager and month")),
        [
            _("Manager"),
            _("Month"),
            _("Won"),
            _("Lost"),
            _("Win rate"),
            _("Revenue"),
            _("Paid by invoices"),
            _("Target"),
            _("Target done"),
        ],
        rows,
        bars,
        str(_("Revenue by manager")),
    )


def _paid_by_invoices(won: QuerySet[Deal], scope: Scope) -> dict[tuple[int | None, date], Decimal]:
    """What the won deals' invoices brought in, as the company's accounting (1C) reported
    their payment, per manager and month the deal was won — in the base currency (an invoice
    is in its deal's currency)."""
    rows = (
        Document.objects.filter(kind=Kind.INVOICE, paid_at__isnull=False, deal__in=won)
        .order_by()
        .annotate(month=TruncMonth("deal__closed_at", tzinfo=scope.zone))
        .values("deal__responsible_id", "month")
        # Paid without a sum reported counts as the invoice's total, as on the deal's card.
        .annotate(total=Sum(scope.rates.in_base(paid_sum(), "deal__currency")))
    )
    return {
        (row["deal__responsible_id"], row["month"].date()): row["total"] or Decimal(0)
        for row in rows
    }


def _targets_of(scope: Scope) -> dict[tuple[int, date], dict[str, Decimal]]:
    """The managers' targets of the period's months, for those the member may see."""
    ids = visible_user_ids(scope.membership)
    if scope.team_user_ids is not None:
        ids = set(scope.team_user_ids) if ids is None else ids & scope.team_user_ids
    first = scope.start.astimezone(scope.zone).date().replace(day=1)
    last = (scope.end - timedelta(days=1)).astimezone(scope.zone).date()
    return manager_targets(first, next_month(last.replace(day=1)), ids)


def _against_target(targets: dict[str, Decimal], row: dict[str, Any], currency: str) -> list[str]:
    """The target's text and how much of it is done: revenue against a sum, won deals against
    a number (both when both are set)."""
    texts, done = [], []
    amount = targets.get(SalesTarget.Kind.AMOUNT)
    if amount is not None:
        texts.append(_money(amount, currency))
        done.append(_percent_of(row["revenue"] or Decimal(0), amount))
    count = targets.get(SalesTarget.Kind.WON_DEALS)
    if count is not None:
        texts.append(ngettext("%(n)s deal", "%(n)s deals", int(count)) % {"n": int(count)})
        done.append(_percent_of(Decimal(row["won"]), count))
    return [" · ".join(texts) or "—", " · ".join(done) or "—"]


def _percent_of(done: Decimal, target: Decimal) -> str:
    return f"{done / target * 100:.0f} %" if target else "—"


# --- forecast -----------------------------------------------------------------------------


def forecast(scope: Scope) -> Report:
    """The weighted pipeline by month of expected close, per manager and per team.

    A deal counts its amount times its stage's probability; a won deal 100 % (the money is in),
    a lost one 0 % (so lost deals are left out). The period filters the expected close date;
    deals without one come in a row of their own, whatever the period. One grouped query by
    (month, manager, stage): Python only weighs and lays out those rows.
    """
    deals = visible_deals(scope.membership).exclude(stage__outcome=Stage.Outcome.LOST)
    if scope.pipeline is not None:
        deals = deals.filter(pipeline=scope.pipeline)
    deals = _in_team(deals, scope, "responsible")
    first = scope.start.astimezone(scope.zone).date()
    last = (scope.end - timedelta(days=1)).astimezone(scope.zone).date()
    deals = deals.filter(
        Q(expected_close__gte=first, expected_close__lte=last) | Q(expected_close__isnull=True)
    )
    grouped = remembered_deal_rows(
        deals.order_by()
        .annotate(month=TruncMonth("expected_close"))
        .values("month", "responsible_id", "stage_id")
        .annotate(n=Count("id"), total=Sum(scope.rates.in_base())),
        scope.membership.company_id,
    )
    stages = {s.pk: s for s in Stage.objects.filter(pk__in={r["stage_id"] for r in grouped})}
    names = _people(row["responsible_id"] for row in grouped)
    teams = dict(
        Employee.objects.filter(user_id__in=[r["responsible_id"] for r in grouped])
        .exclude(team=None)
        .values_list("user_id", "team__name")
    )
    cells: dict[Any, dict[int | None, list[Any]]] = {}
    for row in grouped:
        stage = stages[row["stage_id"]]
        amount = row["total"] or Decimal(0)
        cell = cells.setdefault(row["month"], {}).setdefault(
            row["responsible_id"], [0, Decimal(0), Decimal(0), Decimal(0)]
        )
        cell[0] += row["n"]
        cell[1] += amount
        if stage.outcome == Stage.Outcome.WON:
            cell[2] += amount
        cell[3] += amount * stage.forecast_percent / 100
    rows: list[list[Any]] = []
    bars: list[Bar] = []
    grand: list[Any] = [0, Decimal(0), Decimal(0), Decimal(0)]
    months = sorted(cells, key=lambda m: (m is None, m))
    for month in months:
        label = date_format(month, "YEAR_MONTH_FORMAT") if month else _("No expected close")
        people = cells[month]
        month_total: list[Any] = [0, Decimal(0), Decimal(0), Decimal(0)]
        per_team: dict[str, list[Any]] = {}
        for person in sorted(people, key=lambda p: names.get(p, "")):
            figures = people[person]
            team = teams.get(person, "") if person is not None else ""
            rows.append([label, names.get(person, "—"), team, *_rounded(figures)])
            _add(month_total, figures)
            if team:
                _add(per_team.setdefault(team, [0, Decimal(0), Decimal(0), Decimal(0)]), figures)
        for team, figures in sorted(per_team.items()):
            rows.append([label, _("Team total"), team, *_rounded(figures)])
        subtotal = _("Month total") if month else _("Subtotal")
        rows.append([label, subtotal, "", *_rounded(month_total)])
        _add(grand, month_total)
        bars.append(
            Bar(str(label), float(month_total[3]), _money(month_total[3], scope.rates.base))
        )
    if rows:
        rows.append([_("Total"), "", "", *_rounded(grand)])
    return Report(
        "forecast",
        str(_("Sales forecast")),
        [
            _("Expected close"),
            _("Manager"),
            _("Team"),
            _("Deals"),
            _("Amount"),
            _("Already won"),
            _("Forecast"),
        ],
        rows,
        bars,
        str(_("Forecast by month")),
    )


def _add(total: list[Any], figures: list[Any]) -> None:
    for index, value in enumerate(figures):
        total[index] += value


def _rounded(figures: list[Any]) -> list[Any]:
    n, amount, won, weighted = figures
    return [n, amount, won, Decimal(weighted).quantize(Decimal("0.01"))]


# --- activity -----------------------------------------------------------------------------


def activity(scope: Scope) -> Report:
    """Calls and meetings logged in the period, and tasks due in it: done on time, done late,
    still open past the deadline — per manager."""
    logged = _in_team(
        visible(Activity.objects.all(), scope.membership, field="author").filter(
            kind__in=[Activity.Kind.CALL, Activity.Kind.MEETING],
            happened_at__gte=scope.start,
            happened_at__lt=scope.end,
        ),
        scope,
        "author",
    )
    calls = {
        row["author_id"]: row
        for row in logged.order_by()
        .values("author_id")
        .annotate(
            calls=Count("id", filter=Q(kind=Activity.Kind.CALL)),
            meetings=Count("id", filter=Q(kind=Activity.Kind.MEETING)),
        )
    }
    now = timezone.now()
    tasks = _in_team(
        tasks_to_count(scope.membership).filter(deadline__gte=scope.start, deadline__lt=scope.end),
        scope,
        "assignee",
    )
    done_by = {
        row["assignee_id"]: row
        for row in tasks.order_by()
        .values("assignee_id")
        .annotate(
            on_time=Count("id", filter=Q(done_at__lte=F("deadline"))),
            late=Count("id", filter=Q(done_at__gt=F("deadline"))),
            overdue=Count("id", filter=Q(done_at__isnull=True, deadline__lt=now)),
        )
    }
    people = set(calls) | set(done_by)
    names = _people(people)
    empty: dict[str, int] = {}
    rows = []
    bars = []
    for person in sorted(people, key=lambda p: names.get(p, "")):
        c, t = calls.get(person, empty), done_by.get(person, empty)
        rows.append(
            [
                names.get(person, "—"),
                c.get("calls", 0),
                c.get("meetings", 0),
                t.get("on_time", 0),
                t.get("late", 0),
                t.get("overdue", 0),
            ]
        )
        contacts = c.get("calls", 0) + c.get("meetings", 0)
        bars.append(Bar(names.get(person, "—"), contacts, str(contacts)))
    return Report(
        "activity",
        str(_("Activity by manager")),
        [
            _("Manager"),
            _("Calls"),
            _("Meetings"),
            _("Tasks done on time"),
            _("Tasks done late"),
            _("Tasks overdue"),
        ],
        rows,
        bars,
        str(_("Calls and meetings")),
    )


# --- requests by source -------------------------------------------------------------------


def requests(scope: Scope) -> Report:
    """Requests received in the period by source, and how many became won deals."""
    leads = visible_leads(scope.membership).filter(
        created_at__gte=scope.start, created_at__lt=scope.end
    )
    leads = _in_team(leads, scope, "responsible")
    grouped = list(
        leads.order_by()
        .values("source")
        .annotate(
            total=Count("id"),
            converted=Count("id", filter=Q(status="converted")),
            won=Count("id", filter=Q(deal__stage__outcome=Stage.Outcome.WON)),
            revenue=Sum(
                scope.rates.in_base("deal__amount", "deal__currency"),
                filter=Q(deal__stage__outcome=Stage.Outcome.WON),
            ),
        )
        .order_by("-total", "source")
    )
    rows = [
        [
            row["source"] or _("(no source)"),
            row["total"],
            row["converted"],
            row["won"],
            _percent(row["won"], row["total"]),
            row["revenue"] or Decimal(0),
        ]
        for row in grouped
    ]
    bars = [
        Bar(row["source"] or str(_("(no source)")), row["total"], str(row["total"]))
        for row in grouped
    ]
    return Report(
        "requests",
        str(_("Requests by source")),
        [
            _("Source"),
            _("Requests"),
            _("Made into deals"),
            _("Won"),
            _("Conversion into won"),
            _("Revenue"),
        ],
        rows,
        bars,
        str(_("Requests by source")),
    )


# --- reasons for losing -------------------------------------------------------------------


def lost_reasons(scope: Scope) -> Report:
    deals = visible_deals(scope.membership).filter(
        stage__outcome=Stage.Outcome.LOST, closed_at__gte=scope.start, closed_at__lt=scope.end
    )
    if scope.pipeline is not None:
        deals = deals.filter(pipeline=scope.pipeline)
    deals = _in_team(deals, scope, "responsible")
    grouped = list(
        deals.order_by()
        .values("lost_reason")
        .annotate(n=Count("id"), amount=Sum(scope.rates.in_base()))
        .order_by("-n", "lost_reason")[:50]
    )
    total = sum(row["n"] for row in grouped)
    rows = [
        [
            row["lost_reason"] or _("(not given)"),
            row["n"],
            _percent(row["n"], total),
            row["amount"] or Decimal(0),
        ]
        for row in grouped
    ]
    bars = [
        Bar(row["lost_reason"] or str(_("(not given)")), row["n"], str(row["n"])) for row in grouped
    ]
    return Report(
        "lost",
        str(_("Reasons for losing")),
        [_("Reason"), _("Deals"), _("Share"), _("Amount")],
        rows,
        bars,
        str(_("Lost deals by reason")),
    )


# --- time in stage ------------------------------------------------------------------------


def stage_time(scope: Scope) -> Report:
    """How long deals stayed in each stage, from the moves out of it made in the period."""
    headers = [_("Stage"), _("Deals moved on"), _("Average days"), _("Average hours")]
    if scope.pipeline is None:
        return Report("stage_time", str(_("Average time in stage")), headers, [])
    moves = _in_team(
        visible(StageChange.objects.all(), scope.membership, field="deal__responsible").filter(
            from_stage__pipeline=scope.pipeline,
            changed_at__gte=scope.start,
            changed_at__lt=scope.end,
        ),
        scope,
        "deal__responsible",
    )
    by_stage = {
        row["from_stage_id"]: row
        for row in moves.order_by()
        .values("from_stage_id")
        .annotate(n=Count("id"), seconds=Avg("seconds_in_previous"))
    }
    rows = []
    bars = []
    for stage in scope.pipeline.stages.filter(
        outcome=Stage.Outcome.OPEN, is_archived=False
    ).order_by("position", "id"):
        row = by_stage.get(stage.pk)
        seconds = float(row["seconds"]) if row else 0.0
        rows.append(
            [
                stage.name,
                row["n"] if row else 0,
                round(seconds / 86400, 1),
                round(seconds / 3600, 1),
            ]
        )
        bars.append(Bar(stage.name, seconds, _("%(days)s d") % {"days": round(seconds / 86400, 1)}))
    return Report(
        "stage_time",
        str(_("Average time in stage")),
        headers,
        rows,
        bars,
        str(_("Average days in stage")),
    )


# --- clients, partners and suppliers ------------------------------------------------------


def client_base(scope: Scope) -> Report:
    """The client base by relationship (clients, partners, suppliers): how many there are, how
    many were added in the period, and the deals won with them in the period. Two GROUP BY
    queries; the team filter goes by the client's and the deal's responsible."""
    clients = _in_team(visible_clients(scope.membership), scope, "responsible")
    added = Q(created_at__gte=scope.start, created_at__lt=scope.end)
    counted = {
        row["relationship"]: row
        for row in clients.order_by()
        .values("relationship")
        .annotate(total=Count("id"), added=Count("id", filter=added))
    }
    deals = visible_deals(scope.membership).filter(
        stage__outcome=Stage.Outcome.WON,
        closed_at__gte=scope.start,
        closed_at__lt=scope.end,
        client__isnull=False,
    )
    if scope.pipeline is not None:
        deals = deals.filter(pipeline=scope.pipeline)
    won = {
        row["client__relationship"]: row
        for row in _in_team(deals, scope, "responsible")
        .order_by()
        .values("client__relationship")
        .annotate(n=Count("id"), revenue=Sum(scope.rates.in_base()))
    }
    rows: list[list[Any]] = []
    bars: list[Bar] = []
    for value, label in Client.Relationship.choices:
        count = counted.get(value, {})
        sold = won.get(value, {})
        total = int(count.get("total", 0))
        rows.append(
            [
                str(label),
                total,
                int(count.get("added", 0)),
                int(sold.get("n", 0)),
                sold.get("revenue") or Decimal(0),
            ]
        )
        bars.append(Bar(str(label), total, str(total)))
    return Report(
        "clients",
        str(_("Clients, partners and suppliers")),
        [
            _("Relationship"),
            _("In the base"),
            _("Added in the period"),
            _("Deals won"),
            _("Revenue"),
        ],
        rows,
        bars,
        str(_("Records in the base")),
    )


REPORTS: dict[str, tuple[Any, Callable[[Scope], Report]]] = {
    "funnel": (gettext_lazy("Funnel conversion"), funnel),
    "results": (gettext_lazy("Won and lost by manager and month"), results),
    "activity": (gettext_lazy("Activity by manager"), activity),
    "requests": (gettext_lazy("Requests by source"), requests),
    "lost": (gettext_lazy("Reasons for losing"), lost_reasons),
    "stage_time": (gettext_lazy("Average time in stage"), stage_time),
    "clients": (gettext_lazy("Clients, partners and suppliers"), client_base),
    "forecast": (gettext_lazy("Sales forecast"), forecast),
}


def register_report(key: str, title: Any, build: Callable[[Scope], Report]) -> None:
    """A report of another part of the product (communications' first reply), listed with
    these without crm_core importing it."""
    REPORTS[key] = (title, build)


# Reports about what is still to come: their default period starts this month.
LOOKING_AHEAD = frozenset({"forecast"})
