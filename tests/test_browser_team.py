"""An owner invites a colleague in a real browser; the colleague accepts; the seat count and
the Stripe quantity follow (real web server, real Celery worker, SDK → fake → localstripe)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billing.models import Plan, Subscription
from billing.services import subscriptions
from conftest import child_env, wait_for
from tenants.models import Membership
from tenants.services import handoff
from tests.browser import start_web
from tests.fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe
from tests.stripe_fixtures import localstripe, stripe_fake

__all__ = ["localstripe", "stripe_fake"]
pytestmark = pytest.mark.browser
LINK = re.compile(r"(/invitations/[A-Za-z0-9_-]+/)")


def test_invite_accept_and_the_seat_is_billed(
    committed_companies: Any,
    run_process: Any,
    chromium_page: Any,
    stripe_fake: FakeStripe,
    tmp_path: Path,
) -> None:
    made = committed_companies("Окна Кирилла")
    plan = Plan.objects.create(
        code=f"browser-{made.company.slug}",
        name="Стандарт",
        price_per_seat=Decimal(500),
        stripe_price_id=stripe_fake.plan(amount=50000),
    )
    subscription = Subscription.objects.create(company=made.company, plan=plan)
    owner = Membership.objects.get(company=made.company, user=made.owner)
    try:
        # The company pays for its one seat already (Checkout completed).
        url = subscriptions.start_checkout(
            actor=owner, success_url="http://x/", cancel_url="http://x/", nonce="b"
        )
        session = stripe_fake.complete_checkout(url.rsplit("/", 1)[1])
        subscription.refresh_from_db()
        subscriptions.sync_from_stripe(
            subscription, stripe_fake.subscription(session["subscription"]), why="test"
        )
        _invite_and_accept(
            made=made,
            run_process=run_process,
            page=chromium_page,
            fake=stripe_fake,
            tmp_path=tmp_path,
            session=session,
        )
    finally:
        Subscription.objects.filter(company=made.company).delete()
        plan.delete()


def _invite_and_accept(
    *,
    made: Any,
    run_process: Any,
    page: Any,
    fake: FakeStripe,
    tmp_path: Path,
    session: dict[str, Any],
) -> None:
    env = child_env(
        STRIPE_SECRET_KEY=API_KEY, STRIPE_API_BASE=fake.base, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET
    )
    run_process(
        ["-m", "celery", "-A", "relata", "worker", "--pool", "solo", "--purge", "-l", "info"],
        env=env,
        log=tmp_path / "worker.log",
    )
    web_log = tmp_path / "web.log"
    base = start_web(run_process, env, web_log)
    port = base.rsplit(":", 1)[1]
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    token = handoff.issue(user=made.owner, company=made.company)
    page.goto(f"http://{made.host}:{port}/handoff/{token}/")
    page.wait_for_selector("#workspace-title")
    page.click("#nav-settings")
    page.click("#nav-team")
    page.wait_for_selector("#team-title")
    assert page.inner_text("#seats-used") == "1"
    assert page.inner_text("#seats-paid") == "1"

    page.fill("#invite-email", "nina@example.com")
    page.select_option("#invite-role", "manager")
    page.click("#invite-submit")
    page.wait_for_selector('[data-invitation="nina@example.com"]')

    # The e-mail (console backend in development) carries the link.
    wait_for(lambda: bool(LINK.search(web_log.read_text())), what="invitation e-mail")
    link = LINK.findall(web_log.read_text())[-1]

    # Nina, with no account yet, on her own phone.
    page.context.clear_cookies()
    page.goto(f"http://localhost:{port}{link}")
    page.fill("#id_full_name", "Нина Петрова")
    page.fill("#id_password", "Nina-Pass-9913")
    page.fill("#id_password2", "Nina-Pass-9913")
    page.click("#accept")
    page.wait_for_selector("#workspace-title")
    assert f"{made.company.slug}.localhost" in page.url

    member = Membership.objects.get(company=made.company, user__email="nina@example.com")
    assert member.role == "manager"
    assert member.is_active
    subscription_id = str(session["subscription"])

    def billed_two() -> bool:
        remote = fake.subscription(subscription_id)
        return bool(remote["items"]["data"][0]["quantity"] == 2)

    try:
        wait_for(billed_two, timeout=60, what="Stripe quantity 2")
    except AssertionError:
        print((tmp_path / "worker.log").read_text())  # noqa: T201
        raise
    update = fake.quantity_updates()[-1]
    assert update.idempotency_key.startswith("relata-seat-change-")

    # The owner sees two seats used and two paid.
    page.context.clear_cookies()
    token = handoff.issue(user=made.owner, company=made.company)
    page.goto(f"http://{made.host}:{port}/handoff/{token}/")
    page.wait_for_selector("#workspace-title")
    page.goto(f"http://{made.host}:{port}/settings/team/")
    assert page.inner_text("#seats-used") == "2"
    assert page.inner_text("#seats-paid") == "2"
    assert "nina@example.com" in page.inner_text("#members")
