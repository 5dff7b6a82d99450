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


@app.task(name="crm_core.tasks.load_exchange_rates", ignore_result=True)
def load_exchange_rates() -> int:
    """Beat: ask the rate source once for today's rates, then hand them to every active
    company (each converts them to its own base currency in its own schema)."""
    from django.utils import timezone

    from crm_core.rate_sources import rate_source

    published = rate_source().rates_on(timezone.localdate())
    payload = {code: str(rate) for code, rate in published.rates.items()}
    sent = 0
    for company in Company.objects.filter(status__in=ACTIVE_COMPANY_STATUSES).only("schema_name"):
        with company:
            store_company_rates.delay(published.day.isoformat(), published.quote, payload)
        sent += 1
    return sent


@app.task(name="crm_core.tasks.store_company_rates", ignore_result=True, acks_late=True)
def store_company_rates(day: str, quote: str, rates: dict[str, str]) -> int:
    from datetime import date
    from decimal import Decimal

    from crm_core.rate_sources import PublishedRates
    from crm_core.services.rates import store_loaded

    company = Company.objects.get(schema_name=connection.schema_name)
    published = PublishedRates(
        day=date.fromisoformat(day),
        quote=quote,
        rates={code: Decimal(rate) for code, rate in rates.items()},
    )
    return store_loaded(company=company, published=published)


@app.task(name="crm_core.tasks.load_company_rates", ignore_result=True, acks_late=True)
def load_company_rates() -> int:
    """The settings page's "Load now": today's rates from the source for this company only."""
    from django.utils import timezone

    from crm_core.rate_sources import rate_source
    from crm_core.services.rates import store_loaded

    company = Company.objects.get(schema_name=connection.schema_name)
    return store_loaded(company=company, published=rate_source().rates_on(timezone.localdate()))
