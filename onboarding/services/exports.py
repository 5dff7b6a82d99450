"""Exporting the company's whole CRM (no lock-in)."""

from __future__ import annotations

import tempfile

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from onboarding.archive import write_archive
from onboarding.models import ExportJob
from tenants.models import Company


def request_export(*, user_id: int | None) -> ExportJob:
    return ExportJob.objects.create(created_by_id=user_id)


def build_export(job: ExportJob, *, company: Company) -> ExportJob:
    """Write the archive under the company's storage prefix. Idempotent: a job already built
    is left alone; a rerun after a crash builds it again from scratch."""
    job.refresh_from_db()
    if job.status == ExportJob.Status.DONE:
        return job
    job.status = ExportJob.Status.RUNNING
    job.save(update_fields=["status"])
    with tempfile.TemporaryFile() as target:
        # One snapshot of the whole CRM: every entity read in the same transaction.
        with transaction.atomic():
            counts = write_archive(target, company_name=company.name)
        target.seek(0)
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        job.file.save(f"relata-{company.slug}-{stamp}.zip", File(target), save=False)
    job.counts = counts
    job.status = ExportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["file", "counts", "status", "finished_at"])
    return job
