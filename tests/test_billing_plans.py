"""Paying works out of the box: the shipped plans, the pricing page, and a company admin
choosing a plan, paying (Checkout on the Stripe fake), seeing invoices, cancelling and
resuming — real Stripe SDK → tests/fake_stripe.py → localstripe."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.utils import translation

from billing.models import Invoice, Plan, StripeEvent, Subscription
from billing.services import subscriptions
from tenants.models import Company, Membership, User
from tests.fake_stripe import FakeStripe
from tests.stripe_fixtures import eager_tasks, localstripe, stripe_fake
from tests.test_isolation import login_on_host as _login_on_host

pytestmark = pytest.mark.usefixtures("shipped_plans")

__all__ = ["eager_tasks", "localstripe", "stripe_fake"]
PUBLIC = "localhost"
NBSP = "\N{NO-BREAK SPACE}"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def login_on_host(user: Any, company: Any, host: str) -> HttpClient:
    """An admin's browser that asks for English pages."""
    browser = _login_on_host(user, company, host)
    browser.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return browser


def _webhook(fake: FakeStripe, type_: str, obj: dict[str, Any]) -> Any:
    payload = fake.event(type_, obj)
    return HttpClient().post(
        "/billing/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_HOST=PUBLIC,
        HTTP_STRIPE_SIGNATURE=fake.signed(payload),
    )


def _pay(admin: HttpClient, host: str, fake: FakeStripe, plan: str) -> str:
    """Choose ``plan`` and pay on the fake's Checkout page, then come back as Stripe sends
    the browser back. Returns the Checkout session id."""
    page = admin.get("/settings/billing/", HTTP_HOST=host).content.decode()
    assert f'id="pay-{plan}"' in page
    went = admin.post("/settings/billing/checkout/", {"plan": plan, "nonce": "n1"}, HTTP_HOST=host)
    assert went.status_code == 302, went.content
    assert went["Location"].startswith(fake.base + "/_fake/checkout/")
    session_id = went["Location"].rsplit("/", 1)[1]
    session = fake.complete_checkout(session_id)
    back = urlparse(str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id))
    assert back.path == "/settings/billing/"
    returned = admin.get(
        back.path, {"session_id": parse_qs(back.query)["session_id"][0]}, HTTP_HOST=host
    )
    assert returned.status_code == 302
    return session_id


def test_a_fresh_install_offers_the_shipped_plans_on_the_pricing_page(db: None) -> None:
    shipped = {plan.code: plan for plan in Plan.objects.all()}
    assert {"start", "team", "business"} <= set(shipped)
    assert shipped["team"].is_default
    assert shipped["start"].price_per_seat == Decimal(490)
    assert shipped["start"].limits["pipelines"] == 1
    assert "pipelines" not in shipped["business"].limits  # absent: no limit
    for plan in shipped.values():
        plan.full_clean()  # the shipped limits pass the operators' own validation

    ru = HttpClient().get("/pricing/", HTTP_HOST=PUBLIC, HTTP_ACCEPT_LANGUAGE="ru").content
    text = ru.decode()
    assert "Цены скоро появятся" not in text
    for name in ("Старт", "Команда", "Бизнес"):
        assert name in text
    assert f"490{NBSP}₽" in text
    assert f"1{NBSP}690{NBSP}₽" in text
    assert "за место в месяц" in text
    assert "1 воронка продаж" in text
    assert "Без ограничения воронок" in text
    en = HttpClient().get("/pricing/", HTTP_HOST=PUBLIC, HTTP_ACCEPT_LANGUAGE="en")
    body = en.content.decode()
    for name in ("Start", "Team", "Business"):
        assert f">{name}</h2>" in body
    assert "Старт" not in body
    assert f"1,690{NBSP}₽" in body
    assert "5 automation rules" in body

    landing = HttpClient().get("/", HTTP_HOST=PUBLIC, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert 'id="nav-pricing"' in landing
    assert 'id="landing-pricing"' in landing
    assert landing.count('href="/pricing/"') >= 2


def test_the_seeding_never_overwrites_what_an_operator_edited(db: None) -> None:
    migration = importlib.import_module("billing.migrations.0004_default_plans")
    Plan.objects.filter(code="start").update(price_per_seat=Decimal(590), name="Старт+")
    Plan.objects.filter(code="team").update(is_default=False)
    Plan.objects.filter(code="business").update(is_default=True)
    migration.create_default_plans(django_apps, None)
    start = Plan.objects.get(code="start")
    assert (start.price_per_seat, start.name) == (Decimal(590), "Старт+")
    assert list(Plan.objects.filter(is_default=True).values_list("code", flat=True)) == ["business"]
    assert Plan.objects.filter(code__in=["start", "team", "business"]).count() == 3


def test_plan_limits_are_whole_numbers_with_known_keys(db: None) -> None:
    plan = Plan(code="x", name="X", price_per_seat=Decimal(1), limits={"pipelines": 3})
    plan.full_clean()
    for bad in ({"pipelines": "3"}, {"pipelines": -1}, {"seats": 3}, {"pipelines": True}, [1]):
        plan.limits = bad
        with pytest.raises(ValidationError):
            plan.full_clean()


def test_without_keys_the_page_says_payments_are_not_set_up_and_a_plan_can_be_chosen(
    crm: Any, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    settings.DEBUG = False
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = admin.get("/settings/billing/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="test-mode"' in page
    assert 'id="setup-hint"' not in page  # env var names are for whoever runs Relata
    assert 'id="subscribe"' not in page
    assert 'id="plan-name">Team<' in page  # the trial runs on the shipped default plan
    chosen = admin.post("/settings/billing/plan/", {"plan": "business"}, HTTP_HOST=crm.a.host)
    assert chosen.status_code == 302
    assert Subscription.objects.get(company=crm.a.company).plan.code == "business"  # type: ignore[union-attr]
    refused = admin.post(
        "/settings/billing/checkout/", {"plan": "team"}, HTTP_HOST=crm.a.host, follow=True
    )
    assert "not set up on this installation" in refused.content.decode()
    assert Subscription.objects.get(company=crm.a.company).stripe_customer_id == ""
    crm.owner.user.is_staff = True
    crm.owner.user.save()
    page = admin.get("/settings/billing/", HTTP_HOST=crm.a.host).content.decode()
    assert "STRIPE_SECRET_KEY" in page
    assert "STRIPE_WEBHOOK_SECRET" in page
    # Nonsense from the form is a clear error, not a 500.
    bad = admin.post("/settings/billing/plan/", {"plan": "nope"}, HTTP_HOST=crm.a.host, follow=True)
    assert "Choose one of the plans" in bad.content.decode()


def test_a_plan_whose_seat_limit_the_team_exceeds_is_refused_with_the_reason(crm: Any) -> None:
    Plan.objects.filter(code="start").update(seat_cap=3)
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    refused = admin.post(
        "/settings/billing/plan/", {"plan": "start"}, HTTP_HOST=crm.a.host, follow=True
    )
    body = refused.content.decode()
    assert "allows 3 paid seats" in body
    assert "already takes 4" in body
    assert Subscription.objects.get(company=crm.a.company).plan.code == "team"  # type: ignore[union-attr]


def test_choose_pay_invoice_cancel_and_resume(
    two_companies: Any,
    stripe_fake: FakeStripe,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a, b = two_companies
    admin = login_on_host(a.owner, a.company, a.host)
    with django_capture_on_commit_callbacks(execute=True):
        _pay(admin, a.host, stripe_fake, "business")
    subscription = Subscription.objects.get(company=a.company)
    assert subscription.plan.code == "business"  # type: ignore[union-attr]
    assert subscriptions.paying_through_stripe(subscription)
    assert subscription.stripe_status == "active"
    assert Company.objects.get(pk=a.company.pk).status == "active"
    # The shipped plan had no Stripe price: one was made for its amount, found again later.
    prices = list(stripe_fake.prices.values())
    assert [(p["unit_amount"], p["lookup_key"]) for p in prices] == [
        (169000, "relata_business_169000_rub")
    ]
    invoice = Invoice.objects.get(company=a.company)
    assert invoice.status == "paid"
    assert invoice.total == Decimal(1690)
    assert invoice.hosted_invoice_url.startswith(stripe_fake.base)

    page = admin.get("/settings/billing/", HTTP_HOST=a.host, follow=True).content.decode()
    assert "The subscription is active" in page or 'id="billing-status">Active' in page
    assert f'data-invoice="{invoice.stripe_invoice_id}"' in page
    assert f"1,690{NBSP}₽" in page
    assert invoice.hosted_invoice_url in page
    assert 'id="next-payment"' in page
    assert 'id="cancel-confirm"' in page
    assert 'id="pay-team"' not in page  # paying: the chooser switches plans instead

    # Cancel at the end of the period, with the date stated; then change one's mind.
    cancelled = admin.post(
        "/settings/billing/cancel/", {"nonce": "c1"}, HTTP_HOST=a.host, follow=True
    )
    assert "The subscription ends on" in cancelled.content.decode()
    assert 'id="resume"' in cancelled.content.decode()
    assert stripe_fake.subscription(subscription.stripe_subscription_id)["cancel_at_period_end"]
    assert Subscription.objects.get(pk=subscription.pk).cancel_at_period_end
    assert Company.objects.get(pk=a.company.pk).status == "active"  # until the period ends
    resumed = admin.post("/settings/billing/resume/", {"nonce": "r1"}, HTTP_HOST=a.host)
    assert resumed.status_code == 302
    assert not Subscription.objects.get(pk=subscription.pk).cancel_at_period_end
    assert not stripe_fake.subscription(subscription.stripe_subscription_id)["cancel_at_period_end"]

    # Switching plans while paying moves the Stripe subscription to the other plan's price.
    admin.post("/settings/billing/plan/", {"plan": "team", "nonce": "p1"}, HTTP_HOST=a.host)
    remote = stripe_fake.subscription(subscription.stripe_subscription_id)
    team_price = next(p for p in stripe_fake.prices.values() if p["unit_amount"] == 99000)
    assert remote["items"]["data"][0]["plan"]["id"] == team_price["id"]
    assert Subscription.objects.get(pk=subscription.pk).plan.code == "team"  # type: ignore[union-attr]

    # Company B saw none of it.
    b_page = (
        login_on_host(b.owner, b.company, b.host)
        .get("/settings/billing/", HTTP_HOST=b.host)
        .content.decode()
    )
    assert invoice.stripe_invoice_id not in b_page
    assert 'id="no-invoices"' in b_page
    assert not Invoice.objects.filter(company=b.company).exists()


def test_a_checkout_session_of_another_company_is_not_attached(
    two_companies: Any,
    stripe_fake: FakeStripe,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a, b = two_companies
    with django_capture_on_commit_callbacks(execute=True):
        session_a = _pay(login_on_host(a.owner, a.company, a.host), a.host, stripe_fake, "team")
    admin_b = login_on_host(b.owner, b.company, b.host)
    admin_b.get("/settings/billing/", HTTP_HOST=b.host)
    # B opens its billing page with A's session id (a shared or crafted link).
    admin_b.post("/settings/billing/checkout/", {"plan": "team"}, HTTP_HOST=b.host)
    admin_b.get("/settings/billing/", {"session_id": session_a}, HTTP_HOST=b.host)
    b_sub = Subscription.objects.get(company=b.company)
    assert b_sub.stripe_subscription_id == ""
    assert Company.objects.get(pk=b.company.pk).status == "trialing"
    assert not Invoice.objects.filter(company=b.company).exists()
    # A's admin cannot reach B's billing actions.
    admin_a = login_on_host(a.owner, a.company, a.host)
    admin_a.force_login(a.owner)
    for path in ("plan/", "cancel/", "resume/", "checkout/"):
        answer = admin_a.post(f"/settings/billing/{path}", {"plan": "start"}, HTTP_HOST=b.host)
        assert answer.status_code in (302, 404)
    assert Subscription.objects.get(company=b.company).plan.code == "team"  # type: ignore[union-attr]


def test_members_who_are_not_admins_get_no_billing_controls(crm: Any) -> None:
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/settings/billing/", HTTP_HOST=crm.a.host).status_code == 404
    for path in ("plan/", "cancel/", "resume/", "checkout/", "portal/"):
        answer = manager.post(f"/settings/billing/{path}", {"plan": "start"}, HTTP_HOST=crm.a.host)
        assert answer.status_code == 404
    assert Subscription.objects.filter(company=crm.a.company, plan__code="start").count() == 0


def test_invoice_webhooks_are_stored_once_per_invoice_and_only_for_their_company(
    two_companies: Any,
    stripe_fake: FakeStripe,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a, b = two_companies
    with django_capture_on_commit_callbacks(execute=True):
        _pay(login_on_host(a.owner, a.company, a.host), a.host, stripe_fake, "team")
        _pay(login_on_host(b.owner, b.company, b.host), b.host, stripe_fake, "start")
    Invoice.objects.all().delete()
    sub_a = Subscription.objects.get(company=a.company)
    remote = stripe_fake.call("GET", "/v1/invoices", [("customer", sub_a.stripe_customer_id)])
    invoice = remote["data"][0]
    # The event carries a stale status: the stored invoice is what Stripe says now.
    stale = {**invoice, "status": "open", "customer": sub_a.stripe_customer_id}
    payload = stripe_fake.event("invoice.paid", stale)
    signature = stripe_fake.signed(payload)
    for _copy in range(2):  # Stripe delivers some events twice
        with django_capture_on_commit_callbacks(execute=True):
            answer = HttpClient().post(
                "/billing/stripe/webhook/",
                payload,
                content_type="application/json",
                HTTP_HOST=PUBLIC,
                HTTP_STRIPE_SIGNATURE=signature,
            )
        assert answer.status_code == 200
    stored = Invoice.objects.get()
    assert (stored.company_id, stored.status) == (a.company.pk, "paid")
    assert StripeEvent.objects.filter(event_id=json.loads(payload)["id"]).count() == 1
    assert not Invoice.objects.filter(company=b.company).exists()
    # An event type billing does not use: acknowledged, stored, nothing changes.
    with django_capture_on_commit_callbacks(execute=True):
        ignored = _webhook(stripe_fake, "product.created", {"id": "prod_1", "object": "product"})
    assert ignored.status_code == 200
    assert Invoice.objects.count() == 1
    # Deep JSON is refused before Stripe's SDK parses it.
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    refused = HttpClient().post(
        "/billing/stripe/webhook/",
        deep,
        content_type="application/json",
        HTTP_HOST=PUBLIC,
        HTTP_STRIPE_SIGNATURE=stripe_fake.signed(deep),
    )
    assert refused.status_code == 400


def test_adding_a_member_adds_a_seat_to_the_paid_subscription(
    two_companies: Any,
    stripe_fake: FakeStripe,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tenants.services import team

    a, _b = two_companies
    admin = login_on_host(a.owner, a.company, a.host)
    with django_capture_on_commit_callbacks(execute=True):
        _pay(admin, a.host, stripe_fake, "team")
    owner = Membership.objects.get(company=a.company, user=a.owner)
    member = Membership.objects.create(
        company=a.company, user=User.objects.create_user(email="ro@example.com"), role="read_only"
    )
    with django_capture_on_commit_callbacks(execute=True):
        team.change_role(actor=owner, member=member, role="manager")
    subscription = Subscription.objects.get(company=a.company)
    remote = stripe_fake.subscription(subscription.stripe_subscription_id)
    assert remote["items"]["data"][0]["quantity"] == 2
    assert subscription.paid_seats == 2
    page = admin.get("/settings/billing/", HTTP_HOST=a.host).content.decode()
    assert 'id="seats-used-paid">2 / 2<' in page
    assert f"1,980{NBSP}₽" in page  # 2 seats × 990 ₽ a month
