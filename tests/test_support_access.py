"""Relata's support inside a company's CRM: only with consent, read-only, no seat, recorded
and shown to that company's admins only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client as HttpClient
from django.utils import translation

from billing.models import BillingLogEntry
from billing.queries import seats_in_use
from onboarding.services.exports import build_export, request_export
from tenants.models import Company, HandoffToken, Membership, SupportSession
from tests.test_isolation import login_on_host
from tests.test_operators import PUBLIC, mfa_login, staff


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def open_support(operator: HttpClient, company: Company) -> Any:
    return operator.post(f"/ops/companies/{company.pk}/support/", HTTP_HOST=PUBLIC)


def test_support_session_needs_consent_is_read_only_recorded_and_seen_by_that_company_only(
    two_companies: Any,
) -> None:
    a, b = two_companies
    user, secret = staff("support-op@example.com")
    operator = mfa_login(user, secret)

    # Off by default: refused, nothing recorded, no link issued.
    refused = open_support(operator, a.company)
    assert refused.status_code == 302
    assert refused["Location"] == f"/ops/companies/{a.company.pk}/"
    assert not SupportSession.objects.exists()
    assert not HandoffToken.objects.filter(user=user).exists()
    page = operator.get(refused["Location"], HTTP_HOST=PUBLIC).content.decode()
    assert 'id="ops-support-off"' in page

    # A's owner allows it for 7 days on the team page.
    owner_a = login_on_host(a.owner, a.company, a.host)
    allowed = owner_a.post(
        "/settings/team/support/", {"allowed": "on", "days": "7"}, HTTP_HOST=a.host
    )
    assert allowed.status_code == 302
    assert Company.objects.get(pk=a.company.pk).support_access_until is not None
    # Not B's admins' business, and not a member's who is no admin.
    manager = Membership.objects.create(
        company=a.company,
        user=type(a.owner).objects.create_user(email="mgr-support@example.com"),
        role="manager",
    )
    manager_browser = login_on_host(manager.user, a.company, a.host)
    assert (
        manager_browser.post(
            "/settings/team/support/", {"allowed": "on"}, HTTP_HOST=a.host
        ).status_code
        == 404
    )

    seats_before = seats_in_use(a.company)
    opened = open_support(operator, a.company)
    assert opened.status_code == 302
    link = urlsplit(opened["Location"])
    assert link.netloc.split(":")[0] == a.host
    token_path = link.path
    # A's link is refused on B's host (and stays unused).
    visitor_b = HttpClient()
    assert visitor_b.get(token_path, HTTP_HOST=b.host).status_code == 403
    # Nor is it an ordinary member's handoff.
    ordinary = HttpClient()
    as_member = ordinary.get(token_path.replace("/support/", "/handoff/"), HTTP_HOST=a.host)
    assert as_member.status_code == 302
    assert as_member["Location"] != "/"
    assert ordinary.get("/", HTTP_HOST=a.host).status_code == 302

    support = HttpClient(REMOTE_ADDR="203.0.113.7")
    entered = support.get(token_path, HTTP_HOST=a.host)
    assert entered.status_code == 302
    assert entered["Location"] == "/"
    # Single use.
    assert HttpClient().get(token_path, HTTP_HOST=a.host).status_code == 403

    home = support.get("/", HTTP_HOST=a.host)
    assert home.status_code == 200
    body = home.content.decode()
    assert 'id="support-banner"' in body
    assert user.email in body
    deals = support.get("/deals/list/", HTTP_HOST=a.host)
    assert deals.status_code == 200
    assert 'id="support-banner"' in deals.content.decode()
    # Read-only: no change goes through, whatever the page.
    write = support.post("/deals/new/", {"title": "x"}, HTTP_HOST=a.host)
    assert write.status_code == 403
    assert "support-read-only" in write.content.decode()
    # No membership, no seat; the team pages are not the operator's.
    assert not Membership.objects.filter(user=user).exists()
    assert seats_in_use(a.company) == seats_before
    assert support.get("/settings/team/", HTTP_HOST=a.host).status_code == 404
    # Nor is the company's whole base: no import pages, no full export, not even one
    # the owner has already built.
    with a.company:
        export = build_export(request_export(user_id=a.owner.pk), company=a.company)
    assert export.status == "done"
    for path in ("/import/", "/export/", f"/export/{export.pk}/download/"):
        assert support.get(path, HTTP_HOST=a.host).status_code == 404, path
    assert owner_a.get(f"/export/{export.pk}/download/", HTTP_HOST=a.host).status_code == 200

    session = SupportSession.objects.get()
    assert session.company_id == a.company.pk
    assert session.operator_email == user.email
    assert session.ip == "127.0.0.1"  # the operator's address on the console
    assert session.entered_at is not None
    assert session.ended_at is None
    assert BillingLogEntry.objects.filter(
        company=a.company, actor=user, kind="operator", message__contains="support session"
    ).exists()

    # A's admins see it; B's admins never do.
    team_a = owner_a.get("/settings/team/", HTTP_HOST=a.host).content.decode()
    assert f'data-support-session="{session.pk}"' in team_a
    assert user.email in team_a
    owner_b = login_on_host(b.owner, b.company, b.host)
    team_b = owner_b.get("/settings/team/", HTTP_HOST=b.host).content.decode()
    assert "data-support-session" not in team_b
    assert user.email not in team_b

    # A's owner withdraws consent: the session ends at the operator's next request.
    owner_a.post("/settings/team/support/", {}, HTTP_HOST=a.host)
    after = support.get("/", HTTP_HOST=a.host)
    assert after.status_code == 302
    session.refresh_from_db()
    assert session.ended_at is not None
    assert session.end_reason == "access_withdrawn"
    assert open_support(operator, a.company)["Location"] == f"/ops/companies/{a.company.pk}/"
    assert SupportSession.objects.count() == 1


def test_the_operator_ends_the_support_session(two_companies: Any) -> None:
    a, _b = two_companies
    Company.objects.filter(pk=a.company.pk).update(support_access=True)
    user, secret = staff("support-end@example.com")
    operator = mfa_login(user, secret)
    link = urlsplit(open_support(operator, a.company)["Location"])
    support = HttpClient()
    support.get(link.path, HTTP_HOST=a.host)
    confirm = support.get("/support/end/", HTTP_HOST=a.host)
    assert 'id="support-end"' in confirm.content.decode()
    ended = support.post("/support/end/", HTTP_HOST=a.host)
    assert ended.status_code == 302
    assert f"/ops/companies/{a.company.pk}/" in ended["Location"]
    session = SupportSession.objects.get()
    assert session.end_reason == "ended_by_operator"
    assert support.get("/", HTTP_HOST=a.host).status_code == 302  # out of the CRM


def test_staff_without_mfa_cannot_open_a_support_session(two_companies: Any) -> None:
    a, _b = two_companies
    Company.objects.filter(pk=a.company.pk).update(support_access=True)
    user, _secret = staff("support-nomfa@example.com")
    skipped = HttpClient()
    skipped.force_login(user)
    assert open_support(skipped, a.company).status_code == 403
    assert not SupportSession.objects.exists()
