"""Periodic CRM work: beat fans out one task per company, each runs in that company's schema."""

from __future__ import annotations

from relata.celery import app
from relata.db import connection
from tenants.models import Company
from tenants.queries.memberships import ACTIVE_COMPANY_STATUSES


@app.task(name="crm_core.tasks.send_task_reminders", ignore_result=True)
def send_task_reminders() -> int:
    """Beat: dispatch reminders for every active company (sent with the company's schema)."""
    sent = 0
    for company in Company.objects.filter(status__in=ACTIVE_COMPANY_STATUSES).only("schema_name"):
        with company:
            send_company_reminders.delay()
        sent += 1
    return sent


@app.task(name="crm_core.tasks.send_company_reminders", ignore_result=True, acks_late=True)
def send_company_reminders() -> tuple[int, int]:
    from crm_core.services.reminders import send_due

    company = Company.objects.get(schema_name=connection.schema_name)
    return send_due(company)


@app.task(name="crm_core.tasks.run_bulk_job", ignore_result=True, acks_late=True)
def run_bulk_job(job_id: int) -> None:
    """One bulk action on a list's selection; safe to deliver twice and resumable after a crash
    (the job row holds its checkpoint)."""
    from crm_core.services import bulk

    company = Company.objects.get(schema_name=connection.schema_name)
    bulk.run_bulk_job(job_id, company=company)
