"""Seats: the cap checked under a lock, each change recorded, and Stripe told afterwards.

A member is added or removed in our database at once, in the same transaction as a
``SeatChange`` row; the Stripe quantity follows through a Celery task keyed on that row. So a
Stripe outage never leaves a member half-added: the member is in, and the change waits (and
is retried, then shown to operators) until Stripe has it.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import stripe_gateway
from billing.models import BillingLogEntry, SeatChange, Subscription
from billing.queries import plan_of, seats_in_use, seats_reserved
from tenants.models import Company

logger = logging.getLogger(__name__)


def lock_company(company: Company) -> Company:
    """Lock the company's row until the transaction ends: seat checks are serialised per
    company, so two admins inviting at the same moment cannot both take the last seat."""
    return Company.objects.select_for_update().get(pk=company.pk)


def ensure_seat_free(company: Company, *, extra: int = 1) -> None:
    """Refuse (with the reason and the way out) if ``extra`` more paid seats would exceed the
    plan's cap. Call inside a transaction after :func:`lock_company`."""
    plan = plan_of(company)
    if plan is None or plan.seat_cap is None:
        return
    taken = seats_in_use(company) + seats_reserved(company)
    if taken + extra > plan.seat_cap:
        raise ValidationError(
            _(
                "The %(plan)s plan allows %(cap)s paid seats and all of them are taken or "
                "invited. Choose a larger plan, revoke an invitation, deactivate a member, or "
                "invite this person as read-only (read-only seats are free)."
            )
            % {"plan": plan.name, "cap": plan.seat_cap},
            code="seat_cap",
        )


def record_change(company: Company, *, reason: str) -> SeatChange:
    """Note the new number of paid seats; Stripe is told after the transaction commits."""
    change = SeatChange.objects.create(
        company=company, quantity=seats_in_use(company), reason=reason[:200]
    )
    transaction.on_commit(lambda: _enqueue(change.pk))
    return change


def _enqueue(change_id: int) -> None:
    from billing.tasks import sync_seat_change

    try:
        sync_seat_change.delay(change_id)
    except Exception:
        # The broker is down: the change stays pending and the nightly reconciliation sends it.
        logger.exception("could not enqueue seat change %s", change_id)


class SeatSyncError(Exception):
    """Stripe refused or did not answer; the task retries."""


def apply_change(change_id: int) -> SeatChange:
    """Send one seat change to Stripe. Safe to run twice: the idempotency key is derived
    from the change's id, and changes older than the last applied one are skipped.

    Raises :class:`SeatSyncError` when Stripe fails (the attempt is recorded first)."""
    failure = None
    with transaction.atomic():
        change = SeatChange.objects.select_for_update().select_related("company").get(pk=change_id)
        if change.state in (SeatChange.State.APPLIED, SeatChange.State.SUPERSEDED):
            return change
        subscription = (
            Subscription.objects.select_for_update().filter(company=change.company).first()
        )
        if subscription is None or not subscription.stripe_subscription_id:
            change.state = SeatChange.State.NOT_BILLED
            change.save(update_fields=["state"])
            return change
        if (
            subscription.last_seat_change_id is not None
            and subscription.last_seat_change_id > change.pk
        ):
            change.state = SeatChange.State.SUPERSEDED
            change.save(update_fields=["state"])
            return change
        change.attempts += 1
        try:
            item_id = subscription.stripe_item_id or str(
                stripe_gateway.first_item(
                    stripe_gateway.retrieve_subscription(subscription.stripe_subscription_id)
                )["id"]
            )
            updated = stripe_gateway.set_quantity(
                subscription_id=subscription.stripe_subscription_id,
                item_id=item_id,
                quantity=max(change.quantity, 1),
                key=change.idempotency_key,
            )
        except Exception as exc:
            failure = f"{type(exc).__name__}: {exc}"[:2000]
            change.last_error = failure
            change.save(update_fields=["attempts", "last_error"])
        else:
            item = stripe_gateway.first_item(updated)
            subscription.paid_seats = int(item["quantity"])
            subscription.stripe_item_id = str(item["id"])
            subscription.last_seat_change_id = change.pk
            subscription.save(
                update_fields=["paid_seats", "stripe_item_id", "last_seat_change_id", "updated_at"]
            )
            change.state = SeatChange.State.APPLIED
            change.applied_at = timezone.now()
            change.last_error = ""
            change.save(update_fields=["state", "applied_at", "attempts", "last_error"])
    if failure is not None:
        raise SeatSyncError(failure)
    return change


def give_up(change_id: int, error: str) -> None:
    """Retries are exhausted: mark the change failed and tell operators."""
    change = SeatChange.objects.select_related("company").get(pk=change_id)
    change.state = SeatChange.State.FAILED
    change.last_error = error[:2000]
    change.save(update_fields=["state", "last_error"])
    BillingLogEntry.objects.create(
        company=change.company,
        kind=BillingLogEntry.Kind.FAILURE,
        message=f"Seat change #{change.pk} to {change.quantity} failed after retries: {error}",
    )
    logger.error("seat change %s for %s failed: %s", change.pk, change.company.slug, error)
