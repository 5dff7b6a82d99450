"""Reads for the console: companies with their billing, and the business's figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from billing.models import BillingLogEntry, FailedPayment, SeatSnapshot, Subscription
from tenants.models import Company

PAYING = (Company.Status.ACTIVE, Company.Status.PAST_DUE)


def companies(*, search: str = "", status: str = "", plan: str = "") -> QuerySet[Company]:
    rows = (
        Company.objects.select_related("subscription", "subscription__plan")
        .annotate(
            seats_used=Count(
                "memberships",
                filter=Q(memberships__is_active=True) & ~Q(memberships__role="read_only"),
                distinct=True,
            )
        )
        .order_by("-created_at", "-id")
    )
    if search:
        rows = rows.filter(
            Q(name__icontains=search)
            | Q(slug__icontains=search)
            | Q(memberships__user__email__icontains=search)
        ).distinct()
    if status:
        rows = rows.filter(status=status)
    if plan:
        rows = rows.filter(subscription__plan__code=plan)
    return rows


def mrr_of(company: Company) -> Decimal:
    """Monthly recurring revenue: paid seats × price, for companies that are paying."""
    subscription: Subscription | None = getattr(company, "subscription", None)
    if company.status not in PAYING or subscription is None or subscription.plan is None:
        return Decimal(0)
    if subscription.free_until and subscription.free_until > timezone.now():
        return Decimal(0)
    return subscription.plan.price_per_seat * subscription.paid_seats


def log_of(company: Company) -> QuerySet[BillingLogEntry]:
    return BillingLogEntry.objects.filter(company=company).select_related("actor")[:100]


@dataclass(frozen=True)
class Metrics:
    mrr: dict[str, Decimal]  # per currency: plans may be priced in different currencies
    paying: int
    trialing: int
    new_30d: int
    churned_30d: int
    failed_payments_30d: int
    trial_conversion: float | None  # share of companies older than a trial that pay
    new_by_week: list[tuple[datetime, int]]
    seats_by_day: list[tuple[date, int]]  # seats in use, from the nightly snapshots


def metrics(now: datetime | None = None) -> Metrics:
    now = now or timezone.now()
    month_ago = now - timedelta(days=30)
    mrr: dict[str, Decimal] = {}
    paying = Company.objects.filter(status__in=PAYING).select_related(
        "subscription", "subscription__plan"
    )
    for company in paying:
        amount = mrr_of(company)
        if amount:
            currency = company.subscription.plan.currency
            mrr[currency] = mrr.get(currency, Decimal(0)) + amount
    churned = (
        BillingLogEntry.objects.filter(created_at__gte=month_ago, message__contains="→ canceled")
        .values("company")
        .distinct()
        .count()
    )
    matured = Company.objects.filter(created_at__lt=now - timedelta(days=14))
    converted = matured.exclude(subscription__stripe_subscription_id="").filter(
        subscription__isnull=False
    )
    total = matured.count()
    weeks = (
        Company.objects.filter(created_at__gte=now - timedelta(weeks=12))
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("id"))
        .order_by("week")
    )
    return Metrics(
        mrr=mrr,
        paying=Company.objects.filter(status__in=PAYING).count(),
        trialing=Company.objects.filter(status=Company.Status.TRIALING).count(),
        new_30d=Company.objects.filter(created_at__gte=month_ago).count(),
        churned_30d=churned,
        # Failed attempts, not events: a duplicate or retried event is one attempt.
        failed_payments_30d=FailedPayment.objects.filter(failed_at__gte=month_ago).count(),
        trial_conversion=(converted.count() / total) if total else None,
        new_by_week=[(row["week"], row["n"]) for row in weeks],
        seats_by_day=[
            (row.day, row.seats_in_use)
            for row in SeatSnapshot.objects.filter(day__gte=(now - timedelta(days=90)).date())
        ],
    )
