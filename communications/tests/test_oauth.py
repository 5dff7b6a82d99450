"""Connecting a mailbox by OAuth2 from the mailbox page: the authorization-code flow against a
local fake provider, XOAUTH2 against dovecot (IMAP, its oauth2 passdb introspecting the fake's
tokens) and aiosmtpd (SMTP), tokens sealed at rest and renewed before they run out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from communications import credentials
from communications.models import Mailbox
from communications.services.sending import Outgoing, send
from communications.tests.fake_oauth import CLIENT_ID, CLIENT_SECRET, FakeOAuth
from communications.tests.servers import Dovecot, SmtpServer
from tests.test_isolation import login_on_host


@pytest.fixture
def yandex(
    settings: Any, oauth_provider: FakeOAuth, dovecot: Dovecot, smtp_server: SmtpServer
) -> FakeOAuth:
    """Yandex's OAuth pointed at the fake provider, and its mail servers at the test's ones."""
    settings.MAIL_OAUTH_OVERRIDES = {
        "yandex": {
            "authorize_url": f"{oauth_provider.base_url}/authorize",
            "token_url": f"{oauth_provider.base_url}/token",
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    }
    smtp_server.oauth_check = lambda user, token: oauth_provider.valid(token) == user
    return oauth_provider


def _start(browser: Any, host: str, address: str) -> tuple[str, str]:
    page = browser.get("/mail/mailboxes/new/", HTTP_HOST=host).content.decode()
    assert 'id="oauth-yandex"' in page
    started = browser.post(
        "/mail/mailboxes/oauth/yandex/",
        {"address": address, "name": "Продажи", "kind": "personal"},
        HTTP_HOST=host,
    )
    assert started.status_code == 302
    query = parse_qs(urlparse(started["Location"]).query)
    return query["state"][0], query["redirect_uri"][0]


def test_a_mailbox_connected_by_oauth2_syncs_and_sends_and_renews_its_token(
    crm: Any, yandex: FakeOAuth, dovecot: Dovecot, smtp_server: SmtpServer
) -> None:
    address = dovecot.add_user()
    dovecot.deliver(address, b"From: lena@romashka.ru\r\nSubject: Hi\r\n\r\nHello\r\n")
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    state, redirect_uri = _start(browser, crm.a.host, address)
    assert redirect_uri.endswith("/mail/oauth/callback/")
    assert urlparse(redirect_uri).hostname == "localhost"  # the public site: one address
    # The owner consents on the provider's page; the provider returns to the public site,
    # which sends the browser back to the company's host.
    code = yandex.consent(address, redirect_uri)
    # (A browser keeps cookies per host; the test client has one jar, so the public site's
    # visit is made by a client of its own.)
    back = HttpClient().get(
        "/mail/oauth/callback/", {"code": code, "state": state}, HTTP_HOST="localhost"
    )
    assert back.status_code == 302
    finish = urlparse(back["Location"])
    assert finish.hostname == crm.a.host.split(":")[0]
    done = browser.get(finish.path + "?" + finish.query, HTTP_HOST=crm.a.host)
    assert (done.status_code, done["Location"]) == (302, "/mail/mailboxes/")
    with crm.a:
        box = Mailbox.objects.get(address=address)
        assert (box.auth_method, box.oauth_provider, box.owner_id) == (
            "xoauth2",
            "yandex",
            crm.manager.user_id,
        )
        first_access = credentials.decrypt(box.secret)
        assert yandex.valid(first_access) == address
        assert "rt-" not in box.refresh_secret  # sealed, never in clear
        assert credentials.decrypt(box.refresh_secret).startswith("rt-")
    # The same state cannot be used twice.
    again = browser.get(finish.path + "?" + finish.query, HTTP_HOST=crm.a.host, follow=True)
    assert "Start again" in again.content.decode() or "Начните заново" in again.content.decode()

    # The access token runs out: the next sign-in renews it first (IMAP by XOAUTH2 on dovecot,
    # then SMTP by XOAUTH2 on aiosmtpd).
    yandex.access[first_access] = (address, 0.0)
    with crm.a:
        Mailbox.objects.filter(pk=box.pk).update(
            token_expires_at=timezone.now() - timedelta(minutes=1)
        )
        from communications.services.sync import sync_mailbox

        box.refresh_from_db()
        sync_mailbox(crm.a.company, box)
        box.refresh_from_db()
        renewed = credentials.decrypt(box.secret)
        assert renewed != first_access
        assert yandex.valid(renewed) == address
        assert box.token_expires_at is not None
        assert box.token_expires_at > timezone.now() + timedelta(minutes=30)
        assert box.messages.filter(subject="Hi").exists()
        sent = send(
            sender=crm.manager.user,
            mailbox=box,
            outgoing=Outgoing(to=["lena@romashka.ru"], subject="Re: Hi", text="Здравствуйте"),
        )
        assert sent.delivery == "sent"
    assert yandex.grants[-2:] == ["authorization_code", "refresh_token"]
    assert smtp_server.received[-1].recipients == ["lena@romashka.ru"]


def test_a_state_from_another_session_or_company_is_refused(
    crm: Any, yandex: FakeOAuth, dovecot: Dovecot
) -> None:
    address = dovecot.add_user()
    grants_before = len(yandex.grants)  # the provider serves the whole session
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    state, redirect_uri = _start(manager, crm.a.host, address)
    code = yandex.consent(address, redirect_uri)
    finish = f"/mail/mailboxes/oauth/finish/?code={code}&state={state}"
    # A colleague handed the link (another session, another person) gets nothing.
    colleague = login_on_host(crm.colleague.user, crm.a.company, crm.a.host)
    refused = colleague.get(finish, HTTP_HOST=crm.a.host)
    assert (refused.status_code, refused["Location"]) == (302, "/mail/mailboxes/new/")
    # Company B's host: its owner, with the state of A's member, is refused too.
    b_owner = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    assert b_owner.get(finish, HTTP_HOST=crm.b.host)["Location"] == "/mail/mailboxes/new/"
    # A forged state is refused on the public site.
    forged = HttpClient().get(
        "/mail/oauth/callback/", {"code": code, "state": state + "x"}, HTTP_HOST="localhost"
    )
    assert forged.status_code == 400
    with crm.a:
        assert not Mailbox.objects.exists()
    with crm.b:
        assert not Mailbox.objects.exists()
    assert len(yandex.grants) == grants_before  # no code was exchanged for anyone else


def test_dovecot_refuses_a_bearer_token_the_provider_does_not_know(dovecot: Dovecot) -> None:
    import imaplib

    address = dovecot.add_user()
    client = imaplib.IMAP4(dovecot.host, dovecot.port)
    line = f"user={address}\x01auth=Bearer at-made-up\x01\x01"
    with pytest.raises(imaplib.IMAP4.error):
        client.authenticate("XOAUTH2", lambda _challenge: line.encode())
