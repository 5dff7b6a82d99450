"""Imports in the background, in the schema of the company that started them."""

from __future__ import annotations

from relata.celery import app
from relata.db import connection
from tenants.models import Company
from tenants.queries.memberships import ACTIVE_COMPANY_STATUSES


@app.task(name="onboarding.tasks.run_import", ignore_result=True, acks_late=True)
def run_import(batch_id: int) -> None:
    """Run (or resume) one import batch. Safe to deliver twice: a second delivery while the
    first runs is a no-op, and a delivery after a crash continues from the checkpoint."""
    from onboarding.models import ImportBatch
    from onboarding.services.imports import AlreadyRunning, run_batch

    company = Company.objects.get(schema_name=connection.schema_name)
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        return
    try:
        run_batch(batch, company=company)
    except AlreadyRunning:
        return


@app.task(name="onboarding.tasks.resume_stalled_imports", ignore_result=True)
def resume_stalled_imports() -> int:
    """Beat: for every company, send its stalled imports back to a worker."""
    sent = 0
    for company in Company.objects.filter(status__in=ACTIVE_COMPANY_STATUSES).only("schema_name"):
        with company:
            resume_company_imports.delay()
        sent += 1
    return sent


@app.task(name="onboarding.tasks.resume_company_imports", ignore_result=True, acks_late=True)
def resume_company_imports() -> int:
    from onboarding.services.imports import stalled_batches

    batches = stalled_batches()
    for batch in batches:
        run_import.delay(batch.pk)
    return len(batches)


@app.task(name="onboarding.tasks.build_export", ignore_result=True, acks_late=True)
def build_export(job_id: int) -> None:
    from onboarding.models import ExportJob
    from onboarding.services.exports import build_export as build

    company = Company.objects.get(schema_name=connection.schema_name)
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is not None:
        build(job, company=company)
