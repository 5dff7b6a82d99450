"""The home page's month chart: revenue won day by day this month, added up, beside last month
at the same day and the month's revenue target. Drawn in the browser by Chart.js (hovering a day
tells its figures); the numbers come from here, in the company's base currency and its days."""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm_core.models import Deal, Stage
from crm_core.queries.home import FIGURES_SECONDS, figures_version
from crm_core.queries.rates import Rates
from crm_core.queries.targets import next_month


@dataclass
class MonthChart:
    days: int  # in this month
    this_month: list[float]  # added up, one per day up to today
    last_month: list[float]  # added up, one per day of this month's length (or last's)
    target: float | None
    this_label: str
    last_label: str
    currency: str

    @property
    def so_far(self) -> Decimal:
        return Decimal(str(self.this_month[-1])) if self.this_month else Decimal(0)

    @property
    def last_by_now(self) -> Decimal:
        """Last month's revenue by the same day of the month (or by its end, if shorter)."""
        if not self.last_month:
            return Decimal(0)
        return Decimal(str(self.last_month[min(len(self.this_month), len(self.last_month)) - 1]))

    @property
    def has_revenue(self) -> bool:
        return bool(self.this_month and self.this_month[-1]) or bool(
            self.last_month and self.last_month[-1]
        )

    def as_data(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "this": self.this_month,
            "last": self.last_month,
            "target": self.target,
            "thisLabel": self.this_label,
            "lastLabel": self.last_label,
            "targetLabel": str(_("Target")),
            "currency": self.currency,
        }


def month_chart(
    *,
    company_id: int,
    ids: set[int] | None,
    zone: ZoneInfo,
    today: date,
    rates: Rates,
    target: Decimal | None,
) -> MonthChart:
    """``ids``: whose deals (None: the whole company's), as the home page's figures."""
    month = today.replace(day=1)
    last = (month - timedelta(days=1)).replace(day=1)
    per_day = _won_per_day(
        company_id=company_id, ids=ids, zone=zone, start=last, end=next_month(month), rates=rates
    )
    days = calendar.monthrange(month.year, month.month)[1]
    last_days = calendar.monthrange(last.year, last.month)[1]
    return MonthChart(
        days=days,
        this_month=_added_up(per_day, month, today.day),
        last_month=_added_up(per_day, last, min(days, last_days)),
        target=float(target) if target is not None else None,
        this_label=date_format(month, "F"),
        last_label=date_format(last, "F"),
        currency=rates.base,
    )


def _added_up(per_day: dict[date, Decimal], month: date, upto: int) -> list[float]:
    total = Decimal(0)
    points = []
    for day in range(1, upto + 1):
        total += per_day.get(month.replace(day=day), Decimal(0))
        points.append(float(round(total, 2)))
    return points


def _won_per_day(
    *,
    company_id: int,
    ids: set[int] | None,
    zone: ZoneInfo,
    start: date,
    end: date,
    rates: Rates,
) -> dict[date, Decimal]:
    # Kept as long as the home page's figures, and forgotten with them (forget_home_figures).
    version = figures_version()
    scope = "all" if ids is None else ",".join(str(i) for i in sorted(ids))
    key = (
        "home-chart:"
        + hashlib.sha256(
            f"{company_id}|{version}|{scope}|{start}|{end}|{zone.key}|{rates.base}|"
            f"{sorted(rates.rates.items())}".encode()
        ).hexdigest()
    )
    found = cache.get(key)
    if found is not None:
        return dict(found)
    deals = Deal.objects.filter(
        stage__outcome=Stage.Outcome.WON,
        closed_at__gte=datetime.combine(start, time.min, zone),
        closed_at__lt=datetime.combine(end, time.min, zone),
    )
    if ids is not None:
        deals = deals.filter(responsible_id__in=ids)
    rows = (
        deals.annotate(day=TruncDate("closed_at", tzinfo=zone))
        .values("day")
        .annotate(total=Sum(rates.in_base()))
        .order_by()
    )
    per_day = {row["day"]: row["total"] or Decimal(0) for row in rows}
    cache.set(key, per_day, FIGURES_SECONDS)
    return per_day
