"""The operators' console: staff with a second factor only; every action audited."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.test import Client as HttpClient
from django.utils import timezone, translation

from billing.models import BillingLogEntry, Plan, Subscription
from billing.services.subscriptions import ensure_subscription
from tenants.models import Company, User

PUBLIC = "localhost"
PASSWORD = "Operator-Pass-4417"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def staff(email: str = "op@example.com", *, mfa: bool = True) -> tuple[User, str]:
    user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
    secret = generate_totp_secret()
    if mfa:
        TOTP.activate(user, secret)
    return user, secret


def mfa_login(user: User, secret: str) -> HttpClient:
    """The real allauth login: password, then the authenticator's current code."""
    browser = HttpClient()
    first = browser.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}, HTTP_HOST=PUBLIC
    )
    assert first.status_code == 302, first
    assert "/2fa/" in first["Location"]
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    second = browser.post("/accounts/2fa/authenticate/", {"code": code}, HTTP_HOST=PUBLIC)
    assert second.status_code == 302, second
    return browser


def test_console_refuses_non_staff_and_staff_without_mfa(two_companies: Any) -> None:
    a, _b = two_companies
    anonymous = HttpClient().get("/ops/", HTTP_HOST=PUBLIC)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]

    member = HttpClient()
    member.force_login(a.owner)
    assert member.get("/ops/", HTTP_HOST=PUBLIC).status_code == 403
    assert member.get("/ops/metrics/", HTTP_HOST=PUBLIC).status_code == 403
    acted = member.post(f"/ops/companies/{a.company.pk}/suspend/", HTTP_HOST=PUBLIC)
    assert acted.status_code == 403
    assert Company.objects.get(pk=a.company.pk).status == "trialing"

    no_mfa, _secret = staff("nomfa@example.com", mfa=False)
    browser = HttpClient()
    browser.post(
        "/accounts/login/", {"login": no_mfa.email, "password": PASSWORD}, HTTP_HOST=PUBLIC
    )
    refused = browser.get("/ops/", HTTP_HOST=PUBLIC)
    assert refused.status_code == 403
    assert "ops-needs-mfa" in refused.content.decode()

    # An authenticator that this session did not use is not enough.
    with_mfa, secret = staff()
    skipped = HttpClient()
    skipped.force_login(with_mfa)
    response = skipped.get("/ops/", HTTP_HOST=PUBLIC)
    assert response.status_code == 403
    assert "ops-mfa-not-used" in response.content.decode()

    operator = mfa_login(with_mfa, secret)
    page = operator.get("/ops/", HTTP_HOST=PUBLIC)
    assert page.status_code == 200
    assert a.company.slug in page.content.decode()
    # Never on a company's host.
    assert operator.get("/ops/", HTTP_HOST=a.host).status_code == 404


def test_operator_actions_are_applied_and_audited(
    two_companies: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a, b = two_companies
    user, secret = staff()
    operator = mfa_login(user, secret)
    big = Plan.objects.create(code="big", name="Big", price_per_seat=Decimal(900), seat_cap=50)
    company = a.company
    before = ensure_subscription(company).trial_ends_at
    url = f"/ops/companies/{company.pk}/"

    assert operator.post(url + "extend_trial/", {"days": "7"}, HTTP_HOST=PUBLIC).status_code == 302
    assert before is not None
    assert Subscription.objects.get(company=company).trial_ends_at > before  # type: ignore[operator]
    refused = operator.post(url + "extend_trial/", {"days": "-3"}, HTTP_HOST=PUBLIC, follow=True)
    assert "от 1 до 366" in refused.content.decode()  # translated (the default language)

    operator.post(url + "change_plan/", {"plan": big.pk}, HTTP_HOST=PUBLIC)
    assert Subscription.objects.get(company=company).plan == big

    operator.post(url + "suspend/", HTTP_HOST=PUBLIC)
    assert Company.objects.get(pk=company.pk).status == "suspended"
    operator.post(url + "restore/", HTTP_HOST=PUBLIC)
    assert Company.objects.get(pk=company.pk).status == "trialing"

    operator.post(url + "grant_free_period/", {"days": "30"}, HTTP_HOST=PUBLIC)
    free_until = Subscription.objects.get(company=company).free_until
    assert free_until is not None
    assert free_until > timezone.now()

    with django_capture_on_commit_callbacks(execute=False):
        operator.post(url + "schedule_deletion/", HTTP_HOST=PUBLIC)
    assert Company.objects.get(pk=company.pk).status == "canceled"
    operator.post(url + "cancel_deletion/", HTTP_HOST=PUBLIC)
    # Its free period still runs: a trial again, not a paid company nobody pays for.
    assert Company.objects.get(pk=company.pk).status == "trialing"

    audit = BillingLogEntry.objects.filter(company=company, kind="operator", actor=user)
    assert audit.count() == 7
    assert not BillingLogEntry.objects.filter(company=b.company).exists()
    detail = operator.get(url, HTTP_HOST=PUBLIC).content.decode()
    assert "deletion canceled" in detail
    assert user.email in detail


def test_company_list_search_filters_and_metrics(two_companies: Any) -> None:
    a, b = two_companies
    plan = Plan.objects.create(code="std", name="Std", price_per_seat=Decimal(500))
    paying = ensure_subscription(a.company)
    paying.plan = plan
    paying.stripe_subscription_id = "sub_x"
    paying.paid_seats = 3
    paying.save()
    Company.objects.filter(pk=a.company.pk).update(status="active")
    user, secret = staff()
    operator = mfa_login(user, secret)
    found = operator.get("/ops/", {"q": b.owner.email}, HTTP_HOST=PUBLIC).content.decode()
    assert b.company.slug in found
    assert a.company.slug not in found
    active = operator.get("/ops/", {"status": "active"}, HTTP_HOST=PUBLIC).content.decode()
    assert a.company.slug in active
    assert b.company.slug not in active
    assert "1500" in active  # MRR: 3 paid seats × 500
    metrics = operator.get("/ops/metrics/", HTTP_HOST=PUBLIC).content.decode()
    assert "1500" in metrics
    assert "<svg" in metrics
    assert "<rect" in metrics


def test_django_admin_demands_the_same_second_factor_as_the_console(db: None) -> None:
    anonymous = HttpClient().get("/ops/admin/", HTTP_HOST=PUBLIC, follow=True)
    assert anonymous.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "ops%2Fadmin" in anonymous.redirect_chain[-1][0]

    # The admin's own password form no longer signs anyone in: it hands over to allauth.
    no_mfa, _secret = staff("nomfa-admin@example.com", mfa=False)
    no_mfa.is_superuser = True
    no_mfa.save()
    password_only = HttpClient()
    posted = password_only.post(
        "/ops/admin/login/",
        {"username": no_mfa.email, "password": PASSWORD, "next": "/ops/admin/"},
        HTTP_HOST=PUBLIC,
    )
    assert posted.status_code == 302
    assert posted["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in password_only.session
    # Signed in through allauth with a password alone: still no admin page.
    password_only.post(
        "/accounts/login/", {"login": no_mfa.email, "password": PASSWORD}, HTTP_HOST=PUBLIC
    )
    assert "_auth_user_id" in password_only.session
    for url in ("/ops/admin/", "/ops/admin/billing/plan/", "/ops/admin/tenants/company/"):
        response = password_only.get(url, HTTP_HOST=PUBLIC, follow=True)
        assert response.status_code == 403, url
        assert "ops-needs-mfa" in response.content.decode()

    # An authenticator the session did not use is not enough either.
    with_mfa, secret = staff("mfa-admin@example.com")
    with_mfa.is_superuser = True
    with_mfa.save()
    skipped = HttpClient()
    skipped.force_login(with_mfa)
    assert skipped.get("/ops/admin/", HTTP_HOST=PUBLIC, follow=True).status_code == 403

    operator = mfa_login(with_mfa, secret)
    assert operator.get("/ops/admin/", HTTP_HOST=PUBLIC).status_code == 200
    plans = operator.get("/ops/admin/billing/plan/", HTTP_HOST=PUBLIC)
    assert plans.status_code == 200
    # A member of a company (not staff) never gets in, with or without MFA.
    member = User.objects.create_user(email="member-admin@example.com", password=PASSWORD)
    TOTP.activate(member, generate_totp_secret())
    outsider = HttpClient()
    outsider.force_login(member)
    assert outsider.get("/ops/admin/", HTTP_HOST=PUBLIC, follow=True).status_code == 403


def test_last_activity_is_kept_cheaply_and_listed_per_company(two_companies: Any) -> None:
    from datetime import timedelta

    from tests.test_isolation import login_on_host

    a, b = two_companies
    member = login_on_host(a.owner, a.company, a.host)
    assert member.get("/", HTTP_HOST=a.host).status_code == 200
    first = Company.objects.get(pk=a.company.pk).last_activity_at
    assert first is not None
    # Within the step no request writes the row again.
    earlier = first - timedelta(minutes=1)
    Company.objects.filter(pk=a.company.pk).update(last_activity_at=earlier)
    member.get("/deals/list/", HTTP_HOST=a.host)
    assert Company.objects.get(pk=a.company.pk).last_activity_at == earlier
    assert Company.objects.get(pk=b.company.pk).last_activity_at is None
    # A visitor who is not a member (here: A's owner on B's host) is no activity of B's.
    member.force_login(a.owner)
    member.get("/", HTTP_HOST=b.host)
    assert Company.objects.get(pk=b.company.pk).last_activity_at is None

    user, secret = staff()
    page = mfa_login(user, secret).get("/ops/", HTTP_HOST=PUBLIC).content.decode()
    cell_a = page.split(f'data-last-activity="{a.company.slug}">')[1].split("<")[0]
    cell_b = page.split(f'data-last-activity="{b.company.slug}">')[1].split("<")[0]
    assert cell_a.strip() not in ("", "—")
    assert cell_b.strip() == "—"


def test_seats_over_time_from_the_nightly_snapshot(two_companies: Any) -> None:
    from datetime import timedelta

    from billing.models import SeatSnapshot
    from billing.services import snapshots
    from tenants.models import Membership

    a, b = two_companies
    Membership.objects.create(
        company=a.company, user=User.objects.create_user(email="seat-m@example.com"), role="manager"
    )
    Membership.objects.create(
        company=b.company,
        user=User.objects.create_user(email="seat-r@example.com"),
        role="read_only",
    )
    today = timezone.localdate()
    SeatSnapshot.objects.create(
        day=today - timedelta(days=1), seats_in_use=1, paid_seats=0, companies=1
    )
    expected = sum(
        Membership.objects.filter(company=c, is_active=True).exclude(role="read_only").count()
        for c in Company.objects.filter(status__in=["trialing", "active", "past_due", "suspended"])
    )
    taken = snapshots.take()
    assert taken.seats_in_use == expected
    assert expected >= 3  # two owners and A's manager; B's read-only colleague is free
    assert snapshots.take().pk == taken.pk  # once a day
    user, secret = staff()
    page = mfa_login(user, secret).get("/ops/metrics/", HTTP_HOST=PUBLIC).content.decode()
    chart = page.split('id="seats-over-time"')[1].split("</section>")[0]
    assert chart.count("<rect") == 2
    assert f">{expected}<" in chart
