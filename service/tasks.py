"""Celery entry points of customer service (each runs in the schema of the company that sent
it, by tenant-schemas-celery)."""

from __future__ import annotations

from relata.celery import app
from relata.db import connection
from tenants.models import Company


@app.task(name="service.tasks.send_survey", ignore_result=True, acks_late=True)
def send_survey(ticket_id: int) -> bool:
    """The satisfaction survey of a solved ticket (safe to run twice: one survey a ticket)."""
    from service.models import Ticket
    from service.services.customers import send_survey as send

    company = getattr(connection, "tenant", None)
    if not isinstance(company, Company):
        company = Company.objects.get(schema_name=connection.schema_name)
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    return ticket is not None and send(company, ticket) is not None
