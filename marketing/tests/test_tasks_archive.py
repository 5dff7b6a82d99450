"""Beat starts each company's due campaigns in that company's schema; the export archive carries
segments, consents, campaigns and suppressions (never the provider's key) into another company."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from crm_core.models import Contact
from marketing import credentials
from marketing.models import (
    Campaign,
    Consent,
    Recipient,
    Segment,
    SegmentMember,
    SendingSettings,
    Suppression,
)
from onboarding.archive import restore, write_archive
from relata.celery import app
from tenants.models import Membership

pytestmark = pytest.mark.django_db

BLOCKS = [{"kind": "text", "text": "Новости"}]


def _scheduled(company: Any, membership: Any, address: str) -> Campaign:
    from communications.models import Mailbox

    with company:
        # A mailbox whose SMTP server cannot be reached (nothing listens on port 1).
        box = Mailbox.objects.create(
            name="Новости",
            address="news@okna.test",
            imap_host="127.0.0.1",
            smtp_host="127.0.0.1",
            smtp_port=1,
            smtp_security="none",
            login="",
        )
        SendingSettings.objects.create(
            channel="mailbox",
            mailbox=box,
            provider="postmark",
            provider_key=credentials.seal("server-token-secret"),
            from_email="news@okna.test",
        )
        contact = Contact.objects.create(first_name="Анна", emails=[address])
        Consent.objects.create(contact=contact, email=address, source="manual", text="Да")
        segment = Segment.objects.create(name="Список", kind="static")
        SegmentMember.objects.create(segment=segment, contact=contact)
        return Campaign.objects.create(
            name="Запланированная",
            subject="Тема",
            blocks=BLOCKS,
            segment=segment,
            status=Campaign.Status.SCHEDULED,
            scheduled_at=timezone.now() - timedelta(minutes=1),
            sent_by=membership.user,
            base_url=f"http://{company.host}",
        )


def test_beat_queues_each_companys_due_campaign_in_its_own_schema(crm: Any) -> None:
    from marketing.tasks import start_due_campaigns

    a_campaign = _scheduled(crm.a, crm.owner, "anna@a.test")
    owner_b = Membership.objects.get(company=crm.b.company, user=crm.b.owner)
    with crm.b:
        # B's campaign is due later: the beat leaves it alone.
        b_campaign = _scheduled(crm.b, owner_b, "boris@b.test")
        Campaign.objects.filter(pk=b_campaign.pk).update(
            scheduled_at=timezone.now() + timedelta(hours=1)
        )
    app.conf.task_always_eager = True
    try:
        # The mail server cannot be reached: the task tries again, waiting longer each time,
        # then gives up: the campaign stops with the reason, the letters stay queued.
        start_due_campaigns()
    finally:
        app.conf.task_always_eager = False
    with crm.a:
        campaign = Campaign.objects.get(pk=a_campaign.pk)
        assert campaign.status == Campaign.Status.STOPPED
        assert campaign.stopped_reason
        assert list(Recipient.objects.values_list("email", "status")) == [("anna@a.test", "queued")]
    with crm.b:
        assert Campaign.objects.get(pk=b_campaign.pk).status == Campaign.Status.SCHEDULED
        assert not Recipient.objects.exists()


def test_the_archive_carries_marketing_without_the_providers_key(crm: Any, media_root: Any) -> None:
    campaign = _scheduled(crm.a, crm.owner, "anna@a.test")
    with crm.a:
        Recipient.objects.create(campaign=campaign, email="anna@a.test", status="sent")
        Suppression.objects.create(email="gone@a.test", reason="bounced", campaign=campaign)
        buffer = io.BytesIO()
        counts = write_archive(buffer, company_name="A")
    assert counts["segments"] == 1
    assert counts["consents"] == 1
    assert counts["campaigns"] == 1
    assert counts["campaign_recipients"] == 1
    assert counts["suppressions"] == 1
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        manifest = archive.read("relata.json").decode()
    assert "server-token-secret" not in manifest
    assert "sending_settings" not in json.loads(manifest)["entities"]
    buffer.seek(0)
    with crm.b:
        restore(buffer, company=crm.b.company)
        restored = Campaign.objects.get()
        assert restored.segment == Segment.objects.get()
        assert Consent.objects.get().text == "Да"
        assert Suppression.objects.get().email == "gone@a.test"
        assert not SendingSettings.objects.exists()
