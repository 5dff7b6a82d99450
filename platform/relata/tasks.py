"""Platform tasks that run inside a company's schema."""

from __future__ import annotations

from relata.celery import app
from relata.db import connection


@app.task(name="relata.tasks.probe_company")
def probe_company() -> dict[str, object]:
    """Report which schema the worker ran this task in and how many clients it sees there.

    Operators use it to check that workers route tasks to the right company; the isolation
    tests use it to prove a task never runs in the previous task's schema.
    """
    from crm_core.models import Client

    return {"schema": connection.schema_name, "clients": Client.objects.count()}
