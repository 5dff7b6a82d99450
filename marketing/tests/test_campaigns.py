"""A campaign as the marketer runs it, through the pages and a real SMTP server: a segment
from a saved view, only people who agreed, the test letter, sending at the company's rate,
the one-click unsubscribe honoured by the next campaign, clicks and the return in requests."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from communications.tests.servers import SmtpServer
from crm_core.models import Contact, Lead, SavedView
from marketing.models import Campaign, Consent, Recipient, Segment, Suppression
from marketing.services import campaigns, delivery
from relata.celery import app
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.django_db

NAMES = [("Анна", "Петровна", "Сидорова"), ("Иван", "Сергеевич", "Орлов"), ("Пётр", "", "Котов")]
BLOCKS = [
    {"kind": "heading", "text": "{dear} {name_and_patronymic}!"},
    {"kind": "text", "text": "Скидка {first_name_dative} — 10 %. <b>не жирный</b>"},
    {"kind": "button", "text": "Выбрать окна", "url": "https://okna.example/sale?x=1"},
    {"kind": "divider", "text": ""},
]


@pytest.fixture
def eager() -> Iterator[None]:
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def _letters(server: SmtpServer) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(r.data, policy=email.policy.default) for r in server.received]


def _html(letter: email.message.EmailMessage) -> str:
    part = letter.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def _blocks_post(blocks: list[dict[str, str]]) -> dict[str, str]:
    data = {
        "blocks-TOTAL_FORMS": str(len(blocks)),
        "blocks-INITIAL_FORMS": "0",
        "blocks-MIN_NUM_FORMS": "0",
        "blocks-MAX_NUM_FORMS": "50",
    }
    for i, block in enumerate(blocks):
        for key, value in block.items():
            data[f"blocks-{i}-{key}"] = value
    return data


def _campaign_via_pages(browser: Any, host: str, segment: Segment, name: str) -> Campaign:
    response = browser.post(
        "/marketing/new/",
        {
            "name": name,
            "subject": "{first_name}, новые окна",
            "segment": segment.pk,
            "cost": "1500",
            **_blocks_post(BLOCKS),
        },
        HTTP_HOST=host,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Campaign.objects.get(name=name)


def test_a_campaign_from_a_saved_view_reaches_only_those_who_agreed_and_honours_unsubscribe(
    crm: Any, smtp_server: SmtpServer, sending_through: Any, people: Any, eager: None
) -> None:
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    host = crm.a.host
    with crm.a:
        sending_through(crm.owner)
        anna, ivan, _petr = people(crm.manager, NAMES, agreed=2)
        view = SavedView.objects.create(
            entity="clients", name="Ромашка", owner=crm.manager.user, query="q=Ромашка"
        )
    response = browser.post(
        "/marketing/segments/new/",
        {"name": "Клиенты Ромашки", "kind": "dynamic", "view": view.pk},
        HTTP_HOST=host,
    )
    assert response.status_code == 302
    with crm.a:
        segment = Segment.objects.get()
    page = browser.get(f"/marketing/segments/{segment.pk}/", HTTP_HOST=host).content.decode()
    assert "Сидорова" in page
    assert "Котов" in page
    with crm.a:
        campaign = _campaign_via_pages(browser, host, segment, "Весенняя скидка")
        assert campaign.cost == Decimal(1500)
        assert campaign.utm_campaign == f"campaign-{campaign.pk}"

    page = browser.get(f"/marketing/{campaign.pk}/", HTTP_HOST=host).content.decode()
    assert "It will go to 2 people" in page or "получат 2" in page or "2 " in page
    preview = browser.get(f"/marketing/{campaign.pk}/preview/", HTTP_HOST=host)
    assert "sandbox" in preview["Content-Security-Policy"]
    assert "Уважаемая Анна Петровна!" in preview.content.decode()

    # The test letter: to the marketer, plainly marked, with no tracking.
    response = browser.post(
        f"/marketing/{campaign.pk}/test/", {"to": "marketer@okna.test"}, HTTP_HOST=host
    )
    assert response.status_code == 302
    (test_letter,) = _letters(smtp_server)
    assert smtp_server.received[0].recipients == ["marketer@okna.test"]
    assert str(test_letter["Subject"]).startswith("[TEST]")
    assert "https://okna.example/sale?x=1" in _html(test_letter)
    smtp_server.received.clear()

    response = browser.post(f"/marketing/{campaign.pk}/send/", {"confirm": "on"}, HTTP_HOST=host)
    assert response.status_code == 302
    letters = _letters(smtp_server)
    assert sorted(r.recipients[0] for r in smtp_server.received) == sorted(
        [anna.emails[0], ivan.emails[0]]
    )
    by_address = {str(m["To"]): m for m in letters}
    to_anna = by_address[anna.emails[0]]
    assert str(to_anna["Subject"]) == "Анна, новые окна"
    body = _html(to_anna)
    assert "Уважаемая Анна Петровна!" in body
    assert "Скидка Анне" in body  # declined: dative
    assert "&lt;b&gt;не жирный&lt;/b&gt;" in body  # the author's markup is text
    assert "https://okna.example" not in body  # the link goes through the company host
    assert "Уважаемый Иван Сергеевич!" in _html(by_address[ivan.emails[0]])
    unsubscribe = str(to_anna["List-Unsubscribe"]).strip().strip("<>")
    assert str(to_anna["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert unsubscribe.startswith(f"http://{host}/public/m/u/")
    with crm.a:
        assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT
        assert Recipient.objects.filter(campaign=campaign, status="sent").count() == 2

    # The tracked click: counted, and on to the author's address with the campaign's UTM.
    click = re.search(rf'href="(http://{re.escape(host)}/public/m/c/[^"]+)"', body)
    assert click is not None
    anonymous = type(browser)()
    path = click.group(1).split(host, 1)[1]
    landed = anonymous.get(path, HTTP_HOST=host)
    assert landed.status_code == 302
    assert landed["Location"].startswith("https://okna.example/sale?x=1&utm_source=email")
    assert f"utm_campaign=campaign-{campaign.pk}" in landed["Location"]

    # A request from that link (a web form passes the UTM on) counts as the campaign's.
    with crm.a:
        Lead.objects.create(
            name="Анна", email=anna.emails[0], utm={"utm_campaign": f"campaign-{campaign.pk}"}
        )

    # The mail program's one-click unsubscribe (RFC 8058): a POST with no cookie.
    path = unsubscribe.split(host, 1)[1]
    gone = anonymous.post(path, {"List-Unsubscribe": "One-Click"}, HTTP_HOST=host)
    assert gone.status_code == 200
    again = anonymous.get(path, HTTP_HOST=host)
    assert (
        "no more mailings" in again.content.decode() or "больше не будет" in again.content.decode()
    )
    with crm.a:
        assert Suppression.objects.filter(email=anna.emails[0], reason="unsubscribed").exists()
        assert Consent.objects.get(contact=anna).withdrawn_at is not None

    listing = browser.get("/marketing/", HTTP_HOST=host).content.decode()
    row = re.search(rf'data-campaign="{campaign.pk}".*?</tr>', listing, re.S)
    assert row is not None
    assert 'data-figure="sent">2<' in row.group(0)
    assert 'data-figure="unsubscribed">1<' in row.group(0)
    assert 'data-figure="requests">1<' in row.group(0)

    # The next campaign: Anna is not written to again.
    smtp_server.received.clear()
    with crm.a:
        second = _campaign_via_pages(browser, host, segment, "Летняя скидка")
    browser.post(f"/marketing/{second.pk}/send/", {"confirm": "on"}, HTTP_HOST=host)
    assert [r.recipients for r in smtp_server.received] == [[ivan.emails[0]]]


def test_an_unsubscribe_after_queueing_wins_and_the_rate_sets_the_batch(
    crm: Any, smtp_server: SmtpServer, sending_through: Any, people: Any
) -> None:
    with crm.a:
        sending_through(crm.owner, rate=12)  # two letters per ten-second batch
        contacts = people(crm.manager, [("Анна", "", f"Номер{i}") for i in range(5)])
        segment = Segment.objects.create(name="Все", kind="static")
        from marketing.services.segments import add_members

        add_members(membership=crm.manager, segment=segment, contact_ids=[c.pk for c in contacts])
        campaign = campaigns.save_campaign(
            membership=crm.manager,
            campaign=None,
            name="Тест",
            subject="Привет",
            blocks=BLOCKS,
            segment=segment,
        )
        assert (
            campaigns.start(
                membership=crm.manager, campaign=campaign, base_url=f"http://{crm.a.host}"
            )
            == 5
        )
        # Queueing twice adds nobody twice.
        assert campaigns.queue(crm.manager, campaign) == 0
        Suppression.objects.create(email=contacts[0].emails[0], reason="unsubscribed")
        first = delivery.send_batch(crm.a.company, campaign.pk)
        assert (first.sent, first.skipped, first.left) == (1, 1, 3)
        second = delivery.send_batch(crm.a.company, campaign.pk)
        assert (second.sent, second.left) == (2, 1)
        assert len(smtp_server.received) == 3
        delivery.send_batch(crm.a.company, campaign.pk)
        assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT


def test_the_server_down_keeps_the_letters_queued(
    crm: Any, smtp_server: SmtpServer, sending_through: Any, people: Any
) -> None:
    with crm.a:
        settings_row = sending_through(crm.owner)
        contacts = people(crm.manager, NAMES)
        segment = Segment.objects.create(name="Все", kind="static")
        from marketing.services.segments import add_members

        add_members(membership=crm.manager, segment=segment, contact_ids=[c.pk for c in contacts])
        campaign = campaigns.save_campaign(
            membership=crm.manager,
            campaign=None,
            name="X",
            subject="Y",
            blocks=BLOCKS,
            segment=segment,
        )
        campaigns.start(membership=crm.manager, campaign=campaign, base_url="http://x")
        settings_row.mailbox.smtp_port = 1  # nothing listens there
        settings_row.mailbox.save()
        result = delivery.send_batch(crm.a.company, campaign.pk)
        assert result.error
        assert result.sent == 0
        assert result.left == 3
        assert Recipient.objects.filter(campaign=campaign, status="queued").count() == 3


def test_bad_blocks_and_placeholders_get_a_clear_error_and_nothing_is_saved(crm: Any) -> None:
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    for blocks, message in [
        ([{"kind": "text", "text": "Привет, {имя}"}], "{"),
        ([{"kind": "text", "text": "Привет, {nickname}"}], "{nickname}"),
        ([{"kind": "button", "text": "Go", "url": "javascript:alert(1)"}], "http"),
        ([{"kind": "divider", "text": ""}], ""),
    ]:
        response = browser.post(
            "/marketing/new/",
            {"name": "N", "subject": "S", **_blocks_post(blocks)},
            HTTP_HOST=crm.a.host,
        )
        assert response.status_code == 200
        assert 'class="errorlist' in response.content.decode()
        assert message in response.content.decode()
    bad_subject = browser.post(
        "/marketing/new/",
        {"name": "N", "subject": "{name}, привет", **_blocks_post(BLOCKS)},
        HTTP_HOST=crm.a.host,
    )
    assert "{name}" in bad_subject.content.decode()
    with crm.a:
        assert not Campaign.objects.exists()


def test_the_read_only_member_sees_campaigns_but_writes_none(crm: Any) -> None:
    browser = login_on_host(crm.viewer.user, crm.a.company, crm.a.host)
    assert browser.get("/marketing/", HTTP_HOST=crm.a.host).status_code == 200
    response = browser.post(
        "/marketing/new/",
        {"name": "N", "subject": "S", **_blocks_post([{"kind": "text", "text": "x"}])},
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 404
    with crm.a:
        assert not Campaign.objects.exists()


def test_a_dynamic_segment_sees_what_the_member_sees(crm: Any, people: Any) -> None:
    from marketing.services.segments import contacts_of, save_segment

    with crm.a:
        mine = people(crm.manager, NAMES[:1])
        theirs = people(crm.colleague, NAMES[1:2])
        view = SavedView.objects.create(entity="contacts", name="Все", owner=crm.manager.user)
        segment = save_segment(
            membership=crm.manager, segment=None, name="S", kind="dynamic", view_id=view.pk
        )
        assert set(contacts_of(crm.manager, segment)) == set(mine)
        assert set(contacts_of(crm.owner, segment)) == {*mine, *theirs}
        # A colleague's personal view is not theirs to make a segment of.
        other = SavedView.objects.create(entity="contacts", name="Чужой", owner=crm.colleague.user)
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            save_segment(
                membership=crm.manager, segment=None, name="S2", kind="dynamic", view_id=other.pk
            )
        assert Contact.objects.count() == 2


def test_a_bounce_report_in_the_sending_mailbox_suppresses_the_address(
    crm: Any, smtp_server: SmtpServer, sending_through: Any, people: Any, dovecot: Any
) -> None:
    from communications.services.sync import sync_mailbox

    with crm.a:
        settings_row = sending_through(crm.owner)
        (anna,) = people(crm.manager, NAMES[:1])
        segment = Segment.objects.create(name="Все", kind="static")
        from marketing.services.segments import add_members

        add_members(membership=crm.manager, segment=segment, contact_ids=[anna.pk])
        campaign = campaigns.save_campaign(
            membership=crm.manager,
            campaign=None,
            name="X",
            subject="Y",
            blocks=BLOCKS,
            segment=segment,
        )
        campaigns.start(membership=crm.manager, campaign=campaign, base_url="http://x")
        delivery.send_batch(crm.a.company, campaign.pk)
        sent = Recipient.objects.get()
    box = settings_row.mailbox.address
    report = (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.romashka.test>\r\nTo: {box}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.romashka.test>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.romashka.test\r\n\r\n"
        f"Final-Recipient: rfc822; {sent.email}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {sent.message_id}\r\n"
        f"To: {sent.email}\r\n\r\n--B--\r\n"
    ).encode()
    dovecot.deliver(box, report)
    with crm.a:
        sync_mailbox(crm.a.company, settings_row.mailbox)
        assert Recipient.objects.get().bounced_at is not None
        assert Suppression.objects.get().reason == "bounced"
