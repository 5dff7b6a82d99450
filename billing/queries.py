"""Reads about plans, seats and a company's subscription."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from billing.models import FailedPayment, Invoice, Plan, SeatChange, Subscription
from tenants.models import Company, Invitation, Membership

FREE_ROLES = (Membership.Role.READ_ONLY,)


def public_plans() -> QuerySet[Plan]:
    return Plan.objects.filter(is_public=True)


def default_plan() -> Plan | None:
    return Plan.objects.filter(is_default=True).first() or public_plans().first()


def seats_in_use(company: Company) -> int:
    """Active members who can change data: the seats a company pays for."""
    return (
        Membership.objects.filter(company=company, is_active=True)
        .exclude(role__in=FREE_ROLES)
        .count()
    )


def seats_reserved(company: Company) -> int:
    """Open, unexpired invitations for a paid role: each will take a seat when accepted."""
    return (
        Invitation.objects.filter(
            company=company,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .exclude(role__in=FREE_ROLES)
        .count()
    )


def free_read_only(company: Company) -> int:
    return Membership.objects.filter(company=company, is_active=True, role__in=FREE_ROLES).count()


def subscription_of(company: Company) -> Subscription | None:
    return Subscription.objects.filter(company=company).select_related("plan").first()


def plan_of(company: Company) -> Plan | None:
    subscription = subscription_of(company)
    if subscription is not None and subscription.plan is not None:
        return subscription.plan
    return default_plan()


@dataclass(frozen=True)
class SeatSummary:
    used: int
    reserved: int
    read_only: int
    paid: int | None  # None while the company has no paid subscription (trial)
    cap: int | None
    price_per_seat: Decimal | None
    currency: str

    @property
    def price_label(self) -> str:
        """The seat's price as the billing pages write it ("990 ₽")."""
        from billing.templatetags.billing_format import price

        return price(self.price_per_seat, self.currency)

    @property
    def available(self) -> int | None:
        if self.cap is None:
            return None
        return max(self.cap - self.used - self.reserved, 0)


def seat_summary(company: Company) -> SeatSummary:
    subscription = subscription_of(company)
    plan = plan_of(company)
    paid = None
    if subscription is not None and subscription.stripe_subscription_id:
        paid = subscription.paid_seats
    return SeatSummary(
        used=seats_in_use(company),
        reserved=seats_reserved(company),
        read_only=free_read_only(company),
        paid=paid,
        cap=plan.seat_cap if plan else None,
        price_per_seat=plan.price_per_seat if plan else None,
        currency=plan.currency if plan else company.currency,
    )


def failed_seat_changes() -> QuerySet[SeatChange]:
    return SeatChange.objects.filter(state=SeatChange.State.FAILED).select_related("company")


def invoices_of(company: Company, limit: int = 24) -> list[Invoice]:
    """The company's latest invoices (our copies of Stripe's), newest first."""
    return list(Invoice.objects.filter(company=company)[:limit])


def failed_payments_of(company: Company, limit: int = 12) -> list[FailedPayment]:
    return list(FailedPayment.objects.filter(company=company)[:limit])


def monthly_total(seats: SeatSummary) -> Decimal | None:
    """What the next month costs at today's seats (paid seats once subscribed)."""
    if seats.price_per_seat is None:
        return None
    count = seats.paid if seats.paid is not None else max(seats.used, 1)
    return seats.price_per_seat * count
