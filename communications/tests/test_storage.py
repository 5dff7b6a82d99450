"""Mail's stored files count against the plan's storage limit (crm_core's limits know mail
only through the counter this app registers) — in the company's own schema only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.models import Plan, Subscription
from communications.models import Mailbox, MessageAttachment
from communications.services.sync import sync_mailbox
from communications.tests.mails import with_attachment
from communications.tests.servers import Dovecot
from crm_core.models import Attachment
from crm_core.services.deals import create_deal
from crm_core.services.limits import storage_used
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.django_db


def test_received_mail_files_count_in_the_storage_used(
    crm: Any, dovecot: Dovecot, mailbox_on: Any, media_root: Any
) -> None:
    plan = Plan.objects.create(
        code="tiny", name="Крошечный", price_per_seat=Decimal(1), limits={}, is_public=False
    )
    Subscription.objects.update_or_create(company=crm.a.company, defaults={"plan": plan})
    with crm.a:
        box = mailbox_on(crm.owner, kind=Mailbox.Kind.SHARED)
        dovecot.deliver(
            box.address, with_attachment("x@y.ru", box.address, "<s@x>", "смета.xlsx", b"X" * 900)
        )
        sync_mailbox(crm.a.company, box)
        assert MessageAttachment.objects.get().size == 900
        assert storage_used() == 900
        deal = create_deal(membership=crm.manager, title="Смета", pipeline=crm.pipeline)
    with crm.b:
        assert storage_used() == 0  # A's mail takes no room in B
    # 0.001 MB = 1 048 bytes: the mail's 900 leave no room for a 600-byte file on the card.
    plan.limits = {"storage_mb": "0.001"}
    plan.save()
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    answer = manager.post(
        f"/deals/{deal.pk}/card/file/",
        {"file": SimpleUploadedFile("c.txt", b"z" * 600)},
        HTTP_HOST=crm.a.host,
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 400
    assert 'class="plan-limit-link"' in answer.content.decode()
    with crm.a:
        assert not Attachment.objects.exists()
