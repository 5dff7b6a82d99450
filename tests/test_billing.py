"""Billing against the real Stripe SDK, localstripe and our fake (tests/fake_stripe.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from celery.exceptions import Retry
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.utils import timezone, translation

from billing.models import BillingLogEntry, Plan, SeatChange, StripeEvent, Subscription
from billing.services import reconciliation, seats, subscriptions
from billing.tasks import SEAT_SYNC_RETRIES, sync_seat_change
from tenants.models import Company, Membership, User
from tenants.services import team
from tests.fake_stripe import FakeStripe
from tests.stripe_fixtures import eager_tasks, localstripe, stripe_fake
from tests.test_isolation import login_on_host

__all__ = ["eager_tasks", "localstripe", "stripe_fake"]
PUBLIC = "localhost"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def plan(stripe_fake: FakeStripe) -> Plan:
    Plan.objects.filter(is_default=True).update(is_default=False)  # the shipped default plan
    return Plan.objects.create(
        code="standard",
        name="Standard",
        price_per_seat=Decimal(500),
        currency="RUB",
        stripe_price_id=stripe_fake.plan(amount=50000),
        is_default=True,
        features=["Unlimited deals"],
    )


def webhook(fake: FakeStripe, type_: str, obj: dict[str, Any], **kwargs: Any) -> Any:
    payload = fake.event(type_, obj, **kwargs)
    return HttpClient().post(
        "/billing/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_HOST=PUBLIC,
        HTTP_STRIPE_SIGNATURE=fake.signed(payload),
    )


def deliver(capture: Any, fake: FakeStripe, type_: str, obj: dict[str, Any]) -> Any:
    with capture(execute=True):
        response = webhook(fake, type_, obj)
    assert response.status_code == 200
    return response


def subscribe(company: Any, owner: Any, fake: FakeStripe, capture: Any) -> Subscription:
    actor = Membership.objects.get(company=company, user=owner)
    url = subscriptions.start_checkout(
        actor=actor, success_url="http://x/ok", cancel_url="http://x/no", nonce="n1"
    )
    session = fake.complete_checkout(url.rsplit("/", 1)[1])
    deliver(capture, fake, "checkout.session.completed", session)
    return Subscription.objects.get(company=company)


class Team:
    """A committed company with an owner, two managers, a head of sales and a read-only."""

    def __init__(self, made: Any) -> None:
        self.company, self.host = made.company, made.host
        self.owner = Membership.objects.get(company=made.company, user=made.owner)
        slug = made.company.slug
        self.manager, self.colleague, self.head, self.viewer = (
            Membership.objects.create(
                company=made.company,
                user=User.objects.create_user(email=f"{name}-{slug}@example.com"),
                role=role,
            )
            for name, role in (
                ("m1", "manager"),
                ("m2", "manager"),
                ("head", "head"),
                ("viewer", "read_only"),
            )
        )


def test_full_lifecycle(
    committed_companies: Any,
    stripe_fake: FakeStripe,
    eager_tasks: None,
    media_root: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Committed, not in a test transaction: the final export at cancellation takes a
    snapshot in a transaction of its own, as it does in production."""
    capture = django_capture_on_commit_callbacks
    crm = Team(committed_companies("Lifecycle"))
    company = crm.company
    plan = Plan.objects.create(
        code=f"life-{company.slug}",
        name="Standard",
        price_per_seat=Decimal(500),
        stripe_price_id=stripe_fake.plan(amount=50000),
    )
    Subscription.objects.create(
        company=company, plan=plan, trial_ends_at=timezone.now() + timedelta(days=14)
    )
    try:
        _lifecycle(crm, plan, stripe_fake, capture)
    finally:
        StripeEvent.objects.filter(company=company).delete()
        Subscription.objects.filter(company=company).delete()
        plan.delete()


def _lifecycle(crm: Any, plan: Plan, stripe_fake: FakeStripe, capture: Any) -> None:
    company = crm.company
    # Trial without a card.
    subscription = subscriptions.ensure_subscription(company)
    assert subscription.plan == plan
    assert subscription.trial_ends_at is not None
    assert Company.objects.get(pk=company.pk).status == "trialing"
    admin = login_on_host(crm.owner.user, company, crm.host)
    page = admin.get("/settings/billing/", HTTP_HOST=crm.host).content.decode()
    assert 'id="subscribe"' in page
    assert "test-mode" not in page

    # Checkout: 4 paid seats (owner, two managers, head), the read-only one is free.
    response = admin.post("/settings/billing/checkout/", {"nonce": "abc"}, HTTP_HOST=crm.host)
    assert response.status_code == 302
    assert response["Location"].startswith(stripe_fake.base)
    session = stripe_fake.complete_checkout(response["Location"].rsplit("/", 1)[1])
    assert session["_quantity"] == 4
    deliver(capture, stripe_fake, "checkout.session.completed", session)
    subscription.refresh_from_db()
    assert subscription.stripe_status == "active"
    assert subscription.paid_seats == 4
    assert Company.objects.get(pk=company.pk).status == "active"
    sub_id = subscription.stripe_subscription_id

    # A seat added: invited, accepted → quantity 5 in Stripe, prorated, keyed on our change.
    fifth_email = f"fifth-{company.slug}@example.com"
    invitation = team.invite(actor=crm.owner, email=fifth_email, role="manager", link=str)
    invitation.token_hash = team.token_digest("t5")
    invitation.save()
    fifth = User.objects.create_user(email=fifth_email, password="Fifth-Pass-881")
    with capture(execute=True):
        team.accept(token="t5", user=fifth)
    update = stripe_fake.quantity_updates()[-1]
    change = SeatChange.objects.filter(company=company).latest("id")
    assert update.params["items[0][quantity]"] == "5"
    assert update.params["proration_behavior"] == "create_prorations"
    assert update.idempotency_key == f"relata-seat-change-{change.pk}"
    assert change.state == "applied"
    assert stripe_fake.subscription(sub_id)["items"]["data"][0]["quantity"] == 5
    # A read-only colleague is free: Stripe is not asked.
    calls = len(stripe_fake.quantity_updates())
    ro_email = f"ro-{company.slug}@example.com"
    ro = team.invite(actor=crm.owner, email=ro_email, role="read_only", link=str)
    ro.token_hash = team.token_digest("ro")
    ro.save()
    with capture(execute=True):
        team.accept(
            token="ro",
            user=User.objects.create_user(email=ro_email, password="Ro-Pass-88123"),
        )
    assert len(stripe_fake.quantity_updates()) == calls
    # A seat removed: the manager leaves → 4.
    with capture(execute=True):
        team.deactivate(actor=crm.owner, member=crm.manager, reassign_to=crm.colleague)
    assert stripe_fake.subscription(sub_id)["items"]["data"][0]["quantity"] == 4
    assert Subscription.objects.get(pk=subscription.pk).paid_seats == 4
    page = admin.get("/settings/team/", HTTP_HOST=crm.host).content.decode()
    assert 'id="seats-paid">4<' in page
    assert 'id="seats-read-only">2<' in page

    # The renewal fails: past_due, a banner, full access.
    stripe_fake.set_status(sub_id, "past_due")
    deliver(
        capture,
        stripe_fake,
        "invoice.payment_failed",
        {"object": "invoice", "customer": subscription.stripe_customer_id, "subscription": sub_id},
    )
    assert Company.objects.get(pk=company.pk).status == "past_due"
    home = admin.get("/", HTTP_HOST=crm.host, HTTP_ACCEPT_LANGUAGE="en")
    assert "billing-notice" in home.content.decode()
    write = admin.post("/deals/new/", {}, HTTP_HOST=crm.host)
    assert write.status_code != 403

    # Retries exhausted: suspended, read-only, nothing deleted, export still allowed.
    stripe_fake.set_status(sub_id, "unpaid")
    deliver(capture, stripe_fake, "customer.subscription.updated", stripe_fake.subscription(sub_id))
    assert Company.objects.get(pk=company.pk).status == "suspended"
    refused = admin.post("/deals/new/", {}, HTTP_HOST=crm.host, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 403
    assert "read-only" in refused.content.decode()
    htmx = admin.post("/deals/new/", {}, HTTP_HOST=crm.host, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 403
    assert htmx["HX-Refresh"] == "true"
    russian = admin.post("/deals/new/", {}, HTTP_HOST=crm.host, HTTP_ACCEPT_LANGUAGE="ru")
    assert "только для просмотра" in russian.content.decode()
    assert admin.get("/", HTTP_HOST=crm.host).status_code == 200
    # Paying and managing the team still work (the Portal answers with a redirect).
    assert admin.post("/settings/billing/portal/", HTTP_HOST=crm.host).status_code == 302

    # Paid again: active.
    stripe_fake.set_status(sub_id, "active")
    deliver(
        capture,
        stripe_fake,
        "invoice.paid",
        {"object": "invoice", "customer": subscription.stripe_customer_id, "subscription": sub_id},
    )
    assert Company.objects.get(pk=company.pk).status == "active"
    assert Subscription.objects.get(pk=subscription.pk).last_payment_at is not None
    assert admin.post("/deals/new/", {}, HTTP_HOST=crm.host).status_code != 403

    # Canceled (in the Portal): data kept for the stated period, then deletion on schedule.
    canceled = stripe_fake.call("DELETE", f"/v1/subscriptions/{sub_id}")
    deliver(capture, stripe_fake, "customer.subscription.deleted", canceled)
    company.refresh_from_db()
    assert company.status == "canceled"
    assert company.deletion_scheduled_at is not None
    assert company.deletion_scheduled_at > timezone.now() + timedelta(days=29)
    assert company.final_export
    log = list(BillingLogEntry.objects.filter(company=company).values_list("message", flat=True))
    assert any("past_due" in m for m in log)
    assert any("suspended" in m for m in log)


def test_duplicate_and_reordered_webhooks_end_in_the_same_state(
    two_companies: Any,
    stripe_fake: FakeStripe,
    plan: Plan,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    a, b = two_companies
    results = []
    for made, order in ((a, [0, 1, 2]), (b, [2, 1, 1, 0, 2])):
        subscription = subscribe(made.company, made.owner, stripe_fake, capture)
        sub_id = subscription.stripe_subscription_id
        customer = subscription.stripe_customer_id
        invoice = {"object": "invoice", "customer": customer, "subscription": sub_id}
        now = int(time.time())
        payloads = [
            stripe_fake.event("invoice.payment_failed", invoice, created=now - 60),
            stripe_fake.event(
                "customer.subscription.updated",
                {**stripe_fake.subscription(sub_id), "status": "past_due"},
                created=now - 50,
            ),
            stripe_fake.event("invoice.paid", invoice, created=now - 40),
        ]
        # Stripe's current state: paid again.
        for index in order:
            with capture(execute=True):
                response = HttpClient().post(
                    "/billing/stripe/webhook/",
                    payloads[index],
                    content_type="application/json",
                    HTTP_HOST=PUBLIC,
                    HTTP_STRIPE_SIGNATURE=stripe_fake.signed(payloads[index]),
                )
            assert response.status_code == 200  # duplicates are acknowledged too
        subscription.refresh_from_db()
        made.company.refresh_from_db()
        ids = [json.loads(p)["id"] for p in payloads]
        assert StripeEvent.objects.filter(event_id__in=ids).count() == 3
        results.append(
            (
                made.company.status,
                subscription.stripe_status,
                subscription.paid_seats,
                subscription.failed_payments,
                subscription.last_payment_at is not None,
            )
        )
    assert results[0] == results[1] == ("active", "active", 1, 1, True)


def test_forged_stale_and_unknown_webhooks(db: None, stripe_fake: FakeStripe, caplog: Any) -> None:
    payload = stripe_fake.event("invoice.paid", {"object": "invoice", "customer": "cus_nobody"})
    client = HttpClient()
    forged = client.post(
        "/billing/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_HOST=PUBLIC,
        HTTP_STRIPE_SIGNATURE=stripe_fake.signed(payload, secret="whsec_wrong"),
    )
    assert forged.status_code == 400
    stale = client.post(
        "/billing/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_HOST=PUBLIC,
        HTTP_STRIPE_SIGNATURE=stripe_fake.signed(payload, at=int(time.time()) - 301),
    )
    assert stale.status_code == 400
    assert not StripeEvent.objects.exists()
    assert "stripe webhook refused" in caplog.text
    fresh = client.post(
        "/billing/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_HOST=PUBLIC,
        HTTP_STRIPE_SIGNATURE=stripe_fake.signed(payload),
    )
    assert fresh.status_code == 200
    event = StripeEvent.objects.get()
    subscriptions.process_event(event.pk)
    event.refresh_from_db()
    assert event.state == "unknown_customer"
    assert BillingLogEntry.objects.filter(kind="failure", message__contains="cus_nobody").exists()


def test_seat_sync_retries_are_idempotent_and_failures_reach_operators(
    crm: Any,
    stripe_fake: FakeStripe,
    plan: Plan,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    subscription = subscribe(crm.a.company, crm.owner.user, stripe_fake, capture)
    sub_id = subscription.stripe_subscription_id
    # Stripe acts but the answer is lost: the retry replays the first answer.
    with capture(execute=False):
        team.change_role(actor=crm.owner, member=crm.viewer, role="manager")
    change = SeatChange.objects.filter(company=crm.a.company).latest("id")
    stripe_fake.lose_next = 1
    with pytest.raises(seats.SeatSyncError):
        seats.apply_change(change.pk)
    change.refresh_from_db()
    assert change.state == "pending"
    assert change.attempts == 1
    assert change.last_error
    seats.apply_change(change.pk)
    seats.apply_change(change.pk)  # a duplicate delivery of the task: nothing more is sent
    posts = [
        u for u in stripe_fake.quantity_updates() if u.idempotency_key == change.idempotency_key
    ]
    assert len(posts) == 2  # the lost one and its retry, with the same key
    assert stripe_fake.subscription(sub_id)["items"]["data"][0]["quantity"] == 5
    assert SeatChange.objects.get(pk=change.pk).state == "applied"

    # An older change arriving after a newer one never overwrites it.
    with capture(execute=False):
        team.change_role(actor=crm.owner, member=crm.viewer, role="read_only")
        team.change_role(actor=crm.owner, member=crm.colleague, role="read_only")
    older, newer = SeatChange.objects.filter(company=crm.a.company).order_by("id")[1:3]
    seats.apply_change(newer.pk)
    assert seats.apply_change(older.pk).state == "superseded"
    assert stripe_fake.subscription(sub_id)["items"]["data"][0]["quantity"] == 3

    # Stripe down for good: retried with backoff, then failed and visible; the member stays.
    stripe_fake.fail_next = 100
    with capture(execute=True):
        team.change_role(actor=crm.owner, member=crm.colleague, role="manager")
    failed = SeatChange.objects.filter(company=crm.a.company).latest("id")
    assert failed.state == "pending"
    assert failed.attempts == 1
    # What the worker does with the retries (countdowns aside): one attempt each.
    for retry in range(1, SEAT_SYNC_RETRIES):
        with pytest.raises(Retry):
            sync_seat_change.apply(args=[failed.pk], retries=retry)
    sync_seat_change.apply(args=[failed.pk], retries=SEAT_SYNC_RETRIES)  # the last: gives up
    failed.refresh_from_db()
    assert failed.state == "failed"
    assert failed.attempts == SEAT_SYNC_RETRIES + 1
    assert Membership.objects.get(pk=crm.colleague.pk).role == "manager"
    assert BillingLogEntry.objects.filter(kind="failure", company=crm.a.company).exists()
    stripe_fake.fail_next = 0
    # An operator can push it at once (a new change, its own key) …
    from billing.operators import services as operator_actions

    operator = User.objects.create_user(email="op-sync@example.com", is_staff=True)
    with capture(execute=False):
        operator_actions.sync_seats_now(operator=operator, company=crm.a.company)
    assert stripe_fake.subscription(sub_id)["items"]["data"][0]["quantity"] == 4
    assert stripe_fake.quantity_updates()[-1].idempotency_key != failed.idempotency_key
    # … and otherwise the nightly reconciliation repairs the drift and says so.
    # (Someone set the quantity by hand in Stripe's dashboard.)
    stripe_fake.call(
        "POST",
        f"/v1/subscriptions/{sub_id}",
        [
            ("items[0][id]", stripe_fake.subscription(sub_id)["items"]["data"][0]["id"]),
            ("items[0][quantity]", "3"),
        ],
    )
    report = reconciliation.reconcile()
    assert any("seats 3→4" in line for line in report.repaired), report
    assert stripe_fake.subscription(sub_id)["items"]["data"][0]["quantity"] == 4
    assert BillingLogEntry.objects.filter(kind="drift", company=crm.a.company).exists()


def test_reconciliation_follows_stripe_and_ends_trials(
    two_companies: Any,
    stripe_fake: FakeStripe,
    plan: Plan,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a, b = two_companies
    subscription = subscribe(a.company, a.owner, stripe_fake, django_capture_on_commit_callbacks)
    # A webhook was lost: Stripe says past_due, we still think active.
    stripe_fake.set_status(subscription.stripe_subscription_id, "past_due")
    # B never opened its billing page (no subscription row) and signed up 15 days ago.
    Company.objects.filter(pk=b.company.pk).update(created_at=timezone.now() - timedelta(days=15))
    report = reconciliation.reconcile()
    assert Company.objects.get(pk=a.company.pk).status == "past_due"
    assert Company.objects.get(pk=b.company.pk).status == "suspended"
    assert report.checked == 1
    assert len(report.repaired) == 2


def test_invoices_and_billing_are_per_company(
    two_companies: Any,
    stripe_fake: FakeStripe,
    plan: Plan,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a, b = two_companies
    subscribe(a.company, a.owner, stripe_fake, django_capture_on_commit_callbacks)
    admin_a = login_on_host(a.owner, a.company, a.host)
    page_a = admin_a.get("/settings/billing/", HTTP_HOST=a.host).content.decode()
    assert 'id="invoices"' in page_a
    assert "500\N{NO-BREAK SPACE}₽" in page_a
    admin_b = login_on_host(b.owner, b.company, b.host)
    page_b = admin_b.get(
        "/settings/billing/", HTTP_HOST=b.host, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'id="invoices"' not in page_b
    assert "No invoices yet" in page_b
    # A's admin cannot open B's billing, and B's portal link is never A's customer.
    admin_a.force_login(a.owner)
    assert admin_a.get("/settings/billing/", HTTP_HOST=b.host).status_code in (302, 404)
    assert admin_a.post("/settings/billing/portal/", HTTP_HOST=b.host).status_code in (302, 404)
    portal = admin_b.post("/settings/billing/portal/", HTTP_HOST=b.host)
    assert portal.status_code == 302
    assert "/settings/billing/" in portal["Location"]
    manager = User.objects.create_user(email="mgr-a@example.com")
    Membership.objects.create(company=a.company, user=manager, role="manager")
    assert (
        login_on_host(manager, a.company, a.host)
        .get("/settings/billing/", HTTP_HOST=a.host)
        .status_code
        == 404
    )


def test_without_keys_billing_says_test_mode_and_charges_nothing(
    crm: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    Plan.objects.filter(is_default=True).update(is_default=False)
    Plan.objects.create(code="p", name="P", price_per_seat=Decimal(300), is_default=True)
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = admin.get("/settings/billing/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="test-mode"' in page
    assert 'id="subscribe"' not in page
    refused = admin.post("/settings/billing/checkout/", HTTP_HOST=crm.a.host)
    assert refused.status_code == 302
    with django_capture_on_commit_callbacks(execute=False):
        team.change_role(actor=crm.owner, member=crm.viewer, role="manager")
    change = SeatChange.objects.latest("id")
    assert seats.apply_change(change.pk).state == "not_billed"


def test_pricing_page_is_rendered_from_plans(db: None) -> None:
    Plan.objects.create(
        code="a", name="Старт", price_per_seat=Decimal("490.00"), seat_cap=10, features=["Воронки"]
    )
    Plan.objects.create(code="hidden", name="Secret", price_per_seat=Decimal(1), is_public=False)
    page = HttpClient().get("/pricing/", HTTP_HOST=PUBLIC, HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Старт" in body
    assert "490\N{NO-BREAK SPACE}₽" in body
    assert "Воронки" in body
    assert "Secret" not in body


def test_free_period_for_a_paying_company_moves_the_next_charge_in_stripe(
    two_companies: Any,
    stripe_fake: FakeStripe,
    plan: Plan,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from billing.operators import services as operator_actions

    a, _b = two_companies
    subscription = subscribe(a.company, a.owner, stripe_fake, django_capture_on_commit_callbacks)
    operator = User.objects.create_user(email="op-free@example.com", is_staff=True)
    operator_actions.grant_free_period(operator=operator, company=a.company, days=30)
    remote = stripe_fake.subscription(subscription.stripe_subscription_id)
    subscription.refresh_from_db()
    assert subscription.free_until is not None
    assert remote["trial_end"] == int(subscription.free_until.timestamp())
    update = [r for r in stripe_fake.requests if "trial_end" in r.params][-1]
    assert update.params["proration_behavior"] == "none"
    assert update.idempotency_key.startswith("relata-free-period-")
    assert BillingLogEntry.objects.filter(company=a.company, kind="operator", actor=operator)


def test_an_ended_subscription_does_not_undo_an_operator_restoring_the_company(
    two_companies: Any,
    stripe_fake: FakeStripe,
    plan: Plan,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from billing.operators import services as operator_actions

    capture = django_capture_on_commit_callbacks
    a, _b = two_companies
    subscription = subscribe(a.company, a.owner, stripe_fake, capture)
    ended = stripe_fake.call("DELETE", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
    with capture(execute=False):  # the final export needs its own transaction (see lifecycle)
        response = webhook(stripe_fake, "customer.subscription.deleted", ended)
        assert response.status_code == 200
        subscriptions.process_event(StripeEvent.objects.latest("id").pk)
    assert Company.objects.get(pk=a.company.pk).status == "canceled"
    operator = User.objects.create_user(email="op-restore@example.com", is_staff=True)
    # It closed long after its trial: nothing of that is left.
    Subscription.objects.filter(pk=subscription.pk).update(
        trial_ends_at=timezone.now() - timedelta(days=200)
    )
    operator_actions.cancel_deletion(
        operator=operator, company=Company.objects.get(pk=a.company.pk)
    )
    # The same event again, and the nightly check: the operator's decision stands.
    with capture(execute=False):
        subscriptions.process_event(
            subscriptions.store_event(
                {**json.loads(stripe_fake.event("customer.subscription.deleted", ended))}
            ).pk  # type: ignore[union-attr]
        )
        reconciliation.reconcile()
    # Its subscription ended when it closed: read-only (the export works) until it subscribes
    # again — never a working CRM that nobody pays for.
    assert Company.objects.get(pk=a.company.pk).status == "suspended"
    # Nor does the console's "restore": nothing would pay for it.
    with pytest.raises(ValidationError, match="нет подписки или пробного периода"):
        operator_actions.restore(operator=operator, company=Company.objects.get(pk=a.company.pk))
    # A free period gives it time to decide: a trial that ends with it (the ended Stripe
    # subscription is left alone, and the daily trial check covers the company again).
    asked = len(stripe_fake.requests)
    operator_actions.grant_free_period(
        operator=operator, company=Company.objects.get(pk=a.company.pk), days=30
    )
    assert Company.objects.get(pk=a.company.pk).status == "trialing"
    assert len(stripe_fake.requests) == asked
    assert a.company.slug not in subscriptions.expire_trials(timezone.now() + timedelta(days=29))
    assert a.company.slug in subscriptions.expire_trials(timezone.now() + timedelta(days=31))
    assert Company.objects.get(pk=a.company.pk).status == "suspended"
    owner = Membership.objects.get(company=a.company, user=a.owner)
    url = subscriptions.start_checkout(
        actor=owner, success_url="http://x/ok", cancel_url="http://x/no", nonce="again"
    )
    session = stripe_fake.complete_checkout(url.rsplit("/", 1)[1])
    deliver(capture, stripe_fake, "checkout.session.completed", session)
    assert Company.objects.get(pk=a.company.pk).status == "active"


def test_a_second_checkout_reuses_the_open_page_and_is_refused_once_one_is_paid(
    two_companies: Any, stripe_fake: FakeStripe, plan: Plan
) -> None:
    a, b = two_companies
    owner = Membership.objects.get(company=a.company, user=a.owner)
    admin = User.objects.create_user(email="second-admin@example.com")
    second = Membership.objects.create(company=a.company, user=admin, role="admin")

    def checkout(actor: Membership, nonce: str) -> str:
        return subscriptions.start_checkout(
            actor=actor, success_url="http://x/ok", cancel_url="http://x/no", nonce=nonce
        )

    def created() -> int:
        return len([r for r in stripe_fake.requests if r.path == "/v1/checkout/sessions"])

    first = checkout(owner, "tab-1")
    # Another tab, another admin: the same open Checkout page, not a second one.
    assert checkout(second, "tab-2") == first
    assert created() == 1
    # Paid, but the webhook has not arrived yet: Stripe is asked, a new Checkout refused.
    stripe_fake.complete_checkout(first.rsplit("/", 1)[1])
    with pytest.raises(ValidationError):
        checkout(second, "tab-3")
    assert created() == 1
    # Company B is not affected by A's subscription or open page.
    other = checkout(Membership.objects.get(company=b.company, user=b.owner), "tab-1")
    assert other != first
    assert created() == 2


def test_an_extra_subscription_is_canceled_and_reported(
    two_companies: Any,
    stripe_fake: FakeStripe,
    plan: Plan,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from billing import stripe_gateway

    capture = django_capture_on_commit_callbacks
    a, b = two_companies
    subscription = subscribe(a.company, a.owner, stripe_fake, capture)
    kept = subscription.stripe_subscription_id
    subscribe(b.company, b.owner, stripe_fake, capture)

    def paid_elsewhere(nonce: str) -> dict[str, Any]:
        """A second Checkout that got past every guard (opened before the fix, say)."""
        session = stripe_gateway.checkout_session(
            customer=subscription.stripe_customer_id,
            price=plan.stripe_price_id,
            quantity=1,
            company_id=a.company.pk,
            success_url="http://x/ok",
            cancel_url="http://x/no",
            key=f"raw-{nonce}",
        )
        return stripe_fake.complete_checkout(session["id"])

    # Its webhook arrives: the extra one is canceled at once, ours stays.
    session = paid_elsewhere("one")
    deliver(capture, stripe_fake, "checkout.session.completed", session)
    assert stripe_fake.subscription(session["subscription"])["status"] == "canceled"
    assert stripe_fake.subscription(kept)["status"] == "active"
    subscription.refresh_from_db()
    assert subscription.stripe_subscription_id == kept

    # Its webhook is lost: the nightly check reads all the customer's subscriptions.
    lost = paid_elsewhere("two")
    report = reconciliation.reconcile()
    assert f"{a.company.slug}: extra subscription {lost['subscription']}" in report.repaired
    assert stripe_fake.subscription(lost["subscription"])["status"] == "canceled"
    assert stripe_fake.subscription(kept)["status"] == "active"
    flagged = BillingLogEntry.objects.filter(
        company=a.company, kind="failure", message__contains="second Stripe subscription"
    )
    assert flagged.count() == 2
    assert not BillingLogEntry.objects.filter(company=b.company, kind="failure").exists()
    assert Company.objects.get(pk=a.company.pk).status == "active"


def test_an_operator_closing_a_company_ends_its_stripe_subscription_at_once(
    two_companies: Any,
    stripe_fake: FakeStripe,
    plan: Plan,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from billing.operators import services as operator_actions

    capture = django_capture_on_commit_callbacks
    a, b = two_companies
    sub_a = subscribe(a.company, a.owner, stripe_fake, capture).stripe_subscription_id
    sub_b = subscribe(b.company, b.owner, stripe_fake, capture).stripe_subscription_id
    operator = User.objects.create_user(email="op-close@example.com", is_staff=True)
    # Stripe down: nothing changes, the operator is told.
    stripe_fake.fail_next = 1
    with pytest.raises(Exception, match="fake outage"):
        operator_actions.schedule_deletion(operator=operator, company=a.company)
    assert Company.objects.get(pk=a.company.pk).status == "active"
    assert stripe_fake.subscription(sub_a)["status"] == "active"

    with capture(execute=False):  # the final export runs in a transaction of its own
        operator_actions.schedule_deletion(operator=operator, company=a.company)
    assert stripe_fake.subscription(sub_a)["status"] == "canceled"
    assert Subscription.objects.get(company=a.company).stripe_status == "canceled"
    assert Company.objects.get(pk=a.company.pk).status == "canceled"
    assert BillingLogEntry.objects.filter(
        company=a.company, actor=operator, message__contains=f"{sub_a} canceled now"
    ).exists()
    assert stripe_fake.subscription(sub_b)["status"] == "active"


@contextmanager
def subscribed_committed(
    stripe_fake: FakeStripe, capture: Any, *companies: Any
) -> Iterator[list[str]]:
    """Committed companies subscribed on a plan of their own; the Stripe ids of their
    subscriptions. What the test left in billing's shared tables is removed afterwards (a
    committed test is not rolled back)."""
    shipped_default = list(Plan.objects.filter(is_default=True).values_list("pk", flat=True))
    Plan.objects.filter(pk__in=shipped_default).update(is_default=False)
    plan = Plan.objects.create(
        code=f"committed-{companies[0].company.slug}",
        name="Standard",
        price_per_seat=Decimal(500),
        stripe_price_id=stripe_fake.plan(amount=50000),
        is_default=True,
    )
    first_event = StripeEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        yield [
            subscribe(c.company, c.owner, stripe_fake, capture).stripe_subscription_id
            for c in companies
        ]
    finally:
        StripeEvent.objects.filter(pk__gt=first_event).delete()
        Subscription.objects.filter(plan=plan).delete()
        plan.delete()
        Plan.objects.filter(pk__in=shipped_default).update(is_default=True)


def test_closing_a_company_from_the_command_line_ends_its_stripe_subscription_too(
    committed_companies: Any,
    stripe_fake: FakeStripe,
    eager_tasks: None,
    media_root: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Committed: the final export reads the company's schema from another connection."""
    from django.core.management import call_command

    capture = django_capture_on_commit_callbacks
    a, b = committed_companies("Closed By Command"), committed_companies("Still Paying")
    with subscribed_committed(stripe_fake, capture, a, b) as (sub_a, sub_b):
        # Stripe down: the company is not closed (still charged, still open), and says why.
        stripe_fake.fail_next = 1
        with pytest.raises(Exception, match="fake outage"):
            call_command("schedule_company_deletion", a.company.slug, "--in-days", "30")
        assert Company.objects.get(pk=a.company.pk).status == "active"
        assert stripe_fake.subscription(sub_a)["status"] == "active"

        call_command("schedule_company_deletion", a.company.slug, "--in-days", "30")
        assert Company.objects.get(pk=a.company.pk).status == "canceled"
        assert stripe_fake.subscription(sub_a)["status"] == "canceled"
        assert BillingLogEntry.objects.filter(
            company=a.company, message__contains=f"{sub_a} canceled now"
        ).exists()
        assert stripe_fake.subscription(sub_b)["status"] == "active"
        assert Company.objects.get(pk=b.company.pk).status == "active"


def test_a_company_is_purged_only_after_its_stripe_subscription_is_canceled(
    committed_companies: Any,
    stripe_fake: FakeStripe,
    eager_tasks: None,
    media_root: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Committed: dropping a schema cannot happen inside the test's transaction."""
    from tenants.services.deletion import purge_due

    capture = django_capture_on_commit_callbacks
    a, b = committed_companies("Purged"), committed_companies("Kept")
    with subscribed_committed(stripe_fake, capture, a, b) as (sub_a, sub_b):
        # Deletion due, yet Stripe still bills (the company was closed some other way).
        Company.objects.filter(pk=a.company.pk).update(
            status="canceled", deletion_scheduled_at=timezone.now() - timedelta(minutes=1)
        )
        stripe_fake.fail_next = 1
        assert purge_due() == []  # Stripe refused: the data stays for the next run
        assert Company.objects.filter(pk=a.company.pk).exists()
        assert stripe_fake.subscription(sub_a)["status"] == "active"

        assert purge_due() == [a.company.slug]
        assert stripe_fake.subscription(sub_a)["status"] == "canceled"
        assert not Company.objects.filter(pk=a.company.pk).exists()
        assert stripe_fake.subscription(sub_b)["status"] == "active"


def test_a_failed_payment_counts_once_however_often_its_event_comes(  # noqa: PLR0917
    two_companies: Any,
    stripe_fake: FakeStripe,
    plan: Plan,
    eager_tasks: None,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from billing.operators.queries import metrics

    capture = django_capture_on_commit_callbacks
    a, b = two_companies
    subscription = subscribe(a.company, a.owner, stripe_fake, capture)
    subscribe(b.company, b.owner, stripe_fake, capture)
    sub_id = subscription.stripe_subscription_id
    stripe_fake.set_status(sub_id, "past_due")
    invoice = {
        "id": "in_renewal_1",
        "object": "invoice",
        "customer": subscription.stripe_customer_id,
        "subscription": sub_id,
        "attempt_count": 1,
    }
    before = metrics().failed_payments_30d
    stored = subscriptions.store_event(
        json.loads(stripe_fake.event("invoice.payment_failed", invoice))
    )
    assert stored is not None
    # Stripe times out while the task re-reads the subscription: the task will run again.
    api_base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    with pytest.raises(Exception, match=r"(?i)connect"):
        subscriptions.process_event(stored.pk)
    settings.STRIPE_API_BASE = api_base
    subscriptions.process_event(stored.pk)
    # The same attempt resent under another event id, and delivered twice.
    again = stripe_fake.event("invoice.payment_failed", invoice)
    for _copy in range(2):
        with capture(execute=True):
            HttpClient().post(
                "/billing/stripe/webhook/",
                again,
                content_type="application/json",
                HTTP_HOST=PUBLIC,
                HTTP_STRIPE_SIGNATURE=stripe_fake.signed(again),
            )
    assert Subscription.objects.get(pk=subscription.pk).failed_payments == 1
    assert metrics().failed_payments_30d == before + 1
    # Stripe's next retry fails too: that is a second failed payment.
    deliver(capture, stripe_fake, "invoice.payment_failed", {**invoice, "attempt_count": 2})
    assert Subscription.objects.get(pk=subscription.pk).failed_payments == 2
    assert metrics().failed_payments_30d == before + 2
    assert Subscription.objects.get(company=b.company).failed_payments == 0
    assert Company.objects.get(pk=a.company.pk).status == "past_due"


def test_an_operator_grants_credit_once_as_a_stripe_customer_balance(
    two_companies: Any,
    stripe_fake: FakeStripe,
    plan: Plan,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.test_operators import mfa_login, staff

    capture = django_capture_on_commit_callbacks
    a, b = two_companies
    customer_a = subscribe(a.company, a.owner, stripe_fake, capture).stripe_customer_id
    customer_b = subscribe(b.company, b.owner, stripe_fake, capture).stripe_customer_id
    user, secret = staff("op-credit@example.com")
    operator = mfa_login(user, secret)
    page = operator.get(f"/ops/companies/{a.company.pk}/", HTTP_HOST=PUBLIC).content.decode()
    assert 'id="ops-credit"' in page
    url = f"/ops/companies/{a.company.pk}/grant_credit/"

    for bad in ("-5", "0", "abc", "1.005", "NaN"):
        operator.post(url, {"amount": bad, "operation": f"bad-{bad}"}, HTTP_HOST=PUBLIC)
    assert stripe_fake.balance == {}

    # Stripe acts but its answer is lost; the operator submits the same form again.
    stripe_fake.lose_next = 1
    operator.post(url, {"amount": "250,50", "operation": "op-1"}, HTTP_HOST=PUBLIC)
    assert not BillingLogEntry.objects.filter(company=a.company, message__contains="credit")
    operator.post(url, {"amount": "250,50", "operation": "op-1"}, HTTP_HOST=PUBLIC)
    again = operator.post(url, {"amount": "250,50", "operation": "op-1"}, HTTP_HOST=PUBLIC)
    assert again.status_code == 302
    (credit,) = stripe_fake.balance[customer_a]
    assert credit["amount"] == -25050
    assert credit["currency"] == "rub"
    calls = [r for r in stripe_fake.requests if r.path.endswith("/balance_transactions")]
    assert {r.idempotency_key for r in calls} == {f"relata-credit-{a.company.pk}-op-1"}
    audit = BillingLogEntry.objects.filter(company=a.company, kind="operator", actor=user)
    assert audit.filter(message__contains=credit["id"]).count() == 1
    assert customer_b not in stripe_fake.balance

    # A company with no Stripe customer gets a clear refusal, nothing is sent.
    Subscription.objects.filter(company=b.company).update(stripe_customer_id="")
    refused = operator.post(
        f"/ops/companies/{b.company.pk}/grant_credit/",
        {"amount": "100", "operation": "op-2"},
        HTTP_HOST=PUBLIC,
        follow=True,
    )
    assert '<li class="error">' in refused.content.decode()
    assert customer_b not in stripe_fake.balance


def test_two_admins_starting_checkout_at_the_same_moment_get_one_session(
    committed_companies: Any, stripe_fake: FakeStripe
) -> None:
    """Committed: each admin's request runs in its own thread and database connection."""
    import threading

    from django.db import connection as db_connection

    made = committed_companies("Two Tabs")
    company = made.company
    plan = Plan.objects.create(
        code=f"tabs-{company.slug}",
        name="Standard",
        price_per_seat=Decimal(500),
        stripe_price_id=stripe_fake.plan(amount=50000),
    )
    Subscription.objects.create(
        company=company, plan=plan, trial_ends_at=timezone.now() + timedelta(days=14)
    )
    owner = Membership.objects.get(company=company, user=made.owner)
    second = Membership.objects.create(
        company=company,
        user=User.objects.create_user(email=f"tab2-{company.slug}@example.com"),
        role="admin",
    )
    urls: list[str] = []
    start = threading.Barrier(2)

    def admin(actor: Membership, nonce: str) -> None:
        try:
            start.wait(timeout=10)
            urls.append(
                subscriptions.start_checkout(
                    actor=actor, success_url="http://x/ok", cancel_url="http://x/no", nonce=nonce
                )
            )
        finally:
            db_connection.close()

    try:
        threads = [
            threading.Thread(target=admin, args=(owner, "tab-a")),
            threading.Thread(target=admin, args=(second, "tab-b")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(urls) == 2
        assert urls[0] == urls[1]
        created = [r for r in stripe_fake.requests if r.path == "/v1/checkout/sessions"]
        assert len(created) == 1
    finally:
        Subscription.objects.filter(company=company).delete()
        plan.delete()
