"""Logging in by e-mail on the public site, choosing a company, verification, password reset."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client as HttpClient

from tenants.models import Membership

PASSWORD = "Correct-Horse-42"


def test_login_by_email_then_choose_among_several_companies(make_company: Any) -> None:
    first = make_company("Okna Kirilla")
    second = make_company("Dveri Kirilla", email=first.owner.email)
    assert Membership.objects.filter(user=first.owner).count() == 2

    browser = HttpClient()
    response = browser.post(
        "/accounts/login/", {"login": first.owner.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/companies/"
    chooser = browser.get("/companies/").content.decode()
    assert "Okna Kirilla" in chooser
    assert "Dveri Kirilla" in chooser

    enter = browser.get(f"/companies/{second.company.slug}/enter/")
    assert enter.status_code == 302
    assert enter["Location"].startswith(f"http://{second.host}/handoff/")
    # A company the user does not belong to cannot be entered from the chooser either.
    stranger = make_company("Someone else")
    assert browser.get(f"/companies/{stranger.company.slug}/enter/").status_code == 404


def test_anonymous_visitor_of_a_company_is_sent_to_log_in_and_back(make_company: Any) -> None:
    made = make_company("Okna")
    response = HttpClient().get("/", HTTP_HOST=made.host)
    assert response.status_code == 302
    login = HttpClient().get(response["Location"], HTTP_HOST=made.host)
    assert login.status_code == 302
    from urllib.parse import unquote

    assert "/accounts/login/?next=" in login["Location"]
    assert f"/companies/{made.company.slug}/enter/" in unquote(login["Location"])


@pytest.mark.django_db
def test_signup_sends_a_verification_email_and_the_link_verifies(client: HttpClient) -> None:
    from allauth.account.models import EmailAddress

    client.post(
        "/signup/",
        {
            "company_name": "Verify Co",
            "slug": "verify-co",
            "email": "verify@example.com",
            "password": PASSWORD,
            "signup_key": "0b7b5c7e-8a57-4a5e-9a39-1d7f7f5f0d11",
        },
    )
    (message,) = mail.outbox
    assert message.to == ["verify@example.com"]
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", str(message.body))
    assert link, message.body
    path = link.group(0).split("testserver", 1)[-1] if "testserver" in link.group(0) else None
    path = path or "/" + link.group(0).split("/", 3)[3]
    client.post(path)
    assert EmailAddress.objects.get(email="verify@example.com").verified


def test_password_reset_by_email(make_company: Any) -> None:
    made = make_company("Reset Co")
    browser = HttpClient()
    response = browser.post("/accounts/password/reset/", {"email": made.owner.email})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert made.owner.email in message.to
    assert "/accounts/password/reset/key/" in message.body


def test_failed_logins_are_rate_limited(make_company: Any, settings: Any) -> None:
    made = make_company("Limited Co")
    browser = HttpClient()
    for _ in range(10):
        wrong = browser.post("/accounts/login/", {"login": made.owner.email, "password": "guess"})
        assert wrong.status_code == 200  # the form again, with "wrong password"
    # Past the limit even the right password is refused for a while: guessing stops paying.
    right = browser.post(
        "/accounts/login/",
        {"login": made.owner.email, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert right.status_code in (200, 429)
    assert "_auth_user_id" not in browser.session
    assert b"Too many failed login attempts" in right.content


def test_sign_up_does_not_wait_on_the_broker(db: None, monkeypatch: Any) -> None:
    from relata.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = HttpClient().post(
        "/signup/",
        {
            "company_name": "No Broker",
            "slug": "no-broker",
            "email": "nobroker@example.com",
            "password": PASSWORD,
            "signup_key": "5d0c6f0e-2d7c-4d57-9a3b-9a7e3c1f8a21",
        },
    )
    assert response.status_code == 302
