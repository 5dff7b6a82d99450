"""Celery entry points for automation: beat finds companies with due timers; webhooks retry."""

from __future__ import annotations

from relata.celery import app
from relata.db import connection
from tenants.models import Company
from tenants.queries.memberships import ACTIVE_COMPANY_STATUSES


@app.task(name="crm_core.automation.tasks.fire_due_timers", ignore_result=True)
def fire_due_timers(queue: str | None = None) -> int:
    """Beat: send one task to each company that has a timer due (read from the index).
    ``queue`` is for tests and benchmarks that run a worker of their own."""
    from crm_core.automation.services.timers import due_schemas

    schemas = due_schemas()
    if not schemas:
        return 0
    companies = Company.objects.filter(
        schema_name__in=schemas, status__in=ACTIVE_COMPANY_STATUSES
    ).only("schema_name")
    sent = 0
    for company in companies:
        with company:
            fire_company_timers.apply_async(queue=queue)
        sent += 1
    return sent


@app.task(name="crm_core.automation.tasks.fire_company_timers", ignore_result=True, acks_late=True)
def fire_company_timers() -> int:
    from crm_core.automation.services.timers import fire_due

    # tenant-schemas-celery has already looked the company up and set it on the connection.
    company = getattr(connection, "tenant", None)
    if not isinstance(company, Company):
        company = Company.objects.get(schema_name=connection.schema_name)
    return fire_due(company)


@app.task(name="crm_core.automation.tasks.reindex_timers", ignore_result=True)
def reindex_timers() -> int:
    """Rebuild the due-timer index from the rows of every company (after a Redis flush), and
    send again any webhook retry that a dead worker lost."""
    from crm_core.automation.services.timers import reindex_current
    from crm_core.automation.services.webhooks import send_stuck

    count = 0
    for company in Company.objects.filter(status__in=ACTIVE_COMPANY_STATUSES):
        with company:
            reindex_current()
            send_stuck()
        count += 1
    connection.set_schema_to_public()
    return count


@app.task(name="crm_core.automation.tasks.deliver_webhook", ignore_result=True, acks_late=True)
def deliver_webhook(delivery_id: int) -> None:
    from crm_core.automation.services.webhooks import attempt

    retry_in = attempt(delivery_id)
    if retry_in is not None:
        deliver_webhook.apply_async((delivery_id,), countdown=retry_in)


@app.task(name="crm_core.automation.tasks.send_webhook_backlog", ignore_result=True)
def send_webhook_backlog() -> int:
    """Beat, every few seconds: deliveries written while the broker was down go out once it is
    back. Visits only the companies that marked a backlog (tenants.services.dispatch)."""
    from crm_core.automation.services.webhooks import BACKLOG, send_backlog
    from tenants.services import dispatch

    sent = 0
    for company, checked_at in dispatch.waiting(BACKLOG):
        with company:
            taken = send_backlog()
        if taken < 0:
            break  # the broker is still down: the next run tries again
        dispatch.settle(company, BACKLOG, checked_at)
        sent += taken
    connection.set_schema_to_public()
    return sent
