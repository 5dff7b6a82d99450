"""Beat's poll: one sync per mailbox, each in its own company's schema."""

from __future__ import annotations

from typing import Any

import pytest

from communications.models import Mailbox, Message
from communications.tests.mails import plain
from communications.tests.servers import Dovecot
from relata.celery import app
from tenants.models import Membership

pytestmark = pytest.mark.django_db


def test_the_poll_syncs_each_companys_mailboxes_in_its_own_schema(
    crm: Any, dovecot: Dovecot, mailbox_on: Any
) -> None:
    from communications.tasks import poll_mailboxes

    with crm.a:
        box_a = mailbox_on(crm.owner, kind=Mailbox.Kind.SHARED)
    with crm.b:
        owner_b = Membership.objects.get(company=crm.b.company, user=crm.b.owner)
        box_b = mailbox_on(owner_b, kind=Mailbox.Kind.SHARED)
    dovecot.deliver(box_a.address, plain("x@a.ru", box_a.address, "for A", "a", "<a@a>"))
    dovecot.deliver(box_b.address, plain("x@b.ru", box_b.address, "for B", "b", "<b@b>"))
    app.conf.task_always_eager = True
    try:
        assert poll_mailboxes() >= 2
    finally:
        app.conf.task_always_eager = False
    with crm.a:
        assert list(Message.objects.values_list("subject", flat=True)) == ["for A"]
    with crm.b:
        assert list(Message.objects.values_list("subject", flat=True)) == ["for B"]
