"""Paying in a real browser on a fresh install's plans: the landing page leads to the pricing
page; the owner chooses a plan and pays on the Stripe fake's Checkout page; back on the
billing page the subscription is active; a colleague made an editor takes a seat (Stripe's
quantity follows); the invoice is listed; the owner cancels at the period's end. Real web
server, real Celery worker, real SDK → tests/fake_stripe.py (which also delivers signed
webhooks to the web server) → localstripe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from billing.models import Invoice, StripeEvent, Subscription
from conftest import child_env, wait_for
from tenants.models import Membership, User
from tenants.services import handoff
from tests.browser import (
    SIZES,
    ConsoleWatch,
    save_screenshot,
    serious_accessibility_problems,
    start_web,
)
from tests.fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe
from tests.stripe_fixtures import localstripe, stripe_fake

__all__ = ["localstripe", "stripe_fake"]
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("shipped_plans")]


def _look(page: Any, watch: ConsoleWatch, name: str, problems: dict[str, list[str]]) -> None:
    """Screenshots of the page as it is, at both sizes, checked for CSP/JS and axe problems."""
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.wait_for_load_state("networkidle")
        save_screenshot(page, f"billing-{name}-{size}")
        found = watch.take() + serious_accessibility_problems(page)
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > viewport["width"]:
            found.append(f"wider than the screen: {wide} px")
        if found:
            problems[f"{name}-{size}"] = found


def _in_language(page: Any, url: str, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": url}])


def test_choose_pay_seat_invoice_and_cancel_in_a_browser(
    # The fake first: it must outlive the companies, whose purge cancels their subscription.
    stripe_fake: FakeStripe,
    committed_companies: Any,
    run_process: Any,
    chromium_page: Any,
    tmp_path: Path,
) -> None:
    made = committed_companies("Окна Кирилла")
    colleague = Membership.objects.create(
        company=made.company,
        user=User.objects.create_user(
            email=f"nina-{made.company.slug}@example.com", full_name="Нина Петрова"
        ),
        role="read_only",
    )
    env = child_env(
        STRIPE_SECRET_KEY=API_KEY,
        STRIPE_API_BASE=stripe_fake.base,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    run_process(
        ["-m", "celery", "-A", "relata", "worker", "--pool", "solo", "--purge", "-l", "info"],
        env=env,
        log=tmp_path / "worker.log",
    )
    base = start_web(run_process, env, tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    stripe_fake.webhook_url = f"{base}/billing/stripe/webhook/"
    host = f"http://{made.host}:{port}"
    page = chromium_page
    watch = ConsoleWatch(page)
    problems: dict[str, list[str]] = {}
    first_event = StripeEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        _flow(
            made, page, watch, problems, base=base, host=host, fake=stripe_fake, colleague=colleague
        )
    except Exception:
        save_screenshot(page, "billing-failure")
        print((tmp_path / "web.log").read_text()[-6000:])  # noqa: T201
        print((tmp_path / "worker.log").read_text()[-6000:])  # noqa: T201
        raise
    finally:
        StripeEvent.objects.filter(pk__gt=first_event).delete()
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())


def _flow(
    made: Any,
    page: Any,
    watch: ConsoleWatch,
    problems: dict[str, list[str]],
    *,
    base: str,
    host: str,
    fake: FakeStripe,
    colleague: Membership,
) -> None:
    # The landing page leads to the pricing page, in both languages.
    for language in ("ru", "en"):
        _in_language(page, base, language)
        page.set_viewport_size(SIZES["laptop"])
        page.goto(f"{base}/")
        page.click("#landing-pricing a")
        page.wait_for_selector("#plans")
        assert page.locator("#plans [data-plan]").count() == 3
        _look(page, watch, f"pricing-{language}", problems)
    page.goto(f"{base}/")
    page.click("#nav-pricing")
    page.wait_for_selector("#pricing-title")
    assert "Business" in page.inner_text("#plans")  # still English: the cookie says so

    # The owner opens the billing page from Settings.
    _in_language(page, host, "ru")
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_selector("#workspace-title")
    page.set_viewport_size(SIZES["laptop"])
    page.click("#nav-settings")
    page.click("a[href='/settings/billing/']")
    page.wait_for_selector("#billing-title")
    assert page.inner_text("#plan-name") == "Команда"
    _look(page, watch, "trial-ru", problems)

    # Choose «Бизнес» and pay on the (fake) Checkout page.
    page.set_viewport_size(SIZES["laptop"])
    page.click("#pay-business")
    page.wait_for_selector("#pay")
    assert page.url.startswith(fake.base + "/_fake/checkout/")
    page.click("#pay")
    page.wait_for_selector("#billing-title")
    assert page.inner_text("#plan-name") == "Бизнес"
    assert page.inner_text("#billing-status").startswith("Активна")
    assert "Спасибо! Подписка активна." in page.inner_text(".messages")
    subscription = Subscription.objects.get(company=made.company)
    assert subscription.paid_seats == 1
    invoice = Invoice.objects.get(company=made.company)
    assert page.locator(f'[data-invoice="{invoice.stripe_invoice_id}"]').count() == 1
    assert "Оплачен" in page.inner_text("#invoices")
    assert "1\N{NO-BREAK SPACE}690\N{NO-BREAK SPACE}₽" in page.inner_text("#invoices")
    # Stripe's webhooks arrived too, were verified and processed by the worker.
    wait_for(
        lambda: StripeEvent.objects.filter(
            company=made.company, type="checkout.session.completed", state="processed"
        ).exists(),
        timeout=60,
        what="checkout.session.completed processed",
    )

    # Nina becomes an editor: a second paid seat, and Stripe's quantity follows.
    page.goto(f"{host}/settings/team/")
    member = page.locator(f'[data-member="{colleague.user.email}"]')
    member.locator("summary").first.click()
    member.locator("select[name=role]").select_option("manager")
    member.locator("form[action$='/role/'] button").click()
    page.wait_for_selector("#team-title")

    def billed_two() -> bool:
        remote = fake.subscription(subscription.stripe_subscription_id)
        return bool(remote["items"]["data"][0]["quantity"] == 2)

    wait_for(billed_two, timeout=60, what="Stripe quantity 2")
    wait_for(
        lambda: Subscription.objects.get(pk=subscription.pk).paid_seats == 2,
        timeout=30,
        what="paid seats 2 locally",
    )
    page.goto(f"{host}/settings/billing/")
    assert page.inner_text("#seats-used-paid") == "2 / 2"
    assert page.inner_text("#monthly-total") == "3\N{NO-BREAK SPACE}380\N{NO-BREAK SPACE}₽"
    assert page.inner_text("#next-payment")
    _look(page, watch, "active-ru", problems)
    _in_language(page, host, "en")
    page.goto(f"{host}/settings/billing/")
    assert page.inner_text("#plan-name") == "Business"
    _look(page, watch, "active-en", problems)

    # Cancel at the end of the period, after saying so.
    page.set_viewport_size(SIZES["phone"])
    page.click("#cancel-open")
    page.click("#cancel-confirm")
    page.wait_for_selector("#resume")
    assert "The subscription ends on" in page.inner_text(".messages")
    assert "ends at the end of the period" in page.inner_text("#billing-status")
    assert fake.subscription(subscription.stripe_subscription_id)["cancel_at_period_end"] is True
    _look(page, watch, "cancelled-en", problems)
    _in_language(page, host, "ru")
    page.goto(f"{host}/settings/billing/")
    _look(page, watch, "cancelled-ru", problems)


def test_a_fresh_install_without_stripe_keys_says_so_and_lets_a_plan_be_chosen(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    made = committed_companies("Быстрые двери")
    env = child_env()
    for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE"):
        env.pop(name, None)
    base = start_web(run_process, env, tmp_path / "web.log")
    host = f"http://{made.host}:{base.rsplit(':', 1)[1]}"
    page = chromium_page
    watch = ConsoleWatch(page)
    problems: dict[str, list[str]] = {}
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_selector("#workspace-title")
    for language in ("ru", "en"):
        _in_language(page, host, language)
        page.goto(f"{host}/settings/billing/")
        page.wait_for_selector("#test-mode")
        assert page.locator("#subscribe").count() == 0
        _look(page, watch, f"not-set-up-{language}", problems)
    # Development (DEBUG): whoever runs it is told which variables to set.
    assert "STRIPE_SECRET_KEY" in page.inner_text("#setup-hint")
    page.click("#choose-plan-start")
    page.wait_for_selector("#billing-title")
    assert page.inner_text("#plan-name") == "Start"
    assert Subscription.objects.get(company=made.company).plan.code == "start"  # type: ignore[union-attr]
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
