"""What a campaign does when letters or the server keep failing: addresses that bounce "try
later" again and again are suppressed (through the provider's webhook and through delivery
reports in the sending mailbox), and a campaign whose server keeps refusing stops with the
reason and is resumed from where it stopped, nobody getting a letter twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client as HttpClient

from communications.tests.servers import SmtpServer
from crm_core.models import Contact
from marketing.models import Campaign, Consent, Recipient, Segment, Suppression
from marketing.services import campaigns, delivery
from marketing.services.audience import audience
from marketing.services.segments import add_members
from marketing.tests.test_public import _auth, _postmark
from relata.celery import app
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.django_db

BLOCKS = [{"kind": "text", "text": "Скидка {first_name_dative}"}]


@pytest.fixture
def eager() -> Iterator[None]:
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def _sent_letters(company: Any, address: str, count: int) -> tuple[Contact, list[Recipient]]:
    """``count`` campaigns that each sent one letter to ``address`` (as the worker leaves
    them), the person having agreed."""
    with company:
        contact = Contact.objects.create(first_name="Анна", emails=[address])
        Consent.objects.create(contact=contact, email=address, source="manual", text="Да")
        letters = []
        for i in range(count):
            campaign = Campaign.objects.create(
                name=f"Рассылка {i}", subject="S", blocks=[], status="sent"
            )
            letters.append(
                Recipient.objects.create(
                    campaign=campaign,
                    contact=contact,
                    email=address,
                    status="sent",
                    message_id=f"<m{i}@okna.test>",
                )
            )
        return contact, letters


def _postmark_event(crm: Any, secret: str, payload: dict[str, Any]) -> None:
    response = HttpClient().post(
        "/public/marketing/hooks/postmark/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=_auth(secret),
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 200, response.content


def _soft(letter: Recipient) -> dict[str, Any]:
    return {
        "RecordType": "Bounce",
        "Type": "SoftBounce",
        "ID": letter.pk,
        "MessageID": letter.message_id,
        "Email": letter.email,
        "Description": "Mailbox full",
        "BouncedAt": "2026-12-06T10:00:00Z",
        "Metadata": {"recipient": str(letter.pk)},
    }


def test_soft_bounces_in_a_row_through_the_webhook_suppress_and_a_delivery_resets_them(
    crm: Any,
) -> None:
    secret = _postmark(crm)
    contact, letters = _sent_letters(crm.a, "anna@romashka.test", 5)
    _postmark_event(crm, secret, _soft(letters[0]))
    _postmark_event(
        crm,
        secret,
        {
            "RecordType": "Delivery",
            "MessageID": letters[1].message_id,
            "Recipient": letters[1].email,
            "DeliveredAt": "2026-12-06T10:05:00Z",
            "Details": "250 OK",
            "Metadata": {"recipient": str(letters[1].pk)},
        },
    )
    _postmark_event(crm, secret, _soft(letters[2]))
    _postmark_event(crm, secret, _soft(letters[3]))
    # The letter that arrived between them resets the count: two in a row are not enough.
    with crm.a:
        assert not Suppression.objects.exists()
        assert Recipient.objects.get(pk=letters[2].pk).soft_bounced_at is not None
        assert Recipient.objects.get(pk=letters[2].pk).bounced_at is None
    # The same report twice is one soft bounce, not two.
    _postmark_event(crm, secret, _soft(letters[3]))
    with crm.a:
        assert not Suppression.objects.exists()
    _postmark_event(crm, secret, _soft(letters[4]))
    with crm.a:
        suppressed = Suppression.objects.get()
        assert (suppressed.email, suppressed.reason) == ("anna@romashka.test", "soft_bounced")
        assert suppressed.detail == "Mailbox full"
        segment = Segment.objects.create(name="Все", kind="static")
        add_members(membership=crm.owner, segment=segment, contact_ids=[contact.pk])
        # A later campaign does not write to the address.
        assert not audience(crm.owner, segment).exists()
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    panel = browser.get(
        f"/marketing/contacts/{contact.pk}/consent/", HTTP_HOST=crm.a.host
    ).content.decode()
    assert 'data-suppressed="soft_bounced"' in panel
    assert "Mailbox full" in panel
    report = browser.get(
        f"/marketing/{letters[4].campaign_id}/", HTTP_HOST=crm.a.host
    ).content.decode()
    assert '<dd data-figure="soft_bounced">1</dd>' in report
    assert "Mailbox full" in report
    with crm.a:
        label = str(Suppression.Reason.SOFT_BOUNCED.label)
    assert label in report or "временно" in report


def _dsn(box: str, letter: Recipient, action: str, status: str, n: int) -> bytes:
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.romashka.test>\r\nTo: {box}\r\n"
        f"Subject: Delivery Status Notification\r\nMessage-ID: <dsn-{n}@mx.romashka.test>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mailbox is full.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.romashka.test\r\n\r\n"
        f"Final-Recipient: rfc822; {letter.email}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 452 {status} Mailbox full\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {letter.message_id}\r\n"
        f"To: {letter.email}\r\n\r\n--B--\r\n"
    ).encode()


def test_soft_bounce_reports_in_the_sending_mailbox_suppress_after_three(
    crm: Any, smtp_server: SmtpServer, sending_through: Any, people: Any, dovecot: Any
) -> None:
    from communications.services.sync import sync_mailbox

    with crm.a:
        settings_row = sending_through(crm.owner)
        (anna,) = people(crm.manager, [("Анна", "Петровна", "Сидорова")])
        segment = Segment.objects.create(name="Все", kind="static")
        add_members(membership=crm.manager, segment=segment, contact_ids=[anna.pk])
        letters = []
        for i in range(3):
            campaign = campaigns.save_campaign(
                membership=crm.manager,
                campaign=None,
                name=f"Рассылка {i}",
                subject="Новости",
                blocks=BLOCKS,
                segment=segment,
            )
            campaigns.start(membership=crm.manager, campaign=campaign, base_url="http://x")
            delivery.send_batch(crm.a.company, campaign.pk)
            letters.append(Recipient.objects.get(campaign=campaign))
    assert len(smtp_server.received) == 3
    box = settings_row.mailbox.address
    # A server that kept the letter and gave up later (delayed), one that says "full" with a
    # temporary code, and one that reports the full mailbox as failed (5.2.2).
    reports = [("delayed", "4.2.2"), ("failed", "4.2.2"), ("failed", "5.2.2")]
    for n, (letter, (action, status)) in enumerate(zip(letters, reports, strict=True)):
        dovecot.deliver(box, _dsn(box, letter, action, status, n))
        with crm.a:
            sync_mailbox(crm.a.company, settings_row.mailbox)
            assert Recipient.objects.get(pk=letter.pk).soft_bounced_at is not None
            assert Recipient.objects.get(pk=letter.pk).bounced_at is None
            assert Suppression.objects.exists() == (n == 2), n
    with crm.a:
        suppressed = Suppression.objects.get()
        assert suppressed.reason == "soft_bounced"
        assert "5.2.2" in suppressed.detail
        # The next campaign leaves her out.
        assert not audience(crm.manager, segment).exists()


def test_a_campaign_whose_server_keeps_refusing_stops_and_resumes_without_sending_twice(
    crm: Any,
    smtp_server: SmtpServer,
    sending_through: Any,
    people: Any,
    eager: None,
    settings: Any,
) -> None:
    from marketing.tasks import send_campaign

    settings.MARKETING_SEND_TRIES = 3
    with crm.a:
        row = sending_through(crm.owner, rate=12)  # two letters per batch
        contacts = people(crm.manager, [("Анна", "", f"Номер{i}") for i in range(5)])
        segment = Segment.objects.create(name="Все", kind="static")
        add_members(membership=crm.manager, segment=segment, contact_ids=[c.pk for c in contacts])
        campaign = campaigns.save_campaign(
            membership=crm.manager,
            campaign=None,
            name="Зимняя",
            subject="Окна",
            blocks=BLOCKS,
            segment=segment,
        )
        campaigns.start(membership=crm.manager, campaign=campaign, base_url="http://x")
        assert delivery.send_batch(crm.a.company, campaign.pk).sent == 2
        port = row.mailbox.smtp_port
        row.mailbox.smtp_port = 1  # nothing listens there: every connection is refused
        row.mailbox.save()
        send_campaign.delay(campaign.pk)
        stopped = Campaign.objects.get(pk=campaign.pk)
        assert stopped.status == Campaign.Status.STOPPED
        assert stopped.stopped_reason
        assert Recipient.objects.filter(campaign=campaign, status="queued").count() == 3
        # A stopped campaign sends nothing until it is resumed.
        row.mailbox.smtp_port = port
        row.mailbox.save()
        assert delivery.send_batch(crm.a.company, campaign.pk).sent == 0
    assert len(smtp_server.received) == 2
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    page = browser.get(f"/marketing/{campaign.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="campaign-stopped"' in page
    assert stopped.stopped_reason in page
    assert 'id="resume-campaign"' in page
    response = browser.post(f"/marketing/{campaign.pk}/resume/", HTTP_HOST=crm.a.host)
    assert response.status_code == 302
    with crm.a:
        assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT
        assert not Recipient.objects.filter(campaign=campaign).exclude(status="sent").exists()
    addresses = [r.recipients[0] for r in smtp_server.received]
    assert sorted(addresses) == sorted(c.emails[0] for c in contacts)  # each exactly once
    # A second click (or a colleague's) resumes nothing and sends nothing.
    again = browser.post(f"/marketing/{campaign.pk}/resume/", HTTP_HOST=crm.a.host, follow=True)
    assert len(smtp_server.received) == 5
    assert 'id="resume-campaign"' not in again.content.decode()
