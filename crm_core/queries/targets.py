"""Reads of sales targets: the admin's month grid, and progress against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum

from crm_core.access import SEE_ALL
from crm_core.models import Deal, Employee, SalesTarget, Stage, Team
from crm_core.queries.rates import Rates, rates_today
from tenants.models import Company, Membership


def months_of(year: int) -> list[date]:
    return [date(year, month, 1) for month in range(1, 13)]


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def owner_key(user_id: int | None, team_id: int | None) -> str:
    """A grid row's key: ``u<id>`` a manager, ``t<id>`` a team, ``c`` the whole company."""
    if user_id is not None:
        return f"u{user_id}"
    if team_id is not None:
        return f"t{team_id}"
    return "c"


def target_grid(year: int, kind: str) -> dict[tuple[str, date], Decimal]:
    """Every target of the year of one kind, by (row key, month): one query."""
    return {
        (owner_key(t.user_id, t.team_id), t.month): t.value
        for t in SalesTarget.objects.filter(
            kind=kind, month__gte=date(year, 1, 1), month__lt=date(year + 1, 1, 1)
        )
    }


def team_members(team: Team) -> set[int]:
    members = set(Employee.objects.filter(team=team).values_list("user_id", flat=True))
    return members | ({team.head_id} if team.head_id else set())


def won_in_month(
    user_ids: set[int] | None, month: date, zone: ZoneInfo, rates: Rates
) -> tuple[int, Decimal]:
    """How many deals the people (None: everyone) won in the month, and their sum in the base
    currency (``rates``)."""
    start = datetime.combine(month, time.min, zone)
    end = datetime.combine(next_month(month), time.min, zone)
    deals = Deal.objects.filter(
        stage__outcome=Stage.Outcome.WON, closed_at__gte=start, closed_at__lt=end
    )
    if user_ids is not None:
        deals = deals.filter(responsible_id__in=user_ids)
    row = deals.aggregate(n=Count("id"), total=Sum(rates.in_base()))
    return row["n"] or 0, row["total"] or Decimal(0)


@dataclass
class Progress:
    """A target and what is done towards it this month."""

    label: str  # whose: a team's name; empty for the member's own or the company's
    scope: str  # "own", "team" or "company"
    kind: str
    target: Decimal
    done: Decimal

    @property
    def percent(self) -> int:
        return round(self.done / self.target * 100) if self.target else 0

    @property
    def bar(self) -> int:
        """The bar's length (0..100): past the target it stays full."""
        return min(self.percent, 100)


def progress_for(
    membership: Membership, company: Company, today: date, rates: Rates | None = None
) -> list[Progress]:
    """The targets the member's home page shows for this month: a manager her own, a head of
    sales the teams she heads, an owner, admin or read-only member the company's."""
    zone = ZoneInfo(company.time_zone)
    month = today.replace(day=1)
    targets = SalesTarget.objects.filter(month=month).select_related("team")
    rows: list[tuple[str, str, set[int] | None, SalesTarget]] = []
    if membership.role in SEE_ALL:
        rows = [("", "company", None, t) for t in targets.filter(user=None, team=None)]
    elif membership.role == Membership.Role.HEAD:
        for target in targets.filter(team__head_id=membership.user_id).order_by("team__name"):
            assert target.team is not None
            rows.append((target.team.name, "team", team_members(target.team), target))
    rows += [("", "own", {membership.user_id}, t) for t in targets.filter(user=membership.user)]
    result = []
    done: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for label, scope, user_ids, target in rows:
        key = (scope, label)
        if key not in done:
            rates = rates or rates_today(company.currency, today)
            done[key] = won_in_month(user_ids, month, zone, rates)
        won, revenue = done[key]
        result.append(
            Progress(
                label=label,
                scope=scope,
                kind=target.kind,
                target=target.value,
                done=revenue if target.kind == SalesTarget.Kind.AMOUNT else Decimal(won),
            )
        )
    return result


def manager_targets(
    start: date, end: date, user_ids: set[int] | None
) -> dict[tuple[int, date], dict[str, Decimal]]:
    """Managers' targets of the months from ``start`` to ``end`` (exclusive), by (user, month)
    and kind — for the managers' report."""
    rows = SalesTarget.objects.filter(month__gte=start, month__lt=end, user__isnull=False)
    if user_ids is not None:
        rows = rows.filter(Q(user_id__in=user_ids))
    found: dict[tuple[int, date], dict[str, Decimal]] = {}
    for target in rows:
        assert target.user_id is not None
        found.setdefault((target.user_id, target.month), {})[target.kind] = target.value
    return found
