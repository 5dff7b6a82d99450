"""Fixtures of the customer-service tests: the mail servers of communications' tests (a real
dovecot and a real SMTP server), the browser, and a company with a support desk."""

from __future__ import annotations

from typing import Any

import pytest

from communications.tests.conftest import dovecot, mailbox_on, smtp_server
from tests.browser import chromium_page
from tests.conftest import crm

__all__ = ["chromium_page", "crm", "desk", "dovecot", "mailbox_on", "smtp_server"]


@pytest.fixture
def desk(crm: Any, mailbox_on: Any) -> Any:
    """Company A's support desk: a queue (the Sales team, round-robin), a support mailbox on
    the real dovecot, and an SLA policy of 60 working minutes to answer, 8 hours to solve."""
    from communications.models import Mailbox
    from crm_core.models import Employee, Team
    from service.models import Queue, ServiceSettings, SlaPolicy, SupportMailbox

    with crm.a:
        box = mailbox_on(crm.owner, kind=Mailbox.Kind.SHARED, name="Поддержка")
        team = Team.objects.get(name="Sales")
        Employee.objects.create(user=crm.colleague.user, team=team)
        queue = Queue.objects.create(team=team)
        SupportMailbox.objects.create(mailbox=box, queue=queue)
        SlaPolicy.objects.create(name="Обычный", first_response_minutes=60, resolution_minutes=480)
        row = ServiceSettings.current()
        row.help_requests = True
        row.default_queue = queue
        row.save()
    crm.box, crm.queue = box, queue
    return crm
