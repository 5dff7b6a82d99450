"""The public side of campaigns, on the company host: unsubscribe and click links signed for
one company only, fuzzed with bad input; the provider's webhook and the mail server's bounce
reports; consent ticked on a web form; and every page of A refused to a member of B."""

from __future__ import annotations

import json
from base64 import b64encode
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client as HttpClient

from crm_core.automation.models import RequestForm
from crm_core.models import Client, Contact, Lead
from marketing import credentials, tokens
from marketing.models import (
    Campaign,
    CampaignLink,
    Consent,
    Recipient,
    Segment,
    SendingSettings,
    Suppression,
)
from marketing.services import tracking_events
from tenants.models import Membership
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.django_db


def _letter(
    company: Any, address: str = "anna@romashka.test", same_as: Any = None
) -> tuple[Recipient, CampaignLink]:
    """A campaign letter as the worker leaves it: sent, with its button's link."""
    with company:
        contact = Contact.objects.create(first_name="Анна", emails=[address])
        campaign = Campaign.objects.create(
            name="Весна", subject="S", blocks=[], utm_campaign="spring", status="sent"
        )
        link = CampaignLink.objects.create(
            campaign=campaign,
            url="https://okna.example/sale",
            pk=same_as[1].pk if same_as else None,
        )
        recipient = Recipient.objects.create(
            pk=same_as[0].pk if same_as else None,
            campaign=campaign,
            contact=contact,
            email=address,
            status="sent",
            message_id="<m1@okna.test>",
        )
        Consent.objects.create(contact=contact, email=address, source="manual", text="Да")
        return recipient, link


def _tokens(company: Any, recipient: Recipient, link: CampaignLink) -> dict[str, str]:
    with company:
        return {
            "u": tokens.make("unsubscribe", recipient.pk),
            "c": tokens.make("click", recipient.pk, link.pk),
            "o": tokens.make("open", recipient.pk),
        }


def test_company_a_links_never_unsubscribe_or_reveal_anyone_of_company_b(crm: Any) -> None:
    mine, my_link = _letter(crm.a)
    theirs, their_link = _letter(crm.b, "boris@dveri.test", same_as=(mine, my_link))
    # Same ids in both schemas: only the signature tells the companies apart.
    assert (mine.pk, my_link.pk) == (theirs.pk, their_link.pk)
    signed_for_a = _tokens(crm.a, mine, my_link)
    visitor = HttpClient()
    for kind in ("u", "c"):
        on_b = visitor.get(f"/public/m/{kind}/{signed_for_a[kind]}/", HTTP_HOST=crm.b.host)
        assert on_b.status_code == 404
        assert b"boris" not in on_b.content
        assert b"dveri" not in on_b.content
    posted = visitor.post(
        f"/public/m/u/{signed_for_a['u']}/", {"List-Unsubscribe": "One-Click"}, HTTP_HOST=crm.b.host
    )
    assert posted.status_code == 404
    visitor.get(f"/public/m/o/{signed_for_a['o']}/", HTTP_HOST=crm.b.host)
    with crm.b:
        assert not Suppression.objects.exists()
        untouched = Recipient.objects.get(pk=theirs.pk)
        assert (untouched.unsubscribed_at, untouched.clicked_at, untouched.opened_at) == (
            None,
            None,
            None,
        )
        assert CampaignLink.objects.get().clicks == 0
    # On A's own host the same links work.
    page = visitor.get(f"/public/m/u/{signed_for_a['u']}/", HTTP_HOST=crm.a.host)
    assert page.status_code == 200
    assert b"an***@romashka.test" in page.content
    assert b"anna@romashka.test" not in page.content  # the address is not spelled out
    with crm.a:
        assert not Suppression.objects.exists()  # a GET (a link scanner) unsubscribes nobody
    visitor.post(f"/public/m/u/{signed_for_a['u']}/", HTTP_HOST=crm.a.host)
    with crm.a:
        assert Suppression.objects.get().email == "anna@romashka.test"
        assert Consent.objects.get().withdrawn_at is not None


def test_a_click_link_leads_only_where_its_campaign_points(crm: Any) -> None:
    recipient, link = _letter(crm.a)
    with crm.a:
        other = Campaign.objects.create(name="Другая", subject="S")
        foreign = CampaignLink.objects.create(campaign=other, url="https://evil.example/")
        good = tokens.make("click", recipient.pk, link.pk)
        # Correctly signed, but the link is not of the recipient's campaign.
        crossed = tokens.make("click", recipient.pk, foreign.pk)
    visitor = HttpClient()
    landed = visitor.get(f"/public/m/c/{good}/", HTTP_HOST=crm.a.host)
    assert landed.status_code == 302
    assert landed["Location"] == (
        "https://okna.example/sale?utm_source=email&utm_medium=email&utm_campaign=spring"
    )
    assert visitor.get(f"/public/m/c/{crossed}/", HTTP_HOST=crm.a.host).status_code == 404
    _value, signature = good.split(":", 1)
    tampered = f"{recipient.pk}.{foreign.pk}:{signature}"
    assert visitor.get(f"/public/m/c/{tampered}/", HTTP_HOST=crm.a.host).status_code == 404
    # Arbitrary targets cannot be passed at all: there is no URL parameter to abuse.
    assert visitor.get(f"/public/m/c/{good}/?next=https://evil.example/", HTTP_HOST=crm.a.host)[
        "Location"
    ].startswith("https://okna.example/")
    with crm.a:
        assert CampaignLink.objects.get(pk=link.pk).clicks == 2
        assert Recipient.objects.get(pk=recipient.pk).clicked_at is not None


BAD_TOKENS = [
    "x",
    "1",
    "1:",
    ":abc",
    "1:abc",
    "0:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "-1:abc",
    "1.2.3:abc",
    "9" * 300,
    "Ω≈ç√∫",
    "%00",
    "1%0d%0aSet-Cookie:x=1",
    "' OR 1=1 --",
    "..%2f..%2fetc%2fpasswd",
    "1:" + "a" * 5000,
]


@pytest.mark.parametrize("kind", ["u", "c", "o"])
def test_public_links_answer_bad_input_plainly(crm: Any, kind: str) -> None:
    _letter(crm.a)
    visitor = HttpClient()
    for token in BAD_TOKENS:
        for method in (visitor.get, visitor.post):
            response = method(f"/public/m/{kind}/{token}/", HTTP_HOST=crm.a.host)
            expected = {404, 405}
            assert response.status_code in expected, (token, method, response.status_code)
    with crm.a:
        recipient = Recipient.objects.get()
        assert (recipient.unsubscribed_at, recipient.clicked_at, recipient.opened_at) == (
            None,
            None,
            None,
        )
    # Not on the public site either.
    assert visitor.get(f"/public/m/{kind}/x/", HTTP_HOST="localhost").status_code == 404


def _postmark(crm: Any, secret: str | None = None) -> str:
    with crm.a:
        row = SendingSettings.objects.create(
            channel="provider",
            provider="postmark",
            provider_key=credentials.seal("server-token"),
            from_email="news@okna.test",
        )
        return secret or row.webhook_secret


def _auth(secret: str) -> str:
    return "Basic " + b64encode(f"relata:{secret}".encode()).decode()


def test_a_providers_bounce_and_complaint_suppress_the_address(crm: Any) -> None:
    recipient, _link = _letter(crm.a)
    secret = _postmark(crm)
    bounce = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "ID": 42,
        "MessageID": "<m1@okna.test>",
        "Email": "anna@romashka.test",
        "Description": "The address does not exist",
        "BouncedAt": "2026-12-06T10:00:00Z",
        "Metadata": {"recipient": str(recipient.pk)},
    }
    hook = HttpClient()
    denied = hook.post(
        "/public/marketing/hooks/postmark/",
        json.dumps(bounce),
        content_type="application/json",
        HTTP_AUTHORIZATION=_auth("wrong"),
        HTTP_HOST=crm.a.host,
    )
    assert denied.status_code == 400
    with crm.a:
        assert not Suppression.objects.exists()
    # Company B has no provider: its host has no such webhook.
    assert (
        hook.post(
            "/public/marketing/hooks/postmark/",
            json.dumps(bounce),
            content_type="application/json",
            HTTP_AUTHORIZATION=_auth(secret),
            HTTP_HOST=crm.b.host,
        ).status_code
        == 404
    )
    taken = hook.post(
        "/public/marketing/hooks/postmark/",
        json.dumps(bounce),
        content_type="application/json",
        HTTP_AUTHORIZATION=_auth(secret),
        HTTP_HOST=crm.a.host,
    )
    assert taken.status_code == 200
    with crm.a:
        assert Suppression.objects.get().reason == "bounced"
        assert Recipient.objects.get().bounced_at is not None
    garbage = hook.post(
        "/public/marketing/hooks/postmark/",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=_auth(secret),
        HTTP_HOST=crm.a.host,
    )
    assert garbage.status_code == 400


def test_a_bounce_report_to_the_mailbox_marks_the_letter(crm: Any) -> None:
    recipient, _link = _letter(crm.a)
    report = EmailMessage()
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.romashka.test>"
    report["To"] = "news@okna.test"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.set_content("This is the mail system. Your message could not be delivered.")
    report.make_mixed()
    status = EmailMessage()
    status.set_content(
        "Reporting-MTA: dns; mx.romashka.test\n\n"
        "Final-Recipient: rfc822; anna@romashka.test\n"
        "Action: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
    )
    raw = report.as_bytes().replace(
        b"multipart/mixed", b"multipart/report; report-type=delivery-status", 1
    )
    boundary = report.get_boundary()
    assert boundary is not None
    dsn = (
        f"--{boundary}\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.romashka.test\n\n"
        "Final-Recipient: rfc822; anna@romashka.test\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n"
        f"--{boundary}\nContent-Type: text/rfc822-headers\n\n"
        "Message-ID: <m1@okna.test>\nTo: anna@romashka.test\n\n"
        f"--{boundary}--\n"
    ).encode()
    raw = raw.rsplit(f"--{boundary}--".encode(), 1)[0] + dsn
    with crm.a:
        assert tracking_events.apply_if_bounce_report(raw) == 1
        assert Suppression.objects.get().reason == "bounced"
        assert Recipient.objects.get(pk=recipient.pk).bounced_at is not None
        # An ordinary letter is not taken for a report.
        plain = b"From: anna@romashka.test\r\nSubject: Hi\r\n\r\nHello"
        assert tracking_events.apply_if_bounce_report(plain) == 0


def test_consent_ticked_on_a_web_form_is_recorded_with_its_text(crm: Any) -> None:
    with crm.a:
        form = RequestForm.objects.create(
            name="Сайт",
            fields=[
                {"key": "name", "label": "", "required": True},
                {"key": "email", "label": "", "required": True},
                {"key": "consent", "label": "Согласен получать новости", "required": False},
            ],
        )
    visitor = HttpClient()
    url = f"/public/forms/{form.public_id}/"
    page = visitor.get(url, HTTP_HOST=crm.a.host)
    assert b'type="checkbox" id="f_consent"' in page.content
    assert b"checked" not in page.content.split(b'id="f_consent"')[1][:40]
    visitor.post(url, {"f_name": "Анна", "f_email": "Anna@Site.test"}, HTTP_HOST=crm.a.host)
    with crm.a:
        assert not Consent.objects.exists()
    visitor.post(
        url,
        {"f_name": "Борис", "f_email": "boris@site.test", "f_consent": "yes"},
        HTTP_HOST=crm.a.host,
    )
    with crm.a:
        consent = Consent.objects.get()
        assert (consent.email, consent.source, consent.text) == (
            "boris@site.test",
            "web_form",
            "Согласен получать новости",
        )
        assert consent.details.startswith("Сайт")
        # A contact person made later with that address may receive campaigns.
        from marketing.services.consent import consent_in_force

        boris = Contact.objects.create(first_name="Борис", emails=["boris@site.test"])
        assert consent_in_force(boris)


def test_consent_on_the_card_is_seen_recorded_and_withdrawn(crm: Any) -> None:
    with crm.a:
        client = Client.objects.create(name="ООО Ромашка", responsible=crm.manager.user)
        anna = Contact.objects.create(
            client=client,
            first_name="Анна",
            emails=["anna@romashka.test"],
            responsible=crm.manager.user,
        )
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    card = browser.get(f"/contacts/{anna.pk}/card/", HTTP_HOST=crm.a.host).content.decode()
    assert f"/marketing/contacts/{anna.pk}/consent/" in card
    panel = browser.get(f"/marketing/contacts/{anna.pk}/consent/", HTTP_HOST=crm.a.host)
    assert "Нет согласия" in panel.content.decode()
    empty = browser.post(
        f"/marketing/contacts/{anna.pk}/consent/",
        {"email": "anna@romashka.test", "source": "manual", "text": "  "},
        HTTP_HOST=crm.a.host,
    )
    assert "errorlist" in empty.content.decode()
    saved = browser.post(
        f"/marketing/contacts/{anna.pk}/consent/",
        {
            "email": "anna@romashka.test",
            "source": "manual",
            "details": "звонок 05.12",
            "text": "Согласна на новости по e-mail",
        },
        HTTP_HOST=crm.a.host,
    )
    assert "Согласие на рассылки есть" in saved.content.decode()
    with crm.a:
        consent = Consent.objects.get()
    browser.post(
        f"/marketing/contacts/{anna.pk}/consent/{consent.pk}/withdraw/", HTTP_HOST=crm.a.host
    )
    with crm.a:
        assert Consent.objects.get().withdrawn_at is not None
    # Another company's member: 404 on every one of these.
    owner_b = Membership.objects.get(company=crm.b.company, user=crm.b.owner)
    stranger = login_on_host(owner_b.user, crm.b.company, crm.b.host)
    for path in (
        f"/marketing/contacts/{anna.pk}/consent/",
        f"/marketing/contacts/{anna.pk}/consent/{consent.pk}/withdraw/",
    ):
        assert stranger.get(path, HTTP_HOST=crm.b.host).status_code in {404, 405}
        assert stranger.post(path, HTTP_HOST=crm.b.host).status_code == 404


def test_every_marketing_page_of_a_is_404_to_company_b(crm: Any) -> None:
    recipient, _link = _letter(crm.a)
    with crm.a:
        segment = Segment.objects.create(name="A's", kind="static")
        campaign = recipient.campaign
    owner_b = Membership.objects.get(company=crm.b.company, user=crm.b.owner)
    stranger = login_on_host(owner_b.user, crm.b.company, crm.b.host)
    for path in (
        f"/marketing/{campaign.pk}/",
        f"/marketing/{campaign.pk}/edit/",
        f"/marketing/{campaign.pk}/preview/",
        f"/marketing/segments/{segment.pk}/",
        f"/marketing/segments/{segment.pk}/edit/",
    ):
        assert stranger.get(path, HTTP_HOST=crm.b.host).status_code == 404, path
    for path in (
        f"/marketing/{campaign.pk}/send/",
        f"/marketing/{campaign.pk}/test/",
        f"/marketing/{campaign.pk}/cancel/",
        f"/marketing/{campaign.pk}/resume/",
        f"/marketing/{campaign.pk}/cost/",
        f"/marketing/segments/{segment.pk}/members/",
    ):
        assert stranger.post(path, HTTP_HOST=crm.b.host).status_code == 404, path
    listing = stranger.get("/marketing/", HTTP_HOST=crm.b.host).content.decode()
    assert "Весна" not in listing
    assert stranger.get("/marketing/sending/", HTTP_HOST=crm.b.host).status_code == 200
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/marketing/sending/", HTTP_HOST=crm.a.host).status_code == 404


def test_requests_by_campaign_report_counts_the_campaigns_requests_and_won_revenue(
    crm: Any,
) -> None:
    from decimal import Decimal

    from crm_core.models import Deal, Stage

    recipient, _link = _letter(crm.a)
    with crm.a:
        Campaign.objects.filter(pk=recipient.campaign_id).update(cost=Decimal(1000))
        won = Stage.objects.get(pipeline=crm.pipeline, outcome="won")
        deal = Deal.objects.create(
            title="Окна", amount=Decimal(5000), pipeline=crm.pipeline, stage=won
        )
        Lead.objects.create(
            name="Анна", utm={"utm_campaign": "spring"}, deal=deal, status="converted"
        )
        Lead.objects.create(name="Борис", utm={"utm_campaign": "spring"})
        Lead.objects.create(name="Чужая", utm={"utm_campaign": "other"})
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = browser.get("/reports/campaigns/", HTTP_HOST=crm.a.host).content.decode()
    assert "Весна" in page
    assert "400 %" in page  # (5000 - 1000) / 1000
    listing = browser.get("/marketing/", HTTP_HOST=crm.a.host).content.decode()
    assert 'data-figure="requests">2<' in listing


def test_the_admin_sets_a_provider_whose_key_is_sealed_and_never_shown(crm: Any) -> None:
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    missing = browser.post(
        "/marketing/sending/",
        {"channel": "provider", "provider": "postmark", "rate_per_minute": "120"},
        HTTP_HOST=crm.a.host,
    )
    assert "errorlist" in missing.content.decode()
    saved = browser.post(
        "/marketing/sending/",
        {
            "channel": "provider",
            "provider": "postmark",
            "key": "pm-server-token-1",
            "from_email": "news@okna.test",
            "from_name": "Окна Кирилла",
            "rate_per_minute": "120",
        },
        HTTP_HOST=crm.a.host,
    )
    assert saved.status_code == 302
    with crm.a:
        row = SendingSettings.objects.get()
        assert row.provider_key.startswith("gAAAA")
        assert credentials.unseal(row.provider_key) == "pm-server-token-1"
    page = browser.get("/marketing/sending/", HTTP_HOST=crm.a.host).content.decode()
    assert "pm-server-token-1" not in page
    assert f"relata:{row.webhook_secret}@{crm.a.host}/public/marketing/hooks/postmark/" in page
    too_fast = browser.post(
        "/marketing/sending/",
        {
            "channel": "provider",
            "provider": "postmark",
            "from_email": "n@o.test",
            "rate_per_minute": "999999",
        },
        HTTP_HOST=crm.a.host,
    )
    assert "10" in too_fast.content.decode()
    with crm.a:
        assert SendingSettings.objects.get().rate_per_minute == 120


def test_a_provider_letter_names_its_recipient_and_keeps_the_one_click_headers(crm: Any) -> None:
    from marketing.services.delivery import build

    recipient, link = _letter(crm.a)
    with crm.a:
        row = SendingSettings.objects.create(
            channel="provider", provider="postmark", from_email="news@okna.test", from_name="Окна"
        )
        campaign = recipient.campaign
        campaign.blocks = [
            {"kind": "text", "text": "Привет, {first_name}"},
            {"kind": "button", "text": "Смотреть", "url": link.url},
        ]
        campaign.base_url = f"http://{crm.a.host}"
        built = build(
            company=crm.a.company,
            campaign=campaign,
            s=row,
            recipient=recipient,
            contact=recipient.contact,
            to=recipient.email,
            links={link.url: link.pk},
        )
    message: Any = built.message
    assert message.metadata == {"recipient": str(recipient.pk), "campaign": str(campaign.pk)}
    assert message.track_clicks is False
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith(f"<http://{crm.a.host}/public/m/u/")
    assert "Привет, Анна" in built.letter.text
    assert f"http://{crm.a.host}/public/m/c/" in built.letter.html
