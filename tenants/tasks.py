"""Periodic platform work run by Celery beat in the public schema."""

from __future__ import annotations

from relata.celery import app
from tenants.services import deletion, handoff, schema_pool


@app.task(name="tenants.tasks.refill_schema_pool", ignore_result=True)
def refill_schema_pool() -> int:
    return schema_pool.refill()


@app.task(name="tenants.tasks.purge_expired_handoff_tokens", ignore_result=True)
def purge_expired_handoff_tokens() -> int:
    return handoff.purge_expired()


@app.task(name="tenants.tasks.purge_due_companies", ignore_result=True)
def purge_due_companies() -> list[str]:
    return deletion.purge_due()
