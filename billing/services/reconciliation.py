"""The nightly comparison of our seats and states with Stripe's, repairing drift.

Webhooks can be lost for longer than Stripe retries them, and a seat change can fail for
good; this pass makes the two sides agree again and writes down every change it made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from billing import stripe_gateway
from billing.models import BillingLogEntry, SeatChange, Subscription
from billing.queries import seats_in_use
from billing.services import seats, subscriptions
from tenants.models import Company

logger = logging.getLogger(__name__)


@dataclass
class Report:
    checked: int = 0
    repaired: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def reconcile(now_stale: timedelta = timedelta(minutes=10)) -> Report:
    report = Report()
    for slug in subscriptions.expire_trials():
        report.repaired.append(f"{slug}: trial ended, read-only")
    if not stripe_gateway.live():
        return report
    # Every customer's subscriptions, not only the one we track: a second Checkout paid
    # before the first one's webhook is found here, canceled and reported to operators.
    for local in Subscription.objects.exclude(stripe_customer_id="").select_related("company"):
        try:
            for extra in subscriptions.cancel_extra_subscriptions(local, why="nightly check"):
                report.repaired.append(f"{local.company.slug}: extra subscription {extra}")
        except Exception as exc:
            logger.exception("checking %s's subscriptions failed", local.company.slug)
            report.errors.append(f"{local.company.slug}: {exc}")
    current = Subscription.objects.exclude(stripe_subscription_id="").exclude(
        stripe_status__in=subscriptions.TERMINAL
    )
    for local in current.select_related("company"):
        report.checked += 1
        company = local.company
        try:
            remote = stripe_gateway.retrieve_subscription(local.stripe_subscription_id)
            before = (local.stripe_status, company.status)
            subscription = subscriptions.sync_from_stripe(local, remote, why="nightly check")
            # Invoice events lost for good still reach the billing page.
            subscriptions.sync_invoices(subscription)
            company.refresh_from_db()
            if (subscription.stripe_status, company.status) != before:
                _note(company, f"state {before} → {(subscription.stripe_status, company.status)}")
                report.repaired.append(f"{company.slug}: state")
            if remote["status"] in subscriptions.TERMINAL:
                continue
            wanted = max(seats_in_use(company), 1)
            if subscription.paid_seats != wanted:
                _note(company, f"Stripe bills {subscription.paid_seats} seats, {wanted} in use")
                change = seats.record_change(company, reason="nightly reconciliation")
                seats.apply_change(change.pk)
                report.repaired.append(f"{company.slug}: seats {subscription.paid_seats}→{wanted}")
        except Exception as exc:
            logger.exception("reconciliation failed for %s", company.slug)
            BillingLogEntry.objects.create(
                company=company,
                kind=BillingLogEntry.Kind.FAILURE,
                message=f"nightly check failed: {type(exc).__name__}: {exc}",
            )
            report.errors.append(f"{company.slug}: {exc}")
    # Changes whose task never ran (broker down) are sent now.
    stale = SeatChange.objects.filter(
        state=SeatChange.State.PENDING, created_at__lt=timezone.now() - now_stale
    )
    for change in stale:
        try:
            seats.apply_change(change.pk)
        except seats.SeatSyncError as exc:
            report.errors.append(f"seat change {change.pk}: {exc}")
    return report


def _note(company: Company, message: str) -> None:
    BillingLogEntry.objects.create(
        company=company, kind=BillingLogEntry.Kind.DRIFT, message=message
    )
