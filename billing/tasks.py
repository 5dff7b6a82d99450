"""Celery entry points for billing. They run in the public schema and call services."""

from __future__ import annotations

import logging

from relata.celery import app
from relata.db import connection

logger = logging.getLogger(__name__)
SEAT_SYNC_RETRIES = 6


@app.task(
    name="billing.tasks.sync_seat_change",
    bind=True,
    max_retries=SEAT_SYNC_RETRIES,
    ignore_result=True,
)
def sync_seat_change(self, change_id: int) -> None:
    """Tell Stripe the new seat count; retried with exponential backoff (30 s … 16 min),
    then marked failed for operators. The idempotency key makes every retry safe."""
    from billing.services import seats

    connection.set_schema_to_public()
    try:
        seats.apply_change(change_id)
    except seats.SeatSyncError as exc:
        if self.request.retries >= SEAT_SYNC_RETRIES:
            seats.give_up(change_id, str(exc))
            return
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@app.task(name="billing.tasks.process_stripe_event", bind=True, max_retries=8, ignore_result=True)
def process_stripe_event(self, event_id: int) -> None:
    from billing.models import StripeEvent
    from billing.services import subscriptions

    connection.set_schema_to_public()
    try:
        subscriptions.process_event(event_id)
    except Exception as exc:
        StripeEvent.objects.filter(pk=event_id).update(
            state=StripeEvent.State.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        if self.request.retries < 8:
            raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
        logger.exception("stripe event %s could not be processed", event_id)


@app.task(name="billing.tasks.reconcile_with_stripe", ignore_result=True)
def reconcile_with_stripe() -> dict[str, object]:
    from billing.services import snapshots
    from billing.services.reconciliation import reconcile

    connection.set_schema_to_public()
    report = reconcile()
    # Nightly, after the repairs: the day's seats for the console's chart.
    snapshots.take()
    return {"checked": report.checked, "repaired": report.repaired, "errors": report.errors}


@app.task(name="billing.tasks.schedule_canceled_deletion", ignore_result=True)
def schedule_canceled_deletion(company_id: int) -> None:
    from billing.services import subscriptions

    connection.set_schema_to_public()
    subscriptions.schedule_canceled_deletion(company_id)
