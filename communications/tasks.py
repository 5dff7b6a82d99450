"""Celery entry points for e-mail: beat polls every company's connected mailboxes."""

from __future__ import annotations

from relata.celery import app
from relata.db import connection
from tenants.models import Company
from tenants.queries.memberships import ACTIVE_COMPANY_STATUSES


@app.task(name="communications.tasks.poll_mailboxes", ignore_result=True)
def poll_mailboxes(queue: str | None = None) -> int:
    """Beat: one sync task per connected mailbox of every active company."""
    from communications.models import Mailbox

    sent = 0
    for company in Company.objects.filter(status__in=ACTIVE_COMPANY_STATUSES).only("schema_name"):
        with company:
            ids = list(
                Mailbox.objects.exclude(status=Mailbox.Status.PAUSED).values_list("pk", flat=True)
            )
            for mailbox_id in ids:
                sync_mailbox.apply_async(args=[mailbox_id], queue=queue)
                sent += 1
    connection.set_schema_to_public()
    return sent


@app.task(name="communications.tasks.sync_mailbox", ignore_result=True, acks_late=True)
def sync_mailbox(mailbox_id: int) -> int:
    """One poll of one mailbox, in the schema of the company that sent it (safe to run twice:
    messages are kept once and a second concurrent poll steps aside)."""
    from communications.models import Mailbox
    from communications.services.sync import sync_mailbox as run

    company = getattr(connection, "tenant", None)
    if not isinstance(company, Company):
        company = Company.objects.get(schema_name=connection.schema_name)
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        return 0
    return run(company, mailbox).stored
