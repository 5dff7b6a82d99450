"""Celery entry points of campaigns: beat starts the scheduled ones; each campaign sends
itself batch by batch at the company's rate (a batch, then the next one ten seconds after
the previous one began), in the schema of the company that sent it."""

from __future__ import annotations

import logging
import time

from relata.celery import app
from relata.db import connection
from tenants.models import Company
from tenants.queries.memberships import ACTIVE_COMPANY_STATUSES

log = logging.getLogger(__name__)


def max_failures() -> int:
    """How many failed tries in a row stop a campaign (settings.MARKETING_SEND_TRIES): about
    an hour and a half of waiting with the default 20 (30 s doubling up to ten minutes)."""
    from django.conf import settings

    return max(1, int(getattr(settings, "MARKETING_SEND_TRIES", 20)))


def _company() -> Company:
    company = getattr(connection, "tenant", None)
    if not isinstance(company, Company):
        company = Company.objects.get(schema_name=connection.schema_name)
    return company


@app.task(name="marketing.tasks.start_due_campaigns", ignore_result=True)
def start_due_campaigns() -> int:
    """Beat: every active company's scheduled campaigns whose moment has come."""
    from marketing.services.campaigns import due_campaigns

    started = 0
    for company in Company.objects.filter(status__in=ACTIVE_COMPANY_STATUSES).only("schema_name"):
        with company:
            for campaign_id in due_campaigns():
                start_campaign.delay(campaign_id)
                started += 1
    connection.set_schema_to_public()
    return started


@app.task(name="marketing.tasks.start_campaign", ignore_result=True, acks_late=True)
def start_campaign(campaign_id: int) -> int:
    from marketing.services.campaigns import start_scheduled

    queued = start_scheduled(campaign_id)
    if queued:
        send_campaign.delay(campaign_id)
    return queued


@app.task(name="marketing.tasks.send_campaign", ignore_result=True, acks_late=True)
def send_campaign(campaign_id: int, failures: int = 0) -> int:
    """One batch; the next is sent as a new task ``tick_seconds()`` after this one began, so
    the rate holds however long a batch takes and no worker sleeps holding a slot. When the
    server cannot be reached the letters stay queued and the task tries again later, waiting
    longer each time (up to ten minutes), and gives up after ``max_failures()`` tries in a
    row: the campaign is then "stopped" with the reason, its queue kept, to be resumed or
    cancelled on its page."""
    from marketing.services.campaigns import give_up
    from marketing.services.delivery import send_batch, tick_seconds

    began = time.monotonic()
    result = send_batch(_company(), campaign_id)
    if not result.left:
        return result.sent
    if result.error and not result.sent:
        if failures + 1 >= max_failures():
            log.error("campaign %s: sending given up after %s failures", campaign_id, failures + 1)
            give_up(campaign_id, result.error)
            return 0
        wait = min(600.0, 30.0 * 2**failures)
        send_campaign.apply_async(args=[campaign_id, failures + 1], countdown=wait)
        return 0
    wait = max(0.0, tick_seconds() - (time.monotonic() - began))
    send_campaign.apply_async(args=[campaign_id], countdown=wait)
    return result.sent
